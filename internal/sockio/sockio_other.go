//go:build !unix

package sockio

import "net"

// Conn is a net.Conn.
type Conn struct{ net.Conn }

// New returns a Conn over nc.
func New(nc net.Conn) *Conn { return &Conn{nc} }

// WaitReadable returns at once where a socket cannot be peeked at: the
// next Read then waits, holding the reader's buffer.
func (c *Conn) WaitReadable() error { return nil }
