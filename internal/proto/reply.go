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
// quit, which has none), appends its bytes, unchanged, to dst, and records
// in res what it found: the status, and for a retrieval each VALUE block
// with the index in keys of the key it answers. keys are the keys a
// retrieval asked for, in the order sent; a key asked twice may be
// answered twice. Error replies ("ERROR", "CLIENT_ERROR ...",
// "SERVER_ERROR ...") are replies, not errors. A non-nil err is an I/O
// failure or, wrapping ErrMalformedReply, a reply that does not answer
// cmd, including a value for a key not asked for (or out of the asked
// order), which means the connection has lost track of which reply is
// whose; either way the connection must be closed. A meta reply's status
// is its code (StatusVA, StatusHD, ...); for CmdMn ReadReply reads every
// reply up to and including "MN\r\n", the answer to quiet meta requests
// followed by mn.
func (r *ReplyReader) ReadReply(dst []byte, cmd Command, keys [][]byte, res *Result) (out []byte, err error) {
	res.Status, res.Values = 0, res.Values[:0]
	line, err := r.readLine()
	if err != nil {
		return dst, err
	}
	switch {
	case cmd.Retrieval():
		return r.readValues(dst, line, cmd, keys, res)
	case cmd.Meta():
		return r.readMeta(dst, line, cmd, res)
	case cmd == CmdStats:
		return r.readStats(dst, line, res)
	}
	if res.Status = lineStatus(cmd, line); res.Status != 0 {
		return append(dst, line...), nil
	}
	return dst, malformed(cmd, line)
}

// lineStatus returns the status of line as the one-line reply to cmd: an
// error line, or a reply cmd can have; zero for any other line.
func lineStatus(cmd Command, line []byte) Status {
	if st := errorStatus(line); st != 0 {
		return st
	}
	switch cmd {
	case CmdSet, CmdAdd, CmdReplace, CmdAppend, CmdPrepend, CmdCas:
		switch {
		case bytes.Equal(line, ReplyStored):
			return StatusStored
		case bytes.Equal(line, ReplyNotStored):
			return StatusNotStored
		case bytes.Equal(line, ReplyExists):
			return StatusExists
		case bytes.Equal(line, ReplyNotFound):
			return StatusNotFound
		}
	case CmdDelete:
		switch {
		case bytes.Equal(line, ReplyDeleted):
			return StatusDeleted
		case bytes.Equal(line, ReplyNotFound):
			return StatusNotFound
		}
	case CmdIncr, CmdDecr:
		if bytes.Equal(line, ReplyNotFound) {
			return StatusNotFound
		}
		if _, ok := parseDigits(line[:len(line)-2]); ok {
			return StatusNumber
		}
	case CmdTouch:
		switch {
		case bytes.Equal(line, ReplyTouched):
			return StatusTouched
		case bytes.Equal(line, ReplyNotFound):
			return StatusNotFound
		}
	case CmdFlushAll, CmdVerbosity:
		if bytes.Equal(line, ReplyOK) {
			return StatusOK
		}
	case CmdVersion:
		if bytes.HasPrefix(line, []byte("VERSION ")) {
			return StatusVersion
		}
	}
	return 0
}

// errForeignValue is a retrieval reply holding a value for a key that its
// request did not ask for, or not in the order asked.
var errForeignValue = fmt.Errorf("%w: value for a key not asked for", ErrMalformedReply)

// readValues reads a retrieval reply whose first line is line: VALUE
// blocks up to END, or an error line. Each block must answer one of keys,
// after the key the block before it answered: memcached answers in the
// order asked.
func (r *ReplyReader) readValues(dst, line []byte, cmd Command, keys [][]byte, res *Result) ([]byte, error) {
	next := 0 // keys[next:] are the keys a block may still answer
	for {
		if bytes.Equal(line, ReplyEnd) {
			res.Status = StatusEnd
			return append(dst, line...), nil
		}
		if res.Status = errorStatus(line); res.Status != 0 {
			return append(dst, line...), nil
		}
		key, n, ok := parseValueLine(line)
		if !ok || n > r.maxItemSize {
			return dst, malformed(cmd, line)
		}
		i := next
		for i < len(keys) && !bytes.Equal(keys[i], key) {
			i++
		}
		if i == len(keys) {
			return dst, errForeignValue
		}
		next = i + 1
		start := len(dst)
		dst = append(dst, line...)
		var err error
		if dst, err = r.readBlock(dst, n+2); err != nil {
			return dst, err
		}
		if !bytes.HasSuffix(dst, crlf) {
			return dst, fmt.Errorf("%w: value block not ending in \\r\\n", ErrMalformedReply)
		}
		res.Values = append(res.Values, Value{Key: i, Start: start, End: len(dst)})
		if line, err = r.readLine(); err != nil {
			return dst, err
		}
	}
}

// readStats reads a stats reply whose first line is line: STAT lines up to
// END, or an error line.
func (r *ReplyReader) readStats(dst, line []byte, res *Result) ([]byte, error) {
	for {
		if bytes.Equal(line, ReplyEnd) {
			res.Status = StatusEnd
			return append(dst, line...), nil
		}
		if res.Status = errorStatus(line); res.Status != 0 {
			return append(dst, line...), nil
		}
		if !bytes.HasPrefix(line, []byte("STAT ")) {
			return dst, malformed(CmdStats, line)
		}
		dst = append(dst, line...)
		var err error
		if line, err = r.readLine(); err != nil {
			return dst, err
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

// errorStatus returns the status of line if it is one of memcached's
// error replies, else zero.
func errorStatus(line []byte) Status {
	switch {
	case bytes.Equal(line, ReplyError) || bytes.HasPrefix(line, []byte("ERROR ")):
		return StatusError
	case bytes.HasPrefix(line, []byte("CLIENT_ERROR ")):
		return StatusClientError
	case bytes.HasPrefix(line, []byte("SERVER_ERROR ")):
		return StatusServerError
	}
	return 0
}

// malformed describes an unexpected reply line to cmd, quoting its start.
func malformed(cmd Command, line []byte) error {
	return fmt.Errorf("%w to %s: %q", ErrMalformedReply, cmd, line[:min(len(line), 40)])
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
