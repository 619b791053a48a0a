package proxy

import (
	"bytes"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"hashproxy/internal/config"
	"hashproxy/internal/testenv"
)

// testProxy is a proxy in front of real memcached nodes.
type testProxy struct {
	px    *Proxy
	addr  string
	nodes []*testenv.Process
	cfg   config.Pool
	reg   *prometheus.Registry
}

// startProxy starts n memcached nodes and a proxy in front of them; edit
// may change the pool's settings before it starts.
func startProxy(t testing.TB, n int, edit func(*config.Pool)) *testProxy {
	t.Helper()
	pc := config.DefaultPool()
	pc.Listen = "127.0.0.1:0"
	pc.Timeout = 2 * time.Second // generous: CI machines are busy
	var nodes []*testenv.Process
	for i := 0; i < n; i++ {
		mc := testenv.StartMemcached(t)
		nodes = append(nodes, mc)
		pc.Servers = append(pc.Servers, config.Server{Addr: mc.Addr, Host: "127.0.0.1", Port: mc.Port, Weight: 1})
	}
	if edit != nil {
		edit(&pc)
	}
	tp := startPool(t, pc, nil)
	tp.nodes = nodes
	return tp
}

// marker ends every exchange: its reply is unique, so a reader knows the
// replies to everything before it have arrived.
const (
	marker      = "set __marker__ 0 0 4\r\nDONE\r\nget __marker__\r\n"
	markerReply = "STORED\r\nVALUE __marker__ 0 4\r\nDONE\r\nEND\r\n"
)

// exchange sends raw bytes to addr (host:port or a socket path), followed by the marker, and returns
// every reply before the marker's; it also returns early when the peer
// closes the connection.
func exchange(t *testing.T, addr string, req []byte) []byte {
	t.Helper()
	network := "tcp"
	if strings.HasPrefix(addr, "/") {
		network = "unix"
	}
	c, err := net.DialTimeout(network, addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	go func() { _, _ = c.Write(append(append([]byte{}, req...), marker...)) }()
	var out bytes.Buffer
	buf := make([]byte, 64<<10)
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for !bytes.HasSuffix(out.Bytes(), []byte(markerReply)) {
		n, err := c.Read(buf)
		out.Write(buf[:n])
		if err != nil {
			return out.Bytes()
		}
	}
	return bytes.TrimSuffix(out.Bytes(), []byte(markerReply))
}

// readQuiet reads until the peer closes or sends nothing for quiet.
func readQuiet(c net.Conn, quiet time.Duration) []byte {
	var out bytes.Buffer
	buf := make([]byte, 64<<10)
	for {
		_ = c.SetReadDeadline(time.Now().Add(quiet))
		n, err := c.Read(buf)
		out.Write(buf[:n])
		if err != nil {
			return out.Bytes()
		}
	}
}
