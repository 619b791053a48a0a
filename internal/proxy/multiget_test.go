package proxy

import (
	"bufio"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fakeAnswering returns a fake node's behaviour that answers every request
// line with reply.
func fakeAnswering(reply string) func(net.Conn) {
	return func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			if _, err := br.ReadString('\n'); err != nil {
				return
			}
			if _, err := c.Write([]byte(reply)); err != nil {
				return
			}
		}
	}
}

// TestNodeErrorLineInRetrievals: a node that answers gets with memcached's
// own error line passes it to a single-node get as it is; in a multi-get
// its keys are misses while the other nodes' hits come back in key order;
// when every node of a multi-get answers with an error line, the client
// gets the first. The node's hits and misses are not counted, as it looked
// nothing up.
func TestNodeErrorLineInRetrievals(t *testing.T) {
	const oom = "SERVER_ERROR out of memory writing get response\r\n"
	_, addrs := startNodes(t, 1)
	fakeA := startFake(t, fakeAnswering(oom))
	fakeB := startFake(t, fakeAnswering(oom))
	pc := faultPool(addrs[0], fakeA.Addr, fakeB.Addr)
	tp := startPool(t, pc, nil)
	good := keysOn(t, pc, pc.Servers, 0, 2, "g")
	onA := keysOn(t, pc, pc.Servers, 1, 2, "a")
	onB := keysOn(t, pc, pc.Servers, 2, 1, "b")

	mc := dialRaw(t, tp.addr)
	for _, k := range good {
		if line, err := mc.set(k, k+"!"); err != nil || line != "STORED" {
			t.Fatalf("set %s: %q %v", k, line, err)
		}
	}
	c, err := net.DialTimeout("tcp", tp.addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	value := func(k string) string { return "VALUE " + k + " 0 " + strconv.Itoa(len(k)+1) + "\r\n" + k + "!\r\n" }
	got := pipelined(t, c, br,
		"get "+onA[0]+"\r\n",
		"get "+onA[0]+" "+good[0]+" "+onB[0]+" "+good[1]+" "+onA[1]+"\r\n",
		"gets "+onA[0]+" "+onB[0]+" "+onA[1]+"\r\n",
	)
	want := []string{oom, value(good[0]) + value(good[1]) + "END\r\n", oom}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("reply %d = %q, want %q", i, got[i], want[i])
		}
	}
	for _, tc := range []struct {
		metric, server string
		want           float64
	}{
		{"hashproxy_get_hits_total", addrs[0], 2},
		{"hashproxy_get_misses_total", addrs[0], 0},
		{"hashproxy_get_hits_total", fakeA.Addr, 0},
		{"hashproxy_get_misses_total", fakeA.Addr, 0},
		{"hashproxy_get_misses_total", fakeB.Addr, 0},
	} {
		if v := gathered(t, tp.reg, tc.metric, map[string]string{"server": tc.server}); v != tc.want {
			t.Errorf("%s of %s = %v, want %v", tc.metric, tc.server, v, tc.want)
		}
	}
}

// TestForeignValueNeverReachesTheClient: a node that answers a get with
// another key's value has lost track of its replies; the client gets the
// node's failure, alone or within a multi-get, never that value.
func TestForeignValueNeverReachesTheClient(t *testing.T) {
	_, addrs := startNodes(t, 1)
	fake := startFake(t, fakeAnswering("VALUE intruder 0 5\r\nwrong\r\nEND\r\n"))
	pc := faultPool(addrs[0], fake.Addr)
	pc.ServerFailureLimit = 1000 // keep the node in the ring
	tp := startPool(t, pc, nil)
	good := keysOn(t, pc, pc.Servers, 0, 1, "g")[0]
	bad := keysOn(t, pc, pc.Servers, 1, 1, "b")[0]
	mc := dialRaw(t, tp.addr)
	if line, err := mc.set(good, "v"); err != nil || line != "STORED" {
		t.Fatalf("set %s: %q %v", good, line, err)
	}
	c, err := net.DialTimeout("tcp", tp.addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	got := pipelined(t, c, br, "get "+bad+"\r\n", "get "+bad+" "+good+"\r\n")
	failure := "SERVER_ERROR " + fake.Addr + " bad reply from server\r\n"
	want := []string{failure, "VALUE " + good + " 0 1\r\nv\r\nEND\r\n"}
	for i := range want {
		if got[i] != want[i] || strings.Contains(got[i], "wrong") {
			t.Errorf("reply %d = %q, want %q", i, got[i], want[i])
		}
	}
}
