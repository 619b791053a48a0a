package testenv

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"
)

func TestStartMemcachedAnswersAndStops(t *testing.T) {
	p := StartMemcached(t)
	c, err := net.DialTimeout("tcp", p.Addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("set k 0 0 1\r\nv\r\nget k\r\n"))
	br := bufio.NewReader(c)
	var got []string
	for i := 0; i < 4; i++ {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, strings.TrimSpace(line))
	}
	c.Close()
	if strings.Join(got, "|") != "STORED|VALUE k 0 1|v|END" {
		t.Fatalf("memcached replied %q", got)
	}
	p.Stop()
	if answersVersion("tcp", p.Addr) {
		t.Fatal("memcached still answers after Stop")
	}
	p.Stop()
}
