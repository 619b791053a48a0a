package sockio

import "golang.org/x/sys/unix"

// Unread returns how many bytes have arrived on the connection's socket
// and not been read yet, or 0 when that cannot be known.
func (c *Conn) Unread() int {
	if c.raw == nil {
		return 0
	}
	n := 0
	_ = c.raw.Control(func(fd uintptr) {
		if v, err := unix.IoctlGetInt(int(fd), unix.SIOCINQ); err == nil {
			n = v
		}
	})
	return n
}
