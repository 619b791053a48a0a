package proto

import (
	"bytes"
	"io"
	"sync"
)

const (
	// bufSize is the fixed read buffer of every connection.
	bufSize = 4 << 10
	// keepScratch is the most scratch memory (for long lines, large data
	// blocks, many tokens) a Reader keeps between requests, so that idle
	// connections stay small.
	keepScratch = 16 << 10
	// maxEmptyReads bounds successive reads returning no data and no error.
	maxEmptyReads = 100
	// binaryMagic is the first byte of every binary protocol request.
	binaryMagic = 0x80
)

// Reader parses requests from a client connection through a fixed 4 KiB
// buffer. Lines longer than the buffer accumulate in a scratch buffer up to
// Limits.MaxLineLength, and data blocks larger than it are read straight
// into a scratch buffer of their declared size once that size has been
// checked against Limits.MaxItemSize.
type Reader struct {
	rd   io.Reader
	lim  Limits
	buf  []byte
	r, w int   // buf[r:w] is buffered and not yet consumed
	err  error // sticky read error

	// swallow counts bytes of a refused data block still to be discarded.
	swallow int

	long []byte // a line longer than buf
	data []byte // a data block longer than buf
	tok  tokens // the current line's tokens

	started bool // a line has been read: the binary magic byte no longer counts

	key64  [maxDecodedKey]byte // the decoded key of a meta command with the b flag
	key64n int                 // its length
}

// NewReader returns a Reader of requests from rd within lim (zero fields
// take their defaults).
func NewReader(rd io.Reader, lim Limits) *Reader {
	return &Reader{rd: rd, lim: lim.withDefaults()}
}

// bufPool holds the read buffers of Readers that have none while idle.
var bufPool = sync.Pool{New: func() any { return new([bufSize]byte) }}

// Release gives the read buffer back to a shared pool when nothing is
// buffered, so that an idle connection holds none; the next Read takes one
// again. It reports whether the Reader now holds no buffer. The request
// last read must not be used after a Release that returned true: its keys
// and data may be in that buffer.
func (r *Reader) Release() bool {
	if r.buf == nil {
		return true
	}
	if r.r != r.w || r.swallow > 0 || r.err != nil || len(r.buf) != bufSize {
		return false
	}
	bufPool.Put((*[bufSize]byte)(r.buf))
	r.buf = nil
	r.r, r.w = 0, 0
	return true
}

// Buffered reports how many bytes are buffered and not yet parsed; the
// proxy flushes its replies when it is 0.
func (r *Reader) Buffered() int {
	return max(r.w-r.r-r.swallow, 0)
}

// Read parses the next request into req. A *Error means: write its Reply to
// the client, then close the connection if its Close is set, else go on
// reading. Any other error is an I/O error (io.EOF at a request boundary,
// io.ErrUnexpectedEOF within one, a reset): close the connection.
//
// One refusal still fills req: a set over the max item size leaves its
// command and (valid) key in req.Cmd and req.Keys[0], because memcached
// then drops the key's old value so that it cannot be read stale; a proxy
// deletes the key to do the same.
func (r *Reader) Read(req *Request) error {
	req.reset()
	r.dropScratch()
	if r.buf == nil {
		r.buf = bufPool.Get().(*[bufSize]byte)[:]
	}
	if err := r.discard(); err != nil {
		return err
	}
	line, err := r.readLine()
	if err != nil {
		return err
	}
	// Remember where the line is: reading a data block may move it.
	lineInBuf := len(r.long) == 0
	lineStart := r.r - len(line)

	content := trimLineEnd(line)
	r.tok.split(content, r.tokenLimit())
	need, rerr := r.parse(content, req)
	if need > 0 && rerr != nil {
		// A refused storage command whose data block memcached would have
		// read: skip the block too, without buffering it.
		r.swallow = need
		if rerr.Invalidate {
			r.fillInvalidated(content, req)
		}
		return rerr
	}
	if rerr != nil {
		return rerr
	}
	if need > 0 {
		data, err := r.readData(need, lineInBuf, &lineStart)
		if err != nil {
			return err
		}
		if !bytes.HasSuffix(data, crlf) {
			return errBadDataChunk.get(req.NoReply)
		}
		req.Data = data
	}
	if lineInBuf {
		content = r.buf[lineStart : lineStart+len(content)]
	}
	r.tok.fill(content, req, r.key64[:r.key64n])
	return nil
}

// tokenLimit is how many tokens of a line split keeps.
func (r *Reader) tokenLimit() int { return max(r.lim.MaxKeys+2, minTokens) }

