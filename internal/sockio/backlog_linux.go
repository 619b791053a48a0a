package sockio

import (
	"net"
	"os"
	"syscall"
)

// maxBacklog bounds how many connections TakeBacklog accepts, as clients
// may keep connecting while it runs.
const maxBacklog = 1 << 16

// TakeBacklog accepts, without waiting, the connections waiting in ln's
// listen backlog, for a listener about to close: their clients have
// connected, and may have sent requests, which closing would reset. It may
// run while another goroutine waits in ln.Accept.
func TakeBacklog(ln net.Listener) []net.Conn {
	raw := rawConn(ln)
	if raw == nil {
		return nil
	}
	var fds []int
	_ = raw.Control(func(fd uintptr) {
		for len(fds) < maxBacklog {
			nfd, _, err := syscall.Accept4(int(fd), syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC)
			switch err {
			case nil:
				fds = append(fds, nfd)
			case syscall.EINTR, syscall.ECONNABORTED:
			default:
				return // EAGAIN: the backlog is empty
			}
		}
	})
	conns := make([]net.Conn, 0, len(fds))
	for _, nfd := range fds {
		f := os.NewFile(uintptr(nfd), "accepted")
		nc, err := net.FileConn(f) // a copy of the descriptor, on the poller
		_ = f.Close()
		if err == nil {
			conns = append(conns, nc)
		}
	}
	return conns
}
