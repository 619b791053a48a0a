package proxy

import (
	"bufio"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// untilMN writes req to c and returns the replies up to and including the
// first "MN\r\n" line.
func untilMN(t *testing.T, c net.Conn, br *bufio.Reader, req string) []string {
	t.Helper()
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		l, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("replies to %q: %v (so far %q)", req, err, lines)
		}
		lines = append(lines, l)
		if l == "MN\r\n" {
			return lines
		}
	}
}

// checkLines requires each line to equal its want, or, for a want ending
// in "...", to start with what comes before.
func checkLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	ok := len(got) == len(want)
	for i := 0; ok && i < len(want); i++ {
		if p, cut := strings.CutSuffix(want[i], "..."); cut {
			ok = strings.HasPrefix(got[i], p) && strings.HasSuffix(got[i], "\r\n")
		} else {
			ok = got[i] == want[i]
		}
	}
	if !ok {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

// TestMetaNodeFailures sends quiet meta requests to keys on three nodes
// while one is down, then while one is stopped (SIGSTOP): the failed
// node's requests get SERVER_ERROR in their slots, quiet or not, the
// others their usual replies, and mn comes after all of them.
func TestMetaNodeFailures(t *testing.T) {
	procs, addrs := startNodes(t, 3)
	pc := faultPool(addrs...)
	tp := startPool(t, pc, nil)
	var k [3]string
	for n := range 3 {
		k[n] = keysOn(t, pc, pc.Servers, n, 1, "mf")[0]
	}
	miss := keysOn(t, pc, pc.Servers, 0, 2, "mf")[1] // on node 0, never stored
	c, err := net.DialTimeout("tcp", tp.addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	checkLines(t, "stores", untilMN(t, c, br, "ms "+k[0]+" 1 q\r\na\r\nms "+k[1]+" 1 q\r\nb\r\nms "+k[2]+" 1 q\r\nc\r\nmn\r\n"),
		[]string{"MN\r\n"})

	// One request to each node, quiet, in one write; node down means a
	// SERVER_ERROR naming it.
	batch := func(on int) string {
		return "mg " + k[0] + " q v\r\nmg " + k[on] + " q v k\r\nms " + k[on] + " 1 q\r\nx\r\nmd " + k[on] + " q\r\nma " + k[on] + " q N0\r\nmg " + k[2] + " q v\r\nmg " + miss + " q\r\nmn\r\n"
	}
	procs[1].Stop()
	for round := range 3 { // failing on the connection, then marked down
		checkLines(t, "node 1 down, round "+strconv.Itoa(round), untilMN(t, c, br, batch(1)), []string{
			"VA 1\r\n", "a\r\n",
			"SERVER_ERROR " + addrs[1] + " ...",
			"SERVER_ERROR " + addrs[1] + " ...",
			"SERVER_ERROR " + addrs[1] + " ...",
			"SERVER_ERROR " + addrs[1] + " ...",
			"VA 1\r\n", "c\r\n",
			"MN\r\n",
		})
	}

	// A stopped node times out; the others answer meanwhile.
	signal(t, procs[2], syscall.SIGSTOP)
	defer signal(t, procs[2], syscall.SIGCONT)
	checkLines(t, "node 2 stopped", untilMN(t, c, br, "mg "+k[0]+" q v\r\nmg "+k[2]+" q v\r\nma "+k[2]+" q\r\nmn\r\n"), []string{
		"VA 1\r\n", "a\r\n",
		"SERVER_ERROR " + addrs[2] + " ...",
		"SERVER_ERROR " + addrs[2] + " ...",
		"MN\r\n",
	})
}