// fillInvalidated sets the key of a set or ms refused as too large, whose
// old value the caller must delete: Keys[0] for a set (when the key is
// valid), the whole request as for an accepted ms. memcached keeps the old
// value of the other storage commands.
func (r *Reader) fillInvalidated(line []byte, req *Request) {
	switch req.Cmd {
	case CmdMs:
		r.tok.fill(line, req, r.key64[:r.key64n])
	case CmdSet:
		if key := r.tok.at(line, 1); validKey(key) {
			req.Keys = append(req.Keys, key)
		}
	}
}

// dropScratch releases scratch buffers grown beyond keepScratch by the
// previous request.
func (r *Reader) dropScratch() {
	if cap(r.long) > keepScratch {
		r.long = nil
	}
	if cap(r.data) > keepScratch {
		r.data = nil
	}
	r.tok.shrink()
}

// discard skips what is left of a refused data block.
func (r *Reader) discard() error {
	for r.swallow > 0 {
		if r.r == r.w {
			r.r, r.w = 0, 0
			if err := r.fill(); err != nil {
				return unexpected(err)
			}
		}
		k := min(r.swallow, r.w-r.r)
		r.r += k
		r.swallow -= k
	}
	return nil
}

// readLine returns the next line, up to and including its '\n', from buf
// or, when longer than buf, from r.long. It consumes the line.
func (r *Reader) readLine() ([]byte, error) {
	r.long = r.long[:0]
	if r.r == r.w {
		r.r, r.w = 0, 0
		if err := r.fill(); err != nil {
			return nil, err
		}
	}
	if !r.started {
		// Like memcached, only a connection's first byte can switch it to
		// the binary protocol; later it is just an unknown command.
		r.started = true
		if r.buf[r.r] == binaryMagic {
			return nil, errBinary
		}
	}
	scanned := r.r
	for {
		if i := bytes.IndexByte(r.buf[scanned:r.w], '\n'); i >= 0 {
			end := scanned + i + 1
			line := r.buf[r.r:end]
			if len(r.long) > 0 {
				r.long = append(r.long, line...)
				line = r.long
			}
			r.r = end
			if len(trimLineEnd(line)) > r.lim.MaxLineLength {
				return nil, errLineTooLong
			}
			return line, nil
		}
		// Without its '\n', a line of MaxLineLength+2 bytes is too long
		// whatever comes next.
		if len(r.long)+r.w-r.r >= r.lim.MaxLineLength+2 {
			return nil, errLineTooLong
		}
		if r.w == len(r.buf) {
			if r.r > 0 {
				r.w = copy(r.buf, r.buf[r.r:r.w])
				r.r = 0
			} else {
				r.long = append(r.long, r.buf...)
				r.r, r.w = 0, 0
			}
		}
		scanned = r.w
		if err := r.fill(); err != nil {
			return nil, unexpected(err)
		}
	}
}

// readData reads a data block of n bytes that follows the line just read,
// which starts at *lineStart in buf when lineInBuf; it moves the line (and
// updates *lineStart) only to make room for the block in buf.
func (r *Reader) readData(n int, lineInBuf bool, lineStart *int) ([]byte, error) {
	if r.w-r.r >= n {
		r.r += n
		return r.buf[r.r-n : r.r], nil
	}
	keep := r.r
	if lineInBuf {
		keep = *lineStart
	}
	if r.r-keep+n <= len(r.buf) {
		if r.r+n > len(r.buf) {
			r.w = copy(r.buf, r.buf[keep:r.w])
			r.r -= keep
			*lineStart -= keep
		}
		for r.w-r.r < n {
			if err := r.fill(); err != nil {
				return nil, unexpected(err)
			}
		}
		r.r += n
		return r.buf[r.r-n : r.r], nil
	}
	if r.err != nil {
		return nil, unexpected(r.err)
	}
	if cap(r.data) < n {
		r.data = make([]byte, n)
	}
	data := r.data[:n]
	k := copy(data, r.buf[r.r:r.w])
	r.r = r.w
	if _, err := io.ReadFull(r.rd, data[k:]); err != nil {
		r.err = unexpected(err)
		return nil, r.err
	}
	return data, nil
}

// fill reads once into buf[w:], which must not be empty.
func (r *Reader) fill() error {
	if r.err != nil {
		return r.err
	}
	for range maxEmptyReads {
		n, err := r.rd.Read(r.buf[r.w:])
		r.w += n
		if err != nil {
			r.err = err
			if n > 0 {
				return nil
			}
			return err
		}
		if n > 0 {
			return nil
		}
	}
	r.err = io.ErrNoProgress
	return r.err
}

// unexpected turns io.EOF within a request into io.ErrUnexpectedEOF.
func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

var crlf = []byte("\r\n")

// trimLineEnd strips "\n" or "\r\n" from the end of line.
func trimLineEnd(line []byte) []byte {
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line
}
