package upstream

import (
	"net"
	"strings"
	"time"
)

// dial connects to a node at addr: "host:port" over TCP, or a path (it
// starts with '/') over a Unix socket, within timeout.
func dial(addr string, timeout time.Duration) (net.Conn, error) {
	network := "tcp"
	if strings.HasPrefix(addr, "/") {
		network = "unix"
	}
	return net.DialTimeout(network, addr, timeout)
}
