package proto

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"slices"
)

// replyBufSize is a ReplyReader's buffer, the most one read takes from a
// node: as large as nutcracker's mbuf, so that a read takes several
// pipelined replies of kilobyte values at once. A proxy has few upstream
// connections, so it costs little memory.
const replyBufSize = 16 << 10

// ReplyReader reads the replies of an upstream memcached through a fixed
// 16 KiB buffer. Reply lines longer than the buffer are malformed; value
// blocks larger than it are read straight into the caller's slice.
type ReplyReader struct {
	rd          io.Reader
	maxItemSize int
	buf         []byte
	r, w        int   // buf[r:w] is buffered and not yet consumed
	err         error // sticky read error
}

// NewReplyReader returns a ReplyReader of replies from rd whose values are
// at most maxItemSize bytes (zero or negative: DefaultMaxItemSize).
func NewReplyReader(rd io.Reader, maxItemSize int) *ReplyReader {
	if maxItemSize <= 0 {
		maxItemSize = DefaultMaxItemSize
	}
	return &ReplyReader{rd: rd, maxItemSize: maxItemSize, buf: make([]byte, replyBufSize)}
}

// ReadReply reads one complete reply to a request of command cmd (not
// quit, which has none) and
// appends its bytes, unchanged, to dst. values is the number of VALUE
// blocks (hits) of a retrieval. Error replies ("ERROR", "CLIENT_ERROR ...",
// "SERVER_ERROR ...") are replies, not errors. A non-nil err is an I/O
// failure or, wrapping ErrMalformedReply, a reply that does not answer cmd;
// either way the connection must be closed.
func (r *ReplyReader) ReadReply(dst []byte, cmd Command) (out []byte, values int, err error) {
	line, err := r.readLine()
	if err != nil {
		return dst, 0, err
	}
	switch {
	case cmd.Retrieval():
		return r.readValues(dst, line)
	case cmd == CmdStats:
		return r.readStats(dst, line)
	case isErrorLine(line) || answers(cmd, line):
		return append(dst, line...), 0, nil
	}
	return dst, 0, malformed(cmd, line)
}

// answers reports whether the single line is a reply, other than an error,
// to cmd.
func answers(cmd Command, line []byte) bool {
	switch cmd {
	case CmdSet, CmdAdd, CmdReplace, CmdAppend, CmdPrepend, CmdCas:
		return bytes.Equal(line, ReplyStored) || bytes.Equal(line, ReplyNotStored) ||
			bytes.Equal(line, ReplyExists) || bytes.Equal(line, ReplyNotFound)
	case CmdDelete:
		return bytes.Equal(line, ReplyDeleted) || bytes.Equal(line, ReplyNotFound)
	case CmdIncr, CmdDecr:
		if bytes.Equal(line, ReplyNotFound) {
			return true
		}
		_, ok := parseDigits(line[:len(line)-2])
		return ok
	case CmdTouch:
		return bytes.Equal(line, ReplyTouched) || bytes.Equal(line, ReplyNotFound)
	case CmdFlushAll, CmdVerbosity:
		return bytes.Equal(line, ReplyOK)
	case CmdVersion:
		return bytes.HasPrefix(line, []byte("VERSION "))
	}
	return false
}

// readValues reads a retrieval reply whose first line is line: VALUE
// blocks up to END, or an error line.
func (r *ReplyReader) readValues(dst, line []byte) ([]byte, int, error) {
	values := 0
	for {
		if bytes.Equal(line, ReplyEnd) || isErrorLine(line) {
			return append(dst, line...), values, nil
		}
		_, n, ok := parseValueLine(line)
		if !ok || n > r.maxItemSize {
			return dst, values, malformed(CmdGet, line)
		}
		dst = append(dst, line...)
		var err error
		if dst, err = r.readBlock(dst, n+2); err != nil {
			return dst, values, err
		}
		if !bytes.HasSuffix(dst, crlf) {
			return dst, values, fmt.Errorf("%w: value block not ending in \\r\\n", ErrMalformedReply)
		}
		values++
		if line, err = r.readLine(); err != nil {
			return dst, values, err
		}
	}
}

// readStats reads a stats reply whose first line is line: STAT lines up to
// END, or an error line.
func (r *ReplyReader) readStats(dst, line []byte) ([]byte, int, error) {
	for {
		if bytes.Equal(line, ReplyEnd) || isErrorLine(line) {
			return append(dst, line...), 0, nil
		}
		if !bytes.HasPrefix(line, []byte("STAT ")) {
			return dst, 0, malformed(CmdStats, line)
		}
		dst = append(dst, line...)
		var err error
		if line, err = r.readLine(); err != nil {
			return dst, 0, err
		}
	}
}

