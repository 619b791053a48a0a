//go:build unix

package sockio

import (
	"net"
	"syscall"
	"unsafe"
)

// rawConn returns nc's socket for raw calls, or nil when it has none.
func rawConn(nc net.Conn) syscall.RawConn {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return raw
}

// tryRead is Read's attempt for the poller; false means: wait until
// readable.
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

// tryWrite is Write's attempt for the poller; false means: wait for room.
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

// peekNow peeks at fd without waiting: n is 1 when data is waiting, 0 at
// the end of the stream; errno is EAGAIN when nothing is waiting yet.
func peekNow(fd uintptr, b []byte) (n int, errno syscall.Errno) {
	for {
		r, _, errno := syscall.RawSyscall6(syscall.SYS_RECVFROM, fd,
			uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)),
			syscall.MSG_PEEK|syscall.MSG_DONTWAIT, 0, 0)
		if errno != syscall.EINTR {
			return int(r), errno
		}
	}
}
