package proxy

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"hashproxy/internal/config"
	"hashproxy/internal/testenv"
)

// warmKeys is how many keys the warm-up tests write.
const warmKeys = 2000

// writeKeys sets warm:0 ... warm:<n-1> through addr, each to its own name.
func writeKeys(t *testing.T, addr string, n int) {
	t.Helper()
	c := memcache.New(addr)
	c.Timeout = 2 * time.Second
	for i := range n {
		k := "warm:" + strconv.Itoa(i)
		if err := c.Set(&memcache.Item{Key: k, Value: []byte(k), Expiration: 600}); err != nil {
			t.Fatal(err)
		}
	}
}

// countMisses gets every key through addr and counts the misses; a wrong
// value or an error fails the test.
func countMisses(t *testing.T, addr string, n int) int {
	t.Helper()
	c := memcache.New(addr)
	c.Timeout = 2 * time.Second
	misses := 0
	for i := range n {
		k := "warm:" + strconv.Itoa(i)
		it, err := c.Get(k)
		switch {
		case errors.Is(err, memcache.ErrCacheMiss):
			misses++
		case err != nil:
			t.Fatalf("get %s: %v", k, err)
		case string(it.Value) != k:
			t.Fatalf("get %s: value %q", k, it.Value)
		}
	}
	return misses
}

// growPool starts a proxy over 3 nodes with warmup, writes warmKeys keys,
// and reloads it to a fourth, empty node.
func growPool(t *testing.T, warmup time.Duration) *testProxy {
	t.Helper()
	tp := startProxy(t, 3, func(p *config.Pool) {
		p.Hash = "md5"
		p.Warmup = warmup
	})
	writeKeys(t, tp.addr, warmKeys)
	mc := testenv.StartMemcached(t)
	tp.nodes = append(tp.nodes, mc)
	grown := tp.cfg
	grown.Servers = append(append([]config.Server(nil), tp.cfg.Servers...), reloadServer(mc, 1))
	if err := tp.px.Reload(reloadConfig(grown)); err != nil {
		t.Fatal(err)
	}
	tp.cfg = grown
	return tp
}

// TestWarmupGrow adds a fourth node to three holding every key: during the
// warm-up window no read misses, the moved keys answered by their old homes
// and copied to the new one with their TTL, where the next read finds them;
// without a window about a quarter miss.
func TestWarmupGrow(t *testing.T) {
	t.Parallel()
	tp := growPool(t, time.Minute)
	if got := countMisses(t, tp.addr, warmKeys); got != 0 {
		t.Errorf("%d of %d keys missed during the warm-up window, want 0", got, warmKeys)
	}
	fallbacks := gathered(t, tp.reg, "hashproxy_fallback_hits_total", map[string]string{"reason": "warmup"})
	if share := fallbacks / warmKeys; share < 0.15 || share > 0.35 {
		t.Errorf("%.0f reads (%.2f) answered by an old home, want about a quarter", fallbacks, share)
	}
	if left := gathered(t, tp.reg, "hashproxy_warmup_remaining_seconds", nil); left < 50 || left > 60 {
		t.Errorf("warm-up remaining %v seconds, want just under 60", left)
	}

	// The moved keys were copied to their new home with the TTL they had:
	// read again, they hit there, and no old home is read.
	if got := countMisses(t, tp.addr, warmKeys); got != 0 {
		t.Errorf("second read: %d misses", got)
	}
	if again := gathered(t, tp.reg, "hashproxy_fallback_hits_total", map[string]string{"reason": "warmup"}); again != fallbacks {
		t.Errorf("second read: %v more reads answered by an old home, want 0", again-fallbacks)
	}
	if stored := gathered(t, tp.reg, "hashproxy_backfills_total", map[string]string{"result": "stored"}); stored != fallbacks {
		t.Errorf("%v backfills stored for %v moved keys read", stored, fallbacks)
	}
	r := tp.px.pools[0].routes.Load()
	for i := 0; i < warmKeys; i += 97 {
		k := "warm:" + strconv.Itoa(i)
		if home := r.ring.Pick([]byte(k)); home == 3 {
			if ttl := nodeTTL(t, tp, 3, k); ttl < 590 || ttl > 600 {
				t.Errorf("%s on its new home: TTL %d, want the 600s it was set with, less the test's time", k, ttl)
			}
		}
	}

	cold := growPool(t, 0)
	if got := countMisses(t, cold.addr, warmKeys); got < warmKeys/6 || got > warmKeys/3 {
		t.Errorf("without warm-up %d of %d keys missed, want about a quarter", got, warmKeys)
	}
}

