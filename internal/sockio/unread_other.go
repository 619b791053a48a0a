//go:build !linux

package sockio

// Unread returns 0: where SIOCINQ is not available, how many bytes wait
// unread on a socket is not known.
func (c *Conn) Unread() int { return 0 }
