//go:build !linux

package sockio

import "net"

// TakeBacklog accepts nothing where accept4 is not available: connections
// waiting in the listen backlog are reset when the listener closes.
func TakeBacklog(net.Listener) []net.Conn { return nil }