// TestWarmupWindowEnds opens a short window: once it has ended the old
// homes are no longer read (the moved keys miss) and the gauge reads 0.
func TestWarmupWindowEnds(t *testing.T) {
	t.Parallel()
	tp := growPool(t, 300*time.Millisecond)
	waitFor(t, 5*time.Second, "window closed", func() bool {
		return tp.px.pools[0].routes.Load().prev == nil
	})
	if got := countMisses(t, tp.addr, warmKeys); got < warmKeys/6 || got > warmKeys/3 {
		t.Errorf("after the window %d of %d keys missed, want the moved quarter", got, warmKeys)
	}
	if left := gathered(t, tp.reg, "hashproxy_warmup_remaining_seconds", nil); left != 0 {
		t.Errorf("warm-up remaining %v seconds after the window, want 0", left)
	}
}

// TestWarmupDeleteAndSet deletes and sets moved keys during a window: a
// deleted key stays deleted (its old home lost it too), and a value set
// during the window is read, not the old home's.
func TestWarmupDeleteAndSet(t *testing.T) {
	t.Parallel()
	tp := growPool(t, time.Minute)
	prev := tp.px.pools[0].routes.Load().prev
	cur := tp.px.pools[0].routes.Load()
	var moved []string
	for i := range warmKeys {
		k := "warm:" + strconv.Itoa(i)
		if prev.pick([]byte(k)) != cur.pick([]byte(k)) {
			moved = append(moved, k)
		}
	}
	if len(moved) < 100 {
		t.Fatalf("only %d keys moved", len(moved))
	}
	c := memcache.New(tp.addr)
	c.Timeout = 2 * time.Second
	for i, k := range moved[:100] {
		if i%2 == 0 {
			if err := c.Delete(k); err != nil {
				t.Fatalf("delete %s: %v", k, err)
			}
		} else if err := c.Set(&memcache.Item{Key: k, Value: []byte("new")}); err != nil {
			t.Fatal(err)
		}
	}
	for i, k := range moved[:100] {
		it, err := c.Get(k)
		switch {
		case i%2 == 0 && !errors.Is(err, memcache.ErrCacheMiss):
			t.Errorf("%s deleted during the window: %+v, %v", k, it, err)
		case i%2 == 1 && (err != nil || string(it.Value) != "new"):
			t.Errorf("%s set during the window: %+v, %v", k, it, err)
		}
	}
}

// TestWarmupRemovedNode removes a running node with a short window: the
// window's opening and closing are logged with the share of keys whose
// homes changed; the removed node keeps its connections, and answers
// reads, until the window ends, then they close.
func TestWarmupRemovedNode(t *testing.T) {
	_, addrs := startNodes(t, 3)
	pc := faultPool(addrs...)
	pc.Timeout = 2 * time.Second
	pc.Warmup = 3 * time.Second
	core, logs := observer.New(zap.InfoLevel)
	tp := startPool(t, pc, zap.New(core))
	writeKeys(t, tp.addr, warmKeys)
	removed := tp.px.pools[0].conf.Load().nodes[2]
	shrunk := pc
	shrunk.Servers = pc.Servers[:2]
	if err := tp.px.Reload(reloadConfig(shrunk)); err != nil {
		t.Fatal(err)
	}
	if got := countMisses(t, tp.addr, 500); got != 0 {
		t.Errorf("%d of 500 keys missed during the window, want 0", got)
	}
	if tp.px.pools[0].routes.Load().prev == nil {
		t.Fatal("the window ended while the keys were read")
	}
	if removed.srv.Stat().Connections == 0 {
		t.Error("the removed node's connections closed during the window")
	}
	waitFor(t, 5*time.Second, "removed node closed", func() bool { return removed.srv.Stat().Connections == 0 })
	for _, msg := range []string{"warm-up window opened", "warm-up window closed"} {
		entries := logs.FilterMessageSnippet(msg).All()
		if len(entries) != 1 {
			t.Fatalf("%d %q lines, want 1", len(entries), msg)
		}
		share, ok := entries[0].ContextMap()["keys_moved_share"].(float64)
		if !ok || share < 0.2 || share > 0.45 {
			t.Errorf("%q: keys_moved_share %v, want about a third", msg, entries[0].ContextMap()["keys_moved_share"])
		}
	}
}