// readLine returns the next line, which must end in "\r\n" and fit in buf.
// It is valid until the next read.
func (r *ReplyReader) readLine() ([]byte, error) {
	scanned := r.r
	for {
		if i := bytes.IndexByte(r.buf[scanned:r.w], '\n'); i >= 0 {
			end := scanned + i + 1
			line := r.buf[r.r:end]
			r.r = end
			if len(line) < 2 || line[len(line)-2] != '\r' {
				return nil, fmt.Errorf("%w: line not ending in \\r\\n", ErrMalformedReply)
			}
			return line, nil
		}
		if r.w == len(r.buf) {
			if r.r == 0 {
				return nil, fmt.Errorf("%w: line longer than %d bytes", ErrMalformedReply, len(r.buf))
			}
			r.w = copy(r.buf, r.buf[r.r:r.w])
			r.r = 0
		}
		scanned = r.w
		if err := r.fill(r.w > r.r); err != nil {
			return nil, err
		}
	}
}

// readBlock appends the next n bytes to dst. Blocks of at least a buffer's
// size that start at an empty buffer are read straight into dst.
func (r *ReplyReader) readBlock(dst []byte, n int) ([]byte, error) {
	for n > 0 {
		if r.r == r.w {
			r.r, r.w = 0, 0
			if n >= len(r.buf) {
				if r.err != nil {
					return dst, unexpected(r.err)
				}
				dst = slices.Grow(dst, n)
				got, err := io.ReadFull(r.rd, dst[len(dst):len(dst)+n])
				dst = dst[:len(dst)+got]
				if err != nil {
					r.err = unexpected(err)
					return dst, r.err
				}
				return dst, nil
			}
			if err := r.fill(true); err != nil {
				return dst, err
			}
		}
		k := min(n, r.w-r.r)
		dst = append(dst, r.buf[r.r:r.r+k]...)
		r.r += k
		n -= k
	}
	return dst, nil
}

// fill reads once into buf[w:], which must not be empty. within says
// whether a reply has begun, making io.EOF unexpected.
func (r *ReplyReader) fill(within bool) error {
	if r.err == nil {
		for range maxEmptyReads {
			n, err := r.rd.Read(r.buf[r.w:])
			r.w += n
			if err != nil {
				r.err = err
				if n > 0 {
					return nil
				}
				break
			}
			if n > 0 {
				return nil
			}
		}
		if r.err == nil {
			r.err = io.ErrNoProgress
		}
	}
	if within {
		return unexpected(r.err)
	}
	return r.err
}

// isErrorLine reports whether line is one of memcached's error replies.
func isErrorLine(line []byte) bool {
	return bytes.Equal(line, ReplyError) ||
		bytes.HasPrefix(line, []byte("ERROR ")) ||
		bytes.HasPrefix(line, []byte("CLIENT_ERROR ")) ||
		bytes.HasPrefix(line, []byte("SERVER_ERROR "))
}

// malformed describes an unexpected reply line to cmd, quoting its start.
func malformed(cmd Command, line []byte) error {
	return fmt.Errorf("%w to %s: %q", ErrMalformedReply, cmd, line[:min(len(line), 40)])
}

// NextValue splits the first "VALUE <key> <flags> <bytes> [<cas>]\r\n
// <data>\r\n" block off b (a retrieval reply as ReadReply returned it),
// returning its key, the whole block, and the rest; ok is false when b does
// not start with a whole VALUE block (e.g. at "END\r\n").
func NextValue(b []byte) (key, block, rest []byte, ok bool) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return nil, nil, nil, false
	}
	key, n, ok := parseValueLine(b[:i+1])
	if !ok {
		return nil, nil, nil, false
	}
	end := i + 1 + n + 2
	if end > len(b) || !bytes.Equal(b[end-2:end], crlf) {
		return nil, nil, nil, false
	}
	return key, b[:end], b[end:], true
}

// parseValueLine parses "VALUE <key> <flags> <bytes> [<cas>]\r\n" as
// memcached writes it, single-spaced, returning the key and the length of
// the data that follows (without its "\r\n").
func parseValueLine(line []byte) (key []byte, n int, ok bool) {
	rest, ok := bytes.CutPrefix(line, []byte("VALUE "))
	if !ok {
		return nil, 0, false
	}
	rest, ok = bytes.CutSuffix(rest, crlf)
	if !ok {
		return nil, 0, false
	}
	key, rest, ok = bytes.Cut(rest, []byte{' '})
	if !ok || len(key) == 0 || len(key) > MaxKeyLength {
		return nil, 0, false
	}
	flags, rest, ok := bytes.Cut(rest, []byte{' '})
	if f, fok := parseDigits(flags); !ok || !fok || f > math.MaxUint32 {
		return nil, 0, false
	}
	size, cas, hasCAS := bytes.Cut(rest, []byte{' '})
	if hasCAS {
		if _, ok := parseDigits(cas); !ok {
			return nil, 0, false
		}
	}
	v, ok := parseDigits(size)
	if !ok || v > math.MaxInt32 {
		return nil, 0, false
	}
	return key, int(v), true
}

// parseDigits parses an unsigned decimal without sign, as memcached writes
// numbers.
func parseDigits(b []byte) (uint64, bool) {
	if len(b) == 0 || b[0] < '0' || b[0] > '9' {
		return 0, false
	}
	return parseUint(b)
}
