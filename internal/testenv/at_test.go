package testenv

import (
	"net"
	"strconv"
	"testing"
)

func TestStartMemcachedAt(t *testing.T) {
	port := FreePort(t)
	p := StartMemcachedAt(t, "127.0.0.3", port)
	if p.Addr != net.JoinHostPort("127.0.0.3", strconv.Itoa(port)) || !answersVersion("tcp", p.Addr) {
		t.Fatalf("memcached at %s does not answer", p.Addr)
	}
}
