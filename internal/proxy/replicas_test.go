package proxy

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"hashproxy/internal/config"
)

// replicated makes a pool keep two copies of each key, on md5-hashed keys
// that spread well.
func replicated(p *config.Pool) {
	p.ReplicationFactor = 2
	p.Hash = "md5"
}

// homesOfKey returns the indexes, into the pool's servers, of key's
// replica homes as the pool's ring places them.
func homesOfKey(tp *testProxy, key string, n int) []int {
	return tp.px.pools[0].routes.Load().ring.Homes(nil, []byte(key), n)
}

// direct returns a gomemcache client of node i alone.
func direct(tp *testProxy, i int) *memcache.Client {
	c := memcache.New(tp.nodes[i].Addr)
	c.Timeout = 2 * time.Second
	return c
}

// TestReplicaWrites writes through a pool of 3 nodes keeping 2 copies,
// and reads each node directly: set, add, append, incr and delete reach
// both replica homes and no other node; a cas that the first home stores
// is set on the second; a failed cas changes nothing.
func TestReplicaWrites(t *testing.T) {
	tp := startProxy(t, 3, replicated)
	c := memcache.New(tp.addr)
	c.Timeout = 2 * time.Second
	for i := range 30 {
		k := "copy:" + strconv.Itoa(i)
		if err := c.Set(&memcache.Item{Key: k, Value: []byte("v" + k), Flags: 7}); err != nil {
			t.Fatal(err)
		}
		if err := c.Append(&memcache.Item{Key: k, Value: []byte("+")}); err != nil {
			t.Fatal(err)
		}
		homes := homesOfKey(tp, k, 2)
		for node := range 3 {
			if node == homes[0] || node == homes[1] {
				hasValue(t, tp, node, k, "v"+k+"+", 7)
			} else if it, err := direct(tp, node).Get(k); !errors.Is(err, memcache.ErrCacheMiss) {
				t.Fatalf("%s on node %d, not a home: %+v, %v", k, node, it, err)
			}
		}
	}

	k := "copy:counter"
	if err := c.Set(&memcache.Item{Key: k, Value: []byte("10")}); err != nil {
		t.Fatal(err)
	}
	if v, err := c.Increment(k, 5); err != nil || v != 15 {
		t.Fatalf("incr: %d, %v", v, err)
	}
	homes := homesOfKey(tp, k, 2)
	for _, h := range homes {
		hasValue(t, tp, h, k, "15", 0)
	}

	// cas: the first home's CAS works; the value reaches the second home.
	it, err := c.Get(k)
	if err != nil {
		t.Fatal(err)
	}
	it.Value = []byte("casvalue")
	if err := c.CompareAndSwap(it); err != nil {
		t.Fatalf("cas: %v", err)
	}
	for _, h := range homes {
		hasValue(t, tp, h, k, "casvalue", 0)
	}
	it.Value = []byte("stale")
	if err := c.CompareAndSwap(it); !errors.Is(err, memcache.ErrCASConflict) {
		t.Fatalf("stale cas: %v, want a conflict", err)
	}
	if got, err := direct(tp, homes[1]).Get(k); err != nil || string(got.Value) != "casvalue" {
		t.Fatalf("after a failed cas, home %d: %+v, %v", homes[1], got, err)
	}

	if err := c.Delete(k); err != nil {
		t.Fatal(err)
	}
	for _, h := range homes {
		waitFor(t, 2*time.Second, "delete on home "+strconv.Itoa(h), func() bool {
			_, err := direct(tp, h).Get(k)
			return errors.Is(err, memcache.ErrCacheMiss)
		})
	}
}

