package sockio

import (
	"io"
	"net"
	"testing"
	"time"
)

// Connections the kernel completed but nobody accepted are taken, with
// what their clients sent.
func TestTakeBacklog(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	const n = 3
	for i := range n {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Write([]byte{'0' + byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(20 * time.Millisecond) // the data reaches the accepted sockets

	conns := TakeBacklog(ln)
	if len(conns) != n {
		t.Fatalf("took %d connections, want %d", len(conns), n)
	}
	for i, nc := range conns {
		b := make([]byte, 1)
		nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadFull(New(nc), b); err != nil || b[0] != '0'+byte(i) {
			t.Errorf("connection %d sent %q (%v)", i, b, err)
		}
		nc.Close()
	}
	if more := TakeBacklog(ln); len(more) != 0 {
		t.Errorf("an empty backlog gave %d connections", len(more))
	}
}
