package upstream

import (
	"errors"
	"net"
	"os"
)

const peekBufSize = 4 << 10

// errUnsolicited is reply bytes that arrived when no request was in flight:
// the node answered something twice, or talks without being asked.
var errUnsolicited = errors.New("upstream: bytes from the node with no request in flight")

// socketReader is what a connection's ReplyReader reads from. It counts the
// bytes it hands over, so that the reader can tell whether any are left
// unanswered, and it can wait for the node's next bytes without handing
// them over (wait), which lets an idle connection notice that the node
// closed it.
type socketReader struct {
	nc     net.Conn
	buf    []byte
	r, w   int   // buf[r:w] was read by wait and not yet handed over
	handed int64 // bytes handed over by Read
	err    error // sticky error other than a deadline
}

func newSocketReader(nc net.Conn) *socketReader {
	return &socketReader{nc: nc, buf: make([]byte, peekBufSize)}
}

// Read hands over what wait has read, else reads the connection.
func (s *socketReader) Read(p []byte) (int, error) {
	var n int
	var err error
	switch {
	case s.r < s.w:
		n = copy(p, s.buf[s.r:s.w])
		s.r += n
	case s.err != nil:
		return 0, s.err
	default:
		n, err = s.nc.Read(p)
	}
	s.handed += int64(n)
	return n, err
}

// wait blocks until the node sends something, closes the connection, or
// the connection's read deadline passes (returning an error wrapping
// os.ErrDeadlineExceeded). Other errors are kept for Read to return.
func (s *socketReader) wait() error {
	if s.r < s.w || s.err != nil {
		return s.err
	}
	n, err := s.nc.Read(s.buf)
	s.r, s.w = 0, n
	if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
		s.err = err
	}
	if n > 0 {
		return nil // the bytes come first; Read returns the error after them
	}
	return err
}

// unread returns the bytes read from the node that were not handed over,
// plus those handed over beyond consumed.
func (s *socketReader) unread(consumed int64) int64 {
	return int64(s.w-s.r) + s.handed - consumed
}
