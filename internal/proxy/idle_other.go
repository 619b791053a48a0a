//go:build !unix

package proxy

// socketReadable says a socket is always readable where it cannot be
// peeked at: the connection then reads at once, holding its buffer while it
// waits.
func socketReadable(uintptr, []byte) bool { return true }
