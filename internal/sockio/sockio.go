//go:build unix

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
// on the net.Conn.
package sockio

import (
	"io"
	"net"
	"os"
	"syscall"
	"unsafe"
)

// Conn is a net.Conn whose Read and Write use raw system calls. One
// goroutine may read (Read, WaitReadable) while another writes.
type Conn struct {
	net.Conn
	raw syscall.RawConn // nil without a socket: the net.Conn's methods are used

	// The Read in progress, for tryRead.
	rbuf   []byte
	rn     int
	rerrno syscall.Errno
	readFn func(fd uintptr) bool

	// The Write in progress, for tryWrite.
	wbuf    []byte
	wn      int
	werrno  syscall.Errno
	writeFn func(fd uintptr) bool

	peek   [1]byte // WaitReadable's peek lands here
	peeked bool    // the WaitReadable in progress has peeked
	peekFn func(fd uintptr) bool
}

// New returns a Conn over nc.
func New(nc net.Conn) *Conn {
	c := &Conn{Conn: nc}
	if sc, ok := nc.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			c.raw = raw
		}
	}
	c.readFn, c.writeFn, c.peekFn = c.tryRead, c.tryWrite, c.tryPeek
	return c
}

// Read reads into p, waiting until the socket is readable. It returns
// io.EOF once the peer has closed its side, and the read deadline's and
// Close's errors as net.Conn's Read does.
func (c *Conn) Read(p []byte) (int, error) {
	if c.raw == nil {
		return c.Conn.Read(p)
	}
	if len(p) == 0 {
		return 0, nil
	}
	c.rbuf, c.rn, c.rerrno = p, 0, 0
	err := c.raw.Read(c.readFn)
	c.rbuf = nil
	switch {
	case err != nil:
		return 0, err
	case c.rerrno != 0:
		return 0, os.NewSyscallError("read", c.rerrno)
	case c.rn == 0:
		return 0, io.EOF
	}
	return c.rn, nil
}

// tryRead is the poller's read attempt; false means: wait until readable.
func (c *Conn) tryRead(fd uintptr) bool {
	for {
		n, _, errno := syscall.RawSyscall(syscall.SYS_READ, fd,
			uintptr(unsafe.Pointer(&c.rbuf[0])), uintptr(len(c.rbuf)))
		switch errno {
		case 0:
			c.rn = int(n)
			return true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		}
		c.rerrno = errno
		return true
	}
}

// Write writes all of p, waiting for room in the socket's send buffer as
// often as it must. It returns how much it wrote and, when short, why.
func (c *Conn) Write(p []byte) (int, error) {
	if c.raw == nil {
		return c.Conn.Write(p)
	}
	written := 0
	for written < len(p) {
		c.wbuf, c.wn, c.werrno = p[written:], 0, 0
		err := c.raw.Write(c.writeFn)
		c.wbuf = nil
		written += c.wn
		switch {
		case err != nil:
			return written, err
		case c.werrno != 0:
			return written, os.NewSyscallError("write", c.werrno)
		}
	}
	return written, nil
}

// tryWrite is the poller's write attempt; false means: wait for room.
func (c *Conn) tryWrite(fd uintptr) bool {
	for {
		n, _, errno := syscall.RawSyscall(syscall.SYS_WRITE, fd,
			uintptr(unsafe.Pointer(&c.wbuf[0])), uintptr(len(c.wbuf)))
		switch errno {
		case 0:
			c.wn = int(n)
			return true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		}
		c.werrno = errno
		return true
	}
}

// WaitReadable waits until a Read would not block, consuming nothing:
// data, the end of the stream or an error is waiting. It returns the read
// deadline's and Close's errors. Without a socket it returns at once.
func (c *Conn) WaitReadable() error {
	if c.raw == nil {
		return nil
	}
	c.peeked = false
	return c.raw.Read(c.peekFn)
}

// tryPeek is the poller's readability test. The poller forgets a readiness
// it reported before the wait began, so the first call asks the socket
// (a peek); the next comes after the poller has seen it become readable,
// or a deadline pass, and ends the wait.
func (c *Conn) tryPeek(fd uintptr) bool {
	if c.peeked {
		return true
	}
	c.peeked = true
	for {
		_, _, errno := syscall.RawSyscall6(syscall.SYS_RECVFROM, fd,
			uintptr(unsafe.Pointer(&c.peek[0])), uintptr(len(c.peek)),
			syscall.MSG_PEEK|syscall.MSG_DONTWAIT, 0, 0)
		if errno != syscall.EINTR {
			return errno != syscall.EAGAIN
		}
	}
}
