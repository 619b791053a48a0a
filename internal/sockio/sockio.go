// Package sockio reads and writes sockets with raw system calls.
//
// A net.Conn's Read and Write tell the Go scheduler that they enter a
// system call. On loopback a write also does the receiver's TCP work and
// can take tens of microseconds, long enough for the runtime's monitor to
// hand the processor to another thread, which the writer must then win
// back; for a proxy, which does little but read and write sockets, those
// hand-offs and the monitor's wake-ups cost about a tenth of its CPU. The
// sockets are non-blocking, so a read or write never waits in the kernel:
// sockio issues them as raw system calls and waits for readiness through
// the runtime's poller, as net does, so deadlines and Close work as they do
// on the net.Conn. A connection without a socket (or on a system without
// raw socket calls) uses the net.Conn's own methods.
package sockio

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
)

// Conn is a net.Conn whose Read and Write use raw system calls. One
// goroutine may read (Read, WaitReadable, Peek) while another writes.
type Conn struct {
	net.Conn
	raw syscall.RawConn // nil without one: the net.Conn's methods are used

	rd, wr          transfer              // the Read and the Write in progress
	readFn, writeFn func(fd uintptr) bool // rd.try and wr.try

	peek   [1]byte // peeks land here; without raw calls, WaitReadable's read
	peeked bool    // the WaitReadable in progress has peeked
	peekFn func(fd uintptr) bool

	// Without raw calls, WaitReadable reads a byte (held, when holding) or
	// an error (heldErr) that the next Read returns.
	holding bool
	heldErr error
}

// transfer is one read or write for the poller to attempt (try): of buf,
// n bytes went, or the call failed with errno.
type transfer struct {
	write bool
	buf   []byte
	n     int
	errno syscall.Errno
}

// New returns a Conn over nc.
func New(nc net.Conn) *Conn {
	c := &Conn{Conn: nc, raw: rawConn(nc)}
	c.wr.write = true
	if c.raw != nil {
		c.readFn, c.writeFn, c.peekFn = c.rd.try, c.wr.try, c.tryPeek
	}
	return c
}

// Read reads into p, waiting until the socket is readable. It returns
// io.EOF once the peer has closed its side, and the read deadline's and
// Close's errors as net.Conn's Read does.
func (c *Conn) Read(p []byte) (int, error) {
	if c.raw == nil {
		return c.readHeld(p)
	}
	if len(p) == 0 {
		return 0, nil
	}
	c.rd.buf, c.rd.n, c.rd.errno = p, 0, 0
	err := c.raw.Read(c.readFn)
	c.rd.buf = nil
	switch {
	case err != nil:
		return 0, err
	case c.rd.errno != 0:
		return 0, os.NewSyscallError("read", c.rd.errno)
	case c.rd.n == 0:
		return 0, io.EOF
	}
	return c.rd.n, nil
}

// Write writes all of p, waiting for room in the socket's send buffer as
// often as it must. It returns how much it wrote and, when short, why.
func (c *Conn) Write(p []byte) (int, error) {
	if c.raw == nil {
		return c.Conn.Write(p)
	}
	written := 0
	for written < len(p) {
		c.wr.buf, c.wr.n, c.wr.errno = p[written:], 0, 0
		err := c.raw.Write(c.writeFn)
		c.wr.buf = nil
		written += c.wr.n
		switch {
		case err != nil:
			return written, err
		case c.wr.errno != 0:
			return written, os.NewSyscallError("write", c.wr.errno)
		}
	}
	return written, nil
}

// WaitReadable waits until data, the end of the stream or an error is
// waiting, consuming nothing, or until the read deadline passes or the
// connection is closed (returning their errors). It may also return nil
// early, now and then: a Read after it still waits when it must.
func (c *Conn) WaitReadable() error {
	if c.raw == nil {
		return c.waitHeld()
	}
	c.peeked = false
	return c.raw.Read(c.peekFn)
}

// Peek reports, without waiting, whether data is waiting to be read (data)
// or the stream has ended or failed (err: io.EOF or the error). Neither
// means nothing is waiting yet. Without raw calls it knows only what a WaitReadable has
// read.
func (c *Conn) Peek() (data bool, err error) {
	if c.raw == nil {
		return c.holding, c.heldErr
	}
	var n int
	var errno syscall.Errno
	if cerr := c.raw.Control(func(fd uintptr) { n, errno = peekNow(fd, c.peek[:]) }); cerr != nil {
		return false, cerr
	}
	switch {
	case errno == syscall.EAGAIN:
		return false, nil
	case errno != 0:
		return false, os.NewSyscallError("recvfrom", errno)
	case n == 0:
		return false, io.EOF
	}
	return true, nil
}

// tryPeek is WaitReadable's test for the poller. The poller forgets a
// readiness it reported before the wait began, so the first call asks the
// socket; the next comes when the poller has seen it become readable (or a
// deadline pass) and ends the wait.
func (c *Conn) tryPeek(fd uintptr) bool {
	if c.peeked {
		return true
	}
	c.peeked = true
	_, errno := peekNow(fd, c.peek[:])
	return errno != syscall.EAGAIN
}

// waitHeld is WaitReadable without raw calls: it reads one byte (or the
// error) for the next Read to return.
func (c *Conn) waitHeld() error {
	if c.holding || c.heldErr != nil {
		return nil
	}
	n, err := c.Conn.Read(c.peek[:])
	switch {
	case n == 1:
		c.holding = true
	case errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, net.ErrClosed):
		return err
	default:
		c.heldErr = err
	}
	return nil
}

// readHeld is Read without raw calls: what waitHeld read comes first.
func (c *Conn) readHeld(p []byte) (int, error) {
	switch {
	case len(p) == 0:
		return 0, nil
	case c.holding:
		c.holding = false
		p[0] = c.peek[0]
		return 1, nil
	case c.heldErr != nil:
		err := c.heldErr
		c.heldErr = nil
		return 0, err
	}
	return c.Conn.Read(p)
}
