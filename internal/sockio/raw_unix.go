//go:build unix

package sockio

import (
	"syscall"
	"unsafe"
)

// rawConn returns the socket of s (a connection or listener) for raw calls,
// or nil when it has none.
func rawConn(s any) syscall.RawConn {
	sc, ok := s.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return raw
}

// try makes the read or write for the poller; false means: wait until the
// socket is readable, or has room.
func (t *transfer) try(fd uintptr) bool {
	trap := uintptr(syscall.SYS_READ)
	if t.write {
		trap = syscall.SYS_WRITE
	}
	for {
		n, _, errno := syscall.RawSyscall(trap, fd, uintptr(unsafe.Pointer(&t.buf[0])), uintptr(len(t.buf)))
		switch errno {
		case 0:
			t.n = int(n)
			return true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		}
		t.errno = errno
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