// hasValue waits until node i holds key with value and flags: the client
// has the first home's reply before the other homes have answered.
func hasValue(t *testing.T, tp *testProxy, i int, key, value string, flags uint32) {
	t.Helper()
	var it *memcache.Item
	var err error
	deadline := time.Now().Add(2 * time.Second)
	for {
		it, err = direct(tp, i).Get(key)
		if err == nil && string(it.Value) == value && it.Flags == flags {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s on node %d: %+v, %v; want %q with flags %d", key, i, it, err, value, flags)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestReplicaReadFallback loses keys on their first home and reads them
// through the proxy: the second home answers, each read reaching exactly
// the nodes it needs (cmd_get), and the fallback is counted.
func TestReplicaReadFallback(t *testing.T) {
	tp := startProxy(t, 3, replicated)
	c := memcache.New(tp.addr)
	c.Timeout = 2 * time.Second
	const n = 40
	for i := range n {
		k := "lost:" + strconv.Itoa(i)
		if err := c.Set(&memcache.Item{Key: k, Value: []byte(k)}); err != nil {
			t.Fatal(err)
		}
	}
	before := totalGets(t, tp)
	for i := range n {
		k := "lost:" + strconv.Itoa(i)
		if it, err := c.Get(k); err != nil || string(it.Value) != k {
			t.Fatalf("get %s: %+v, %v", k, it, err)
		}
	}
	if got := totalGets(t, tp) - before; got != n {
		t.Errorf("%d gets reached the nodes for %d reads of keys on their first home, want one each", got, n)
	}
	for i := range n / 2 {
		k := "lost:" + strconv.Itoa(i)
		if err := direct(tp, homesOfKey(tp, k, 1)[0]).Delete(k); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		k := "lost:" + strconv.Itoa(i)
		if it, err := c.Get(k); err != nil || string(it.Value) != k {
			t.Fatalf("get %s after losing its first copy: %+v, %v", k, it, err)
		}
	}
	if got := gathered(t, tp.reg, "hashproxy_fallback_hits_total", map[string]string{"reason": "replica"}); got != n/2 {
		t.Errorf("fallback hits %v, want %d", got, n/2)
	}
	if _, err := c.Get("lost:nowhere"); !errors.Is(err, memcache.ErrCacheMiss) {
		t.Errorf("a key on no home: %v, want a miss", err)
	}
}

// totalGets sums cmd_get over the pool's nodes.
func totalGets(t *testing.T, tp *testProxy) int64 {
	t.Helper()
	var sum int64
	for _, n := range tp.nodes {
		sum += statsOf(t, n.Addr)["cmd_get"]
	}
	return sum
}

// TestReplicaMultiGet reads 60 keys in one get, some lost on their first
// home, and every key with a copy on one stopped node: every key is found,
// and the reply lists them in the client's order.
func TestReplicaMultiGet(t *testing.T) {
	tp := startProxy(t, 4, func(p *config.Pool) {
		replicated(p)
		p.Timeout = 300 * time.Millisecond
	})
	c := memcache.New(tp.addr)
	c.Timeout = 2 * time.Second
	const n = 60
	var keys []string
	for i := range n {
		k := "multi:" + strconv.Itoa(i)
		keys = append(keys, k)
		if err := c.Set(&memcache.Item{Key: k, Value: []byte(k)}); err != nil {
			t.Fatal(err)
		}
	}
	// A third of the keys lose their first copy; none of them has its
	// other copy on node 1, which is then stopped.
	for i := 0; i < n; i += 3 {
		homes := homesOfKey(tp, keys[i], 2)
		if homes[0] == 1 || homes[1] == 1 {
			continue
		}
		h := homes[0]
		waitFor(t, 2*time.Second, "second copy of "+keys[i], func() bool {
			it, err := direct(tp, homesOfKey(tp, keys[i], 2)[1]).Get(keys[i])
			return err == nil && string(it.Value) == keys[i]
		})
		if err := direct(tp, h).Delete(keys[i]); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range keys {
		hasValue(t, tp, homesOfKey(tp, k, 2)[1], k, k, 0)
	}
	tp.nodes[1].Stop()

	req := "get"
	want := ""
	for i := n - 1; i >= 0; i-- { // in an order no node would answer in
		req += " " + keys[i]
		want += "VALUE " + keys[i] + " 0 " + strconv.Itoa(len(keys[i])) + "\r\n" + keys[i] + "\r\n"
	}
	// (Not exchange: its marker key may have the stopped node as its
	// first home, where its set fails.)
	rc := dialRaw(t, tp.addr)
	rc.send(req + "\r\n")
	got := ""
	for !strings.HasSuffix(got, "END\r\n") && !strings.HasPrefix(got, "SERVER_ERROR") {
		got += rc.line() + "\r\n"
	}
	if got != want+"END\r\n" {
		t.Fatalf("multi-get with lost copies and a node down:\n got %q\nwant %q", got, want+"END\r\n")
	}
	if got := gathered(t, tp.reg, "hashproxy_fallback_hits_total", map[string]string{"reason": "replica"}); got == 0 {
		t.Error("no fallback hits counted")
	}
}
