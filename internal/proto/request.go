package proto

import (
	"math"
	"strconv"
)

// Request is one parsed client request. Its byte slices point into the
// Reader's buffers and are valid only until the next Read.
type Request struct {
	// Cmd is the request's verb.
	Cmd Command
	// Keys holds every key of a retrieval in client order, or the one key
	// of a storage, delete, incr, decr, touch or meta command (for a meta
	// command with the b flag, the decoded key: what memcached stores and
	// routing hashes); none for others.
	Keys [][]byte
	// Args holds the tokens after the verb for commands without a key
	// (flush_all, verbosity, stats, version, quit), without a final
	// "noreply"; for a meta command, every token after the verb as sent
	// (the key as sent, an ms's data length, then the flags), but for me
	// only the key and a "b"; nil for the others, whose arguments are the
	// typed fields.
	Args [][]byte
	// NoReply is set when the request ended in "noreply": the client wants
	// no answer.
	NoReply bool
	// Quiet is set when a meta command has the q flag: the client does
	// not want its nominal reply (see QuietMode). Errors are still shown.
	Quiet bool
	// Base64Key is set when a meta command has the b flag: its key is
	// base64, and Keys[0] holds it decoded.
	Base64Key bool
	// MetaCAS is set when a meta command has the C flag: the node compares
	// it with the item's CAS unique (see FirstHomeOnly).
	MetaCAS bool
	// metaMode is a meta command's M token's mode, 0 without one.
	metaMode byte
	// Data is a storage command's or an ms's data block followed by "\r\n".
	Data []byte
	// Flags is a storage command's client flags.
	Flags uint32
	// Exptime is the expiration time of a storage command, touch, gat or
	// gats, and the delay of flush_all.
	Exptime int32
	// CAS is the unique value of a cas command.
	CAS uint64
	// Delta is the amount of an incr or decr.
	Delta uint64
}

// reset clears r for reuse, keeping the capacity of its slices.
func (r *Request) reset() {
	*r = Request{Keys: r.Keys[:0], Args: r.Args[:0]}
}

// AppendUpstream appends r as sent to a memcached node: the command line
// normalised to single spaces, plain numbers and "\r\n", without "noreply" (so every
// forwarded request gets exactly one reply, which the proxy drops for
// noreply requests), then the data block for storage commands. A meta
// command keeps its flags but q (see QuietMode); mn is not sent upstream.
func (r *Request) AppendUpstream(dst []byte) []byte {
	switch {
	case r.Cmd.Meta():
		return r.appendMeta(dst)
	case r.Cmd.Retrieval():
		return r.AppendRetrieval(dst, r.Keys)
	case r.Cmd.Storage():
		dst = append(dst, r.Cmd.String()...)
		dst = append(dst, ' ')
		dst = append(dst, r.Keys[0]...)
		dst = append(dst, ' ')
		dst = strconv.AppendUint(dst, uint64(r.Flags), 10)
		dst = append(dst, ' ')
		dst = strconv.AppendInt(dst, int64(r.Exptime), 10)
		dst = append(dst, ' ')
		dst = strconv.AppendInt(dst, int64(len(r.Data)-2), 10)
		if r.Cmd == CmdCas {
			dst = append(dst, ' ')
			dst = strconv.AppendUint(dst, r.CAS, 10)
		}
		dst = append(dst, "\r\n"...)
		return append(dst, r.Data...)
	}
	dst = append(dst, r.Cmd.String()...)
	switch r.Cmd {
	case CmdDelete:
		dst = append(dst, ' ')
		dst = append(dst, r.Keys[0]...)
	case CmdIncr, CmdDecr:
		dst = append(dst, ' ')
		dst = append(dst, r.Keys[0]...)
		dst = append(dst, ' ')
		dst = strconv.AppendUint(dst, r.Delta, 10)
	case CmdTouch:
		dst = append(dst, ' ')
		dst = append(dst, r.Keys[0]...)
		dst = append(dst, ' ')
		dst = strconv.AppendInt(dst, int64(r.Exptime), 10)
	case CmdFlushAll:
		// The delay as a plain number: the client's may be padded
		// with zeros past MaxNodeLine.
		if len(r.Args) > 0 {
			dst = append(dst, ' ')
			dst = strconv.AppendInt(dst, int64(r.Exptime), 10)
		}
	default:
		for _, a := range r.Args {
			dst = append(dst, ' ')
			dst = append(dst, a...)
		}
	}
	return append(dst, "\r\n"...)
}

// KeyRoom returns how many bytes of keys, each counted with the space
// before it, one line of r's retrieval may name to a node: MaxNodeLine
// less the rest of a gat or gats line, no limit for get and gets, whose
// lines memcached reads whatever their length.
func (r *Request) KeyRoom() int {
	if !r.Cmd.touches() {
		return math.MaxInt
	}
	var num [12]byte
	return MaxNodeLine - len(r.Cmd.String()) - len(strconv.AppendInt(num[:0], int64(r.Exptime), 10)) - len(" \r\n")
}

// AppendRetrieval appends a retrieval line of r's verb (with r's exptime for
// gat and gats) asking only for keys. r must be a retrieval.
func (r *Request) AppendRetrieval(dst []byte, keys [][]byte) []byte {
	dst = append(dst, r.Cmd.String()...)
	if r.Cmd.touches() {
		dst = append(dst, ' ')
		dst = strconv.AppendInt(dst, int64(r.Exptime), 10)
	}
	for _, k := range keys {
		dst = append(dst, ' ')
		dst = append(dst, k...)
	}
	return append(dst, "\r\n"...)
}

// AppendInvalidate appends the request that deletes the old value of r, a
// set or ms the Reader refused as too large (its Error has Invalidate),
// and returns the command whose reply to read: memcached drops that value
// so that a later read cannot see it stale. An ms's key may be binary, so
// it is deleted with md and the key as the client sent it.
func (r *Request) AppendInvalidate(dst []byte) ([]byte, Command) {
	if r.Cmd == CmdMs {
		dst = append(dst, "md "...)
		dst = append(dst, r.Args[0]...)
		if r.Base64Key {
			dst = append(dst, " b"...)
		}
		return append(dst, "\r\n"...), CmdMd
	}
	dst = append(dst, "delete "...)
	dst = append(dst, r.Keys[0]...)
	return append(dst, "\r\n"...), CmdDelete
}
