//go:build unix

package proxy

import "syscall"

// socketReadable reports whether a read on fd would not block: data, the
// end of the stream or an error is waiting. It consumes nothing.
func socketReadable(fd uintptr, peek []byte) bool {
	_, _, err := syscall.Recvfrom(int(fd), peek, syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	return err != syscall.EAGAIN
}
