package proxy

import (
	"bufio"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"hashproxy/internal/config"
)

// TestLongGatLine sends gat and gats lines naming hundreds of long keys
// (30 KB a line) while another client sets and gets through the same node
// connections. memcached closes a connection on which it holds over 2048
// bytes of a line that does not start with "get " or "gets ", so the
// proxy must ask each node in lines under that: each long request gets
// its hits in the client's key order, with their new TTL, and the other
// client never sees a failure.
func TestLongGatLine(t *testing.T) {
	pools := []struct {
		name  string
		nodes int
		edit  func(*config.Pool)
	}{
		{"one node", 1, nil},
		{"three nodes", 3, nil},
		{"three nodes, two copies", 3, replicated},
	}
	for _, pc := range pools {
		t.Run(pc.name, func(t *testing.T) {
			tp := startProxy(t, pc.nodes, pc.edit)
			c := dialRaw(t, tp.addr)
			var keys []string
			for i := range 300 {
				k := "longgat:" + strconv.Itoa(i) + ":" + strings.Repeat("x", 90)
				keys = append(keys, k)
				if i%3 != 0 {
					if l, err := c.set(k, "v"+strconv.Itoa(i)); err != nil || l != "STORED" {
						t.Fatalf("set: %q, %v", l, err)
					}
				}
			}
			bystander := startBystander(tp.addr)
			waitFor(t, 5*time.Second, "the other client to start", func() bool { return bystander.pairs.Load() > 0 })
			failed := false
			for round := 0; round < 10 && !failed; round++ {
				verb := "gat"
				if round%2 == 1 {
					verb = "gats"
				}
				c.send(verb + " 3600 " + strings.Join(keys, " ") + "\r\n")
				var got []string
				for {
					l := c.line()
					if l == "END" {
						break
					}
					f := strings.Fields(l)
					if f[0] != "VALUE" {
						t.Errorf("%s, round %d: %q", verb, round, l)
						failed = true
						break
					}
					if v := c.line(); v != "v"+strings.Split(f[1], ":")[1] {
						t.Fatalf("%s: %s = %q", verb, f[1], v)
					}
					got = append(got, f[1])
				}
				if failed {
					break
				}
				var want []string
				for i, k := range keys {
					if i%3 != 0 {
						want = append(want, k)
					}
				}
				if strings.Join(got, " ") != strings.Join(want, " ") {
					t.Fatalf("%s, round %d: %d hits, want %d in key order", verb, round, len(got), len(want))
				}
			}
			bystander.await(bystander.pairs.Load()+20, 10*time.Second)
			if n, err := bystander.stop(); err != nil {
				t.Fatalf("the other client failed after %d pairs: %v", n, err)
			}
			// The TTL was set: memcached reports it with mg t.
			k := keys[1]
			n := tp.px.pools[0].routes.Load().ring.Pick([]byte(k))
			if l := dialRaw(t, tp.nodes[n].Addr).line2("mg " + k + " t\r\n"); l == "HD t-1" || !strings.HasPrefix(l, "HD t") {
				t.Fatalf("mg %s t on its node: %q, want its gat's TTL", k, l)
			}
		})
	}
}

// TestGatLineSplitAtNodeLimit sends gat, gats and get lines to a fake node
// that records the lines it receives (memcached cannot report them): a gat
// or gats line is sent as it is up to 2048 bytes with its "\r\n", and in
// several lines, each under that, a byte over it; a get line is sent
// whole, whatever its length.
func TestGatLineSplitAtNodeLimit(t *testing.T) {
	var mu sync.Mutex
	var lines []int
	fake := startFake(t, func(c net.Conn) {
		br := bufio.NewReaderSize(c, 64<<10)
		for {
			l, err := br.ReadString('\n')
			if err != nil {
				return
			}
			mu.Lock()
			lines = append(lines, len(l))
			mu.Unlock()
			if _, err := c.Write([]byte("END\r\n")); err != nil {
				return
			}
		}
	})
	tp := startPool(t, faultPool(fake.Addr), nil)
	c := dialRaw(t, tp.addr)
	keys := func(n, last int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, " %0100d", i)
		}
		return b.String() + " " + strings.Repeat("z", last)
	}
	tests := []struct {
		name, line string
		want       []int
	}{
		// "gat 0" and 20 keys of 100 bytes and one of 20: 2048 bytes.
		{"gat at the limit", "gat 0" + keys(20, 20) + "\r\n", []int{2048}},
		{"gat a byte over", "gat 0" + keys(20, 21) + "\r\n", []int{2027, 29}},
		{"gats with a long exptime", "gats -2147483648" + keys(20, 9) + "\r\n", []int{2048}},
		{"gats a byte over", "gats -2147483648" + keys(20, 10) + "\r\n", []int{2038, 29}},
		{"gat over many lines", "gat 60" + keys(100, 5) + "\r\n", []int{2028, 2028, 2028, 2028, 2034}},
		{"get is never split", "get" + keys(100, 5) + "\r\n", []int{10111}},
		{"gets is never split", "gets" + keys(100, 5) + "\r\n", []int{10112}},
	}
	for _, tt := range tests {
		mu.Lock()
		lines = nil
		mu.Unlock()
		if l := c.line2(tt.line); l != "END" {
			t.Fatalf("%s: %q", tt.name, l)
		}
		mu.Lock()
		got := fmt.Sprint(lines)
		mu.Unlock()
		if got != fmt.Sprint(tt.want) {
			t.Errorf("%s: the node got lines of %s bytes, want %v", tt.name, got, tt.want)
		}
	}
}
