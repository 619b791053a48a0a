package proto

import "strconv"

// Replies, as memcached writes them. They are shared: do not modify them.
var (
	ReplyEnd       = []byte("END\r\n")
	ReplyOK        = []byte("OK\r\n")
	ReplyError     = []byte("ERROR\r\n")
	ReplyStored    = []byte("STORED\r\n")
	ReplyNotStored = []byte("NOT_STORED\r\n")
	ReplyExists    = []byte("EXISTS\r\n")
	ReplyNotFound  = []byte("NOT_FOUND\r\n")
	ReplyDeleted   = []byte("DELETED\r\n")
	ReplyTouched   = []byte("TOUCHED\r\n")
	ReplyMN        = []byte("MN\r\n")
)

// AppendStat appends the statistics line "STAT <name> <value>\r\n".
func AppendStat(dst []byte, name, value string) []byte {
	dst = appendStatName(dst, name)
	dst = append(dst, value...)
	return append(dst, "\r\n"...)
}

// AppendStatInt appends "STAT <name> <value>\r\n" for a signed number.
func AppendStatInt(dst []byte, name string, value int64) []byte {
	dst = appendStatName(dst, name)
	dst = strconv.AppendInt(dst, value, 10)
	return append(dst, "\r\n"...)
}

// AppendStatUint appends "STAT <name> <value>\r\n" for an unsigned number.
func AppendStatUint(dst []byte, name string, value uint64) []byte {
	dst = appendStatName(dst, name)
	dst = strconv.AppendUint(dst, value, 10)
	return append(dst, "\r\n"...)
}

func appendStatName(dst []byte, name string) []byte {
	dst = append(dst, "STAT "...)
	dst = append(dst, name...)
	return append(dst, ' ')
}

// AppendVersion appends "VERSION <version>\r\n".
func AppendVersion(dst []byte, version string) []byte {
	dst = append(dst, "VERSION "...)
	dst = append(dst, version...)
	return append(dst, "\r\n"...)
}
