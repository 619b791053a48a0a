package proxy

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"hashproxy/internal/testenv"
)

// casToken hides cas unique ids, which differ from server to server.
var casToken = regexp.MustCompile(`(?m)^(VALUE \S+ \d+ \d+) \d+\r$`)

// paddedCounter matches a counter value that decr shortened in place:
// memcached may keep its length and pad it with spaces, or store it anew,
// depending on whether another request holds the item at that moment
// (protocol.txt: "The number MAY be space-padded at the end").
var paddedCounter = regexp.MustCompile(`(?m)^(VALUE \S+ \d+) \d+( \S+)?\r\n(\d+) +\r$`)

// normalise hides what two memcached servers may answer differently for the
// same requests: cas unique ids, and the padding of a decremented counter.
func normalise(b []byte) string {
	s := paddedCounter.ReplaceAllStringFunc(string(b), func(m string) string {
		g := paddedCounter.FindStringSubmatch(m)
		return g[1] + " " + strconv.Itoa(len(g[3])) + g[2] + "\r\n" + g[3] + "\r"
	})
	return casToken.ReplaceAllString(s, "$1 <cas>\r")
}

// manyKeys returns a get line over n keys, every third one never set.
func manyKeys(verb string, n int) (sets, get string) {
	var sb, gb strings.Builder
	gb.WriteString(verb)
	for i := 0; i < n; i++ {
		k := "mk" + strconv.Itoa(i)
		if i%3 != 0 {
			v := strconv.Itoa(i * 7)
			sb.WriteString("set " + k + " " + strconv.Itoa(i) + " 0 " + strconv.Itoa(len(v)) + " noreply\r\n" + v + "\r\n")
		}
		gb.WriteString(" " + k)
	}
	gb.WriteString("\r\n")
	return sb.String(), gb.String()
}

// TestRawSameAsMemcached sends the same bytes to the proxy (3 nodes) and to
// one memcached, and requires the same reply bytes.
func TestRawSameAsMemcached(t *testing.T) {
	tp := startProxy(t, 3, namedMD5)
	direct := testenv.StartMemcached(t)
	r := tp.px.pools[0].routes.Load()
	owners := map[int]bool{}
	for i := range 50 {
		owners[r.ring.Pick([]byte("mk"+strconv.Itoa(i)))] = true
	}
	if len(owners) != 3 {
		t.Fatalf("the multi-key cases span %d of 3 nodes", len(owners))
	}
	sets, get50 := manyKeys("get", 50)
	_, gets50 := manyKeys("gets", 50)
	_, gat50 := manyKeys("gat 100", 50)
	cases := []struct{ name, req string }{
		{"get miss", "get nothing\r\n"},
		{"set then get", "set a 5 0 3\r\nabc\r\nget a\r\n"},
		{"binary value with CRLF and NUL", "set bin 0 0 6\r\n\r\n\x00\r\n\x00\r\nget bin\r\n"},
		{"empty value", "set e 0 0 0\r\n\r\nget e\r\n"},
		{"multi get in key order with misses", sets + get50},
		{"gets multi", sets + gets50},
		{"gat multi", sets + gat50},
		{"duplicate keys", "set d 0 0 1\r\n1\r\nset f 0 0 1\r\n2\r\nget d f d x f\r\n"},
		{"pipelined mix", "set a 0 0 1\r\n1\r\nset b 0 0 1\r\n2\r\nget a b c\r\ndelete a\r\ndelete a\r\nget a b\r\nincr b 5\r\ndecr b 100\r\nincr nope 1\r\ntouch b 10\r\ntouch nope 10\r\nverbosity 1\r\n"},
		{"add replace append prepend", "add a 0 0 1\r\n1\r\nadd a 0 0 1\r\n2\r\nreplace a 0 0 1\r\n3\r\nreplace z 0 0 1\r\n3\r\nappend a 0 0 2\r\n45\r\nprepend a 0 0 2\r\n01\r\nappend z 0 0 1\r\n9\r\nget a\r\n"},
		{"cas", "cas a 0 0 1 1\r\nx\r\nset a 0 0 1\r\n1\r\ncas a 0 0 1 999999\r\nx\r\n"},
		{"noreply everywhere", "set a 0 0 1 noreply\r\n1\r\nadd a 0 0 1 noreply\r\n2\r\nappend a 0 0 1 noreply\r\n3\r\nincr n 1 noreply\r\ndelete x noreply\r\ntouch a 1 noreply\r\nverbosity 1 noreply\r\nflush_all noreply\r\nget a\r\n"},
		{"flush_all", "set a 0 0 1\r\n1\r\nflush_all\r\nget a\r\nflush_all 0\r\n"},
		{"unknown command", "bogus\r\nget a\r\n"},
		{"get without key", "get\r\nget a\r\n"},
		{"bad set line", "set a 0 0 x\r\nget a\r\n"},
		{"key too long", "get " + strings.Repeat("k", 251) + "\r\nget a\r\n"},
		{"bad data chunk", "set a 0 0 3\r\nabcde\r\nget a\r\n"},
		{"too large", "set big 0 0 2000000\r\n" + strings.Repeat("x", 2000000) + "\r\nget big\r\nset a 0 0 1\r\n1\r\n"},
		{"too large set drops the old value", "set big 0 0 3\r\nold\r\nset big 0 0 2000000\r\n" + strings.Repeat("x", 2000000) + "\r\nget big\r\n"},
		{"too large add keeps the old value", "set big 0 0 3\r\nold\r\nadd big 0 0 2000000\r\n" + strings.Repeat("x", 2000000) + "\r\nget big\r\n"},
		{"newline only", "set a 0 0 1\n1\r\nget a\n"},
		{"stats unknown", "stats nothing\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			exchange(t, tp.addr, []byte("flush_all\r\n"))
			exchange(t, direct.Addr, []byte("flush_all\r\n"))
			want := normalise(exchange(t, direct.Addr, []byte(tc.req)))
			got := normalise(exchange(t, tp.addr, []byte(tc.req)))
			if got != want {
				t.Errorf("proxy replied\n%q\nmemcached replied\n%q", got, want)
			}
		})
	}
}

// TestLocalCommands checks what the proxy answers itself.
func TestLocalCommands(t *testing.T) {
	tp := startProxy(t, 2, nil)
	c := dialRaw(t, tp.addr)
	c.send("version\r\n")
	if got := c.line(); got != "VERSION test" {
		t.Errorf("version: %q", got)
	}
	c.send("set a 0 0 1\r\n1\r\nget a b\r\nstats\r\n")
	for _, want := range []string{"STORED", "VALUE a 0 1", "1", "END"} {
		if got := c.line(); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	stats := map[string]string{}
	for {
		l := c.line()
		if l == "END" {
			break
		}
		f := strings.Fields(l)
		if len(f) != 3 || f[0] != "STAT" {
			t.Fatalf("bad stats line %q", l)
		}
		stats[f[1]] = f[2]
	}
	for name, want := range map[string]string{"cmd_get": "2", "get_hits": "1", "get_misses": "1", "cmd_set": "1", "curr_connections": "1", "version": "test", "servers": "2"} {
		if stats[name] != want {
			t.Errorf("stat %s = %q, want %q", name, stats[name], want)
		}
	}
	c.send("quit\r\n")
	if got := readQuiet(c.c, 2e9); len(got) != 0 {
		t.Errorf("quit: got %q, want the connection closed", got)
	}
}
