package proxy

import (
	"strconv"
	"strings"
	"testing"
)

// casOf asks a node directly, or the proxy, for key's CAS unique with
// "mg <key> c" and returns it.
func casOf(t *testing.T, r *rawClient, key string) string {
	t.Helper()
	l := r.line2("mg " + key + " c\r\n")
	if !strings.HasPrefix(l, "HD c") {
		t.Fatalf("mg %s c: %q", key, l)
	}
	return strings.Fields(strings.TrimPrefix(l, "HD c"))[0] // a stale item's X and W follow
}

// line2 sends req and reads one reply line, failing the test on an error.
func (r *rawClient) line2(req string) string {
	r.t.Helper()
	r.send(req)
	return r.line()
}

// TestMetaCASReplicas runs ms, ma and md with a C (compare-and-swap)
// flag through a pool keeping 2 copies on real memcached nodes, whose CAS
// uniques for the same key differ: the CAS the proxy's mg returns (the
// first home's) works, and both homes end with the new value; a stale one
// fails with EX and changes neither; with I, an older CAS stores the value
// on the first home marked stale and on the other as a plain set; no
// replica write fails.
func TestMetaCASReplicas(t *testing.T) {
	tp := startProxy(t, 3, replicated)
	c := dialRaw(t, tp.addr)
	for i := range 6 {
		k := "mcas:" + strconv.Itoa(i)
		homes := homesOfKey(tp, k, 2)
		if l := c.line2("ms " + k + " 3 F1\r\nold\r\n"); l != "HD" {
			t.Fatalf("ms: %q", l)
		}
		hasValue(t, tp, homes[0], k, "old", 1)
		hasValue(t, tp, homes[1], k, "old", 1)
		first := dialRaw(t, tp.nodes[homes[0]].Addr)
		second := dialRaw(t, tp.nodes[homes[1]].Addr)
		if casOf(t, first, k) == casOf(t, second, k) {
			// Store it again on the second home alone: its CAS grows
			// past the first home's.
			if l := second.line2("ms " + k + " 3 F1\r\nold\r\n"); l != "HD" {
				t.Fatal(l)
			}
		}
		if a, b := casOf(t, first, k), casOf(t, second, k); a == b {
			t.Fatalf("both homes of %s have CAS %s: the test proves nothing", k, a)
		}

		stale := casOf(t, c, k)
		if l := c.line2("ms " + k + " 3 C" + stale + " F2 T0\r\nnew\r\n"); l != "HD" {
			t.Fatalf("ms C with mg's CAS: %q, want HD", l)
		}
		hasValue(t, tp, homes[0], k, "new", 2)
		hasValue(t, tp, homes[1], k, "new", 2)
		if l := c.line2("ms " + k + " 5 C" + stale + " F3\r\nstale\r\n"); l != "EX" {
			t.Fatalf("ms C with a stale CAS: %q, want EX", l)
		}

		// Quiet, with the returned flags, in mode R (copied as a set).
		cas := casOf(t, c, k)
		c.send("ms " + k + " 4 MR C" + cas + " q F4 O7 k\r\nnew2\r\nmn\r\n")
		if l := c.line(); l != "MN" {
			t.Fatalf("quiet ms MR C: %q, want MN alone", l)
		}
		hasValue(t, tp, homes[0], k, "new2", 4)
		hasValue(t, tp, homes[1], k, "new2", 4)
		if l := c.line2("ms " + k + " 1 MA C" + cas + "\r\n+\r\n"); l != "EX" {
			t.Fatalf("ms MA C with a stale CAS: %q, want EX", l)
		}
		cas = casOf(t, c, k)
		if l := c.line2("ms " + k + " 1 MA C" + cas + " c\r\n+\r\n"); !strings.HasPrefix(l, "HD c") {
			t.Fatalf("ms MA C: %q, want HD c<cas>", l)
		}
		hasValue(t, tp, homes[0], k, "new2+", 4)
		hasValue(t, tp, homes[1], k, "new2+", 4)

		// ma: the first home's CAS increments both copies.
		n := "mcas:n" + strconv.Itoa(i)
		if l := c.line2("ms " + n + " 2\r\n10\r\n"); l != "HD" {
			t.Fatal(l)
		}
		nh := homesOfKey(tp, n, 2)
		hasValue(t, tp, nh[1], n, "10", 0)
		cas = casOf(t, c, n)
		if l := c.line2("ma " + n + " C" + cas + " D5 v\r\n"); l != "VA 2" {
			t.Fatalf("ma C v: %q, want VA 2", l)
		}
		if l := c.line(); l != "15" {
			t.Fatalf("ma C v: value %q", l)
		}
		if l := c.line2("ma " + n + " C" + cas + "\r\n"); l != "EX" {
			t.Fatalf("ma C with a stale CAS: %q, want EX", l)
		}
		hasValue(t, tp, nh[0], n, "15", 0)
		hasValue(t, tp, nh[1], n, "15", 0)

		// I: md I marks every copy stale; an ms I with a CAS older than
		// the first home's stores the value there, still stale, and on
		// the other home as a plain set.
		old := casOf(t, c, k)
		if l := c.line2("md " + k + " I\r\n"); l != "HD" {
			t.Fatalf("md I: %q", l)
		}
		if l := c.line2("ms " + k + " 5 I C" + old + " F4\r\nstale\r\n"); l != "HD" {
			t.Fatalf("ms I with an older CAS: %q, want HD", l)
		}
		hasValue(t, tp, homes[0], k, "stale", 4)
		hasValue(t, tp, homes[1], k, "stale", 4)
		if l := first.line2("mg " + k + "\r\n"); !strings.Contains(l, " X") {
			t.Fatalf("mg on the first home: %q, want the stale mark X", l)
		}
		if l := second.line2("mg " + k + "\r\n"); l != "HD" {
			t.Fatalf("mg on the second home: %q, want a plain hit", l)
		}

		// md: a stale CAS deletes nothing; the first home's deletes both.
		if l := c.line2("md " + k + " C" + stale + "\r\n"); l != "EX" {
			t.Fatalf("md C with a stale CAS: %q, want EX", l)
		}
		hasValue(t, tp, homes[1], k, "stale", 4)
		cas = casOf(t, c, k)
		c.send("md " + k + " C" + cas + " q\r\nmn\r\n")
		if l := c.line(); l != "MN" {
			t.Fatalf("quiet md C: %q, want MN alone", l)
		}
		for _, h := range homes {
			node := dialRaw(t, tp.nodes[h].Addr)
			waitFor(t, 2e9, "md on home "+strconv.Itoa(h), func() bool {
				return node.line2("mg "+k+" v\r\n") == "EN"
			})
		}
	}
	if got := gathered(t, tp.reg, "hashproxy_replica_write_failures_total", nil); got != 0 {
		t.Fatalf("%v replica write failures, want 0", got)
	}
}
