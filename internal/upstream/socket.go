package upstream

import (
	"errors"

	"hashproxy/internal/sockio"
)

// errUnsolicited is reply bytes that arrived when no request was in flight:
// the node answered something twice, or talks without being asked.
var errUnsolicited = errors.New("upstream: bytes from the node with no request in flight")

// socketReader is what a connection's ReplyReader reads from. It counts the
// bytes it hands over, so that the reader can tell whether any are left
// unanswered, and it can wait for the node's next bytes without consuming
// them (wait), which lets an idle connection notice that the node closed
// it.
type socketReader struct {
	sock   *sockio.Conn
	handed int64 // bytes handed over by Read
}

// Read reads the connection.
func (s *socketReader) Read(p []byte) (int, error) {
	n, err := s.sock.Read(p)
	s.handed += int64(n)
	return n, err
}

// wait blocks until the node sends something or closes the connection
// (returning nil; now and then it also returns nil early), or the
// connection's read deadline passes (returning an error wrapping
// os.ErrDeadlineExceeded) or it is closed.
func (s *socketReader) wait() error {
	return s.sock.WaitReadable()
}

// peek reports, without waiting, whether the node has sent bytes (data)
// or closed the connection (err). Neither means a wait ended early.
func (s *socketReader) peek() (data bool, err error) {
	return s.sock.Peek()
}

// unread returns the bytes handed over beyond consumed.
func (s *socketReader) unread(consumed int64) int64 {
	return s.handed - consumed
}
