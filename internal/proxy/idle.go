package proxy

import "syscall"

// idleWait lets an idle client connection wait for its next request
// without holding a read buffer: at 10,000 idle connections the buffers
// would be most of the proxy's memory.
type idleWait struct {
	raw      syscall.RawConn // nil when the connection is not a socket
	readable func(fd uintptr) bool
	polled   bool    // readable has tested the socket once
	peek     [1]byte // readable's peek lands here
}

// init prepares the wait on sc's socket.
func (w *idleWait) init(sc syscall.Conn) {
	raw, err := sc.SyscallConn()
	if err != nil {
		return
	}
	w.raw = raw
	w.readable = w.test
}

// test is called by the runtime poller: first to ask whether the socket is
// readable now (a peek: the poller forgets a readiness it reported before
// the wait began), then, after waiting, when it has become so or a
// deadline has passed.
func (w *idleWait) test(fd uintptr) bool {
	if w.polled {
		return true
	}
	w.polled = true
	return socketReadable(fd, w.peek[:])
}

// waitIdle, when the request parser has nothing buffered and the last read
// emptied the socket, gives the parser's buffer back and waits until the
// client sends more (or hangs up). It returns the read deadline's error
// (idle timeout, shutdown) or the connection's.
func (c *clientConn) waitIdle() error {
	w := &c.idleWait
	if w.raw == nil || !c.in.drained || !c.rd.Release() {
		return nil
	}
	w.polled = false
	return w.raw.Read(w.readable)
}
