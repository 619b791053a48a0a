package proxy

import (
	"bufio"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"hashproxy/internal/config"
	"hashproxy/internal/testenv"
)

// nodeTTL asks node i directly for key's remaining time to live ("mg <key>
// t"): -1 for none, -2 when the node does not have the key.
func nodeTTL(t *testing.T, tp *testProxy, i int, key string) int {
	t.Helper()
	rc := dialRaw(t, tp.nodes[i].Addr)
	rc.send("mg " + key + " t\r\n")
	line := rc.line()
	if line == "EN" {
		return -2
	}
	for _, f := range strings.Fields(line)[1:] {
		if strings.HasPrefix(f, "t") {
			ttl, err := strconv.Atoi(f[1:])
			if err != nil {
				t.Fatalf("mg %s t: %q", key, line)
			}
			return ttl
		}
	}
	t.Fatalf("mg %s t: %q", key, line)
	return 0
}

// TestBackfillReplica loses keys on their first home and reads them
// through the proxy: the second home answers, and the value is copied back
// into the first home with its flags and remaining TTL (a value without
// expiry gets backfill_max_ttl); the next read reaches the first home only.
func TestBackfillReplica(t *testing.T) {
	tp := startProxy(t, 3, func(p *config.Pool) {
		replicated(p)
		p.BackfillMaxTTL = 2 * time.Hour
	})
	c := memcache.New(tp.addr)
	c.Timeout = 2 * time.Second
	for i, ttl := range []int32{300, 0} {
		k := "fill:" + strconv.Itoa(i)
		if err := c.Set(&memcache.Item{Key: k, Value: []byte("v" + k), Flags: 42, Expiration: ttl}); err != nil {
			t.Fatal(err)
		}
		homes := homesOfKey(tp, k, 2)
		hasValue(t, tp, homes[1], k, "v"+k, 42)
		if err := direct(tp, homes[0]).Delete(k); err != nil {
			t.Fatal(err)
		}
		if it, err := c.Get(k); err != nil || string(it.Value) != "v"+k || it.Flags != 42 {
			t.Fatalf("get %s: %+v, %v", k, it, err)
		}
		hasValue(t, tp, homes[0], k, "v"+k, 42)
		want := int(ttl)
		if ttl == 0 {
			want = 7200
		}
		if got := nodeTTL(t, tp, homes[0], k); got < want-2 || got > want {
			t.Errorf("%s backfilled with TTL %d, want %d", k, got, want)
		}
		before := totalGets(t, tp)
		if it, err := c.Get(k); err != nil || string(it.Value) != "v"+k {
			t.Fatalf("get %s again: %+v, %v", k, it, err)
		}
		if got := totalGets(t, tp) - before; got != 1 {
			t.Errorf("%s: a read after the backfill reached %d nodes, want its first home only", k, got)
		}
	}
	if got := gathered(t, tp.reg, "hashproxy_backfills_total", map[string]string{"result": "stored"}); got != 2 {
		t.Errorf("backfills stored: %v, want 2", got)
	}
}

// TestBackfillGetsThenCas reads with gets a key lost on its first home:
// the reply carries the first home's CAS unique once backfilled, so a cas
// through the proxy succeeds.
func TestBackfillGetsThenCas(t *testing.T) {
	tp := startProxy(t, 3, replicated)
	c := memcache.New(tp.addr)
	c.Timeout = 2 * time.Second
	k := "fill:cas"
	if err := c.Set(&memcache.Item{Key: k, Value: []byte("one")}); err != nil {
		t.Fatal(err)
	}
	homes := homesOfKey(tp, k, 2)
	hasValue(t, tp, homes[1], k, "one", 0)
	if err := direct(tp, homes[0]).Delete(k); err != nil {
		t.Fatal(err)
	}
	it, err := c.Get(k) // gomemcache reads with gets
	if err != nil {
		t.Fatal(err)
	}
	first, err := direct(tp, homes[0]).Get(k)
	if err != nil || first.CasID != it.CasID {
		t.Fatalf("the client got CAS %d, the first home holds %+v, %v", it.CasID, first, err)
	}
	it.Value = []byte("two")
	if err := c.CompareAndSwap(it); err != nil {
		t.Fatalf("cas after a backfilled gets: %v", err)
	}
	hasValue(t, tp, homes[1], k, "two", 0)
}

// TestBackfillNeverOverwrites backfills with add, never set: its first
// home, a fake that misses every get and holds every key an add names
// (as a node that got a newer value between the miss and the backfill),
// is sent an add, which it refuses; the refusal is counted.
func TestBackfillNeverOverwrites(t *testing.T) {
	var mu sync.Mutex
	var verbs []string
	fake := startFake(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			f := strings.Fields(line)
			if len(f) == 0 {
				continue
			}
			mu.Lock()
			verbs = append(verbs, f[0])
			mu.Unlock()
			reply := "ERROR\r\n"
			switch f[0] {
			case "get", "gets":
				reply = "END\r\n"
			case "version":
				reply = "VERSION 1.6.18\r\n"
			case "set", "add":
				n, _ := strconv.Atoi(f[4])
				if _, err := io.CopyN(io.Discard, br, int64(n+2)); err != nil {
					return
				}
				reply = map[string]string{"set": "STORED\r\n", "add": "NOT_STORED\r\n"}[f[0]]
			}
			if _, err := io.WriteString(c, reply); err != nil {
				return
			}
		}
	})
	real := testenv.StartMemcached(t)
	pc := faultPool(fake.Addr, real.Addr)
	pc.ReplicationFactor = 2
	tp := startPool(t, pc, nil)
	r := tp.px.pools[0].routes.Load()
	k := ""
	for i := 0; k == ""; i++ {
		if c := "fill:" + strconv.Itoa(i); r.ring.Pick([]byte(c)) == 0 {
			k = c
		}
	}
	if err := memcache.New(real.Addr).Set(&memcache.Item{Key: k, Value: []byte("old")}); err != nil {
		t.Fatal(err)
	}
	c := memcache.New(tp.addr)
	c.Timeout = 2 * time.Second
	if it, err := c.Get(k); err != nil || string(it.Value) != "old" {
		t.Fatalf("get %s: %+v, %v", k, it, err)
	}
	if got := gathered(t, tp.reg, "hashproxy_backfills_total", map[string]string{"result": "not_stored"}); got != 1 {
		t.Errorf("backfills not stored: %v, want 1", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Contains(" "+strings.Join(verbs, " ")+" ", " set ") || !strings.Contains(" "+strings.Join(verbs, " ")+" ", " add ") {
		t.Errorf("the first home was sent %v, want an add and no set", verbs)
	}
}
