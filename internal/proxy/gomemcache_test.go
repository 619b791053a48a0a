package proxy

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"hashproxy/internal/config"
	"hashproxy/internal/testenv"
)

// outcome is what one gomemcache call returned, comparable across servers.
type outcome struct {
	Value string
	Flags uint32
	Items map[string]string
	Num   uint64
	Err   string
}

func result(item *memcache.Item, err error) outcome {
	o := outcome{}
	if err != nil {
		o.Err = err.Error()
	}
	if item != nil {
		o.Value, o.Flags = string(item.Value), item.Flags
	}
	return o
}

// clientScript runs every gomemcache API call against c and records what
// each returned. The keys spread over every node of a proxy.
func clientScript(t *testing.T, c *memcache.Client) []outcome {
	t.Helper()
	var out []outcome
	rec := func(o outcome) { out = append(out, o) }
	errOnly := func(err error) outcome { return result(nil, err) }

	rec(errOnly(c.Ping()))
	rec(errOnly(c.FlushAll()))
	for i := 0; i < 20; i++ {
		k := "k" + strconv.Itoa(i)
		rec(errOnly(c.Set(&memcache.Item{Key: k, Value: []byte("v\r\n\x00" + k), Flags: uint32(i)})))
	}
	rec(result(c.Get("k3")))
	rec(result(c.Get("missing")))
	keys := []string{"missing1"}
	for i := 19; i >= 0; i -= 2 {
		keys = append(keys, "k"+strconv.Itoa(i), "missing"+strconv.Itoa(i))
	}
	items, err := c.GetMulti(keys)
	o := errOnly(err)
	o.Items = map[string]string{}
	for k, it := range items {
		o.Items[k] = fmt.Sprintf("%q/%d", it.Value, it.Flags)
	}
	rec(o)
	rec(errOnly(c.Add(&memcache.Item{Key: "k1", Value: []byte("x")})))
	rec(errOnly(c.Add(&memcache.Item{Key: "new", Value: []byte("x")})))
	rec(errOnly(c.Replace(&memcache.Item{Key: "k2", Value: []byte("r")})))
	rec(errOnly(c.Replace(&memcache.Item{Key: "absent", Value: []byte("r")})))
	rec(errOnly(c.Append(&memcache.Item{Key: "k2", Value: []byte("+a")})))
	rec(errOnly(c.Prepend(&memcache.Item{Key: "k2", Value: []byte("p+")})))
	rec(errOnly(c.Append(&memcache.Item{Key: "absent", Value: []byte("+a")})))
	rec(result(c.Get("k2")))

	it, err := c.Get("k4")
	rec(result(it, err))
	if it != nil {
		it.Value = []byte("cas1")
		rec(errOnly(c.CompareAndSwap(it)))
		it.Value = []byte("cas2") // stale cas id: conflict
		rec(errOnly(c.CompareAndSwap(it)))
	}
	rec(result(c.Get("k4")))

	rec(errOnly(c.Delete("k5")))
	rec(errOnly(c.Delete("k5")))
	rec(errOnly(c.Set(&memcache.Item{Key: "n", Value: []byte("10")})))
	n, err := c.Increment("n", 5)
	rec(outcome{Num: n, Err: errOnly(err).Err})
	n, err = c.Decrement("n", 20)
	rec(outcome{Num: n, Err: errOnly(err).Err})
	n, err = c.Increment("absent", 1)
	rec(outcome{Num: n, Err: errOnly(err).Err})
	rec(errOnly(c.Touch("k6", 100)))
	rec(errOnly(c.Touch("absent", 100)))
	rec(result(c.GetAndTouch("k7", 100)))
	rec(result(c.GetAndTouch("absent", 100)))
	big := make([]byte, 1<<20) // over the limit once the item header is counted
	rec(errOnly(c.Set(&memcache.Item{Key: "big", Value: big})))
	rec(result(c.Get("big")))
	rec(errOnly(c.Set(&memcache.Item{Key: "empty", Value: []byte{}})))
	rec(result(c.Get("empty")))
	rec(errOnly(c.FlushAll()))
	rec(result(c.Get("k1")))
	return out
}

// TestGomemcacheSameAsMemcached runs every gomemcache call through the
// proxy (3 nodes) and against one memcached directly, and requires the
// same results.
func TestGomemcacheSameAsMemcached(t *testing.T) {
	tp := startProxy(t, 3, namedMD5)
	direct := testenv.StartMemcached(t)
	r := tp.px.pools[0].routes.Load()
	owners := map[int]bool{}
	for i := range 20 {
		owners[r.ring.Pick([]byte("k"+strconv.Itoa(i)))] = true
	}
	if len(owners) != 3 {
		t.Fatalf("the script's keys span %d of 3 nodes", len(owners))
	}

	viaProxy := memcache.New(tp.addr)
	viaProxy.Timeout = 2 * time.Second
	viaDirect := memcache.New(direct.Addr)
	viaDirect.Timeout = 2 * time.Second

	want := clientScript(t, viaDirect)
	got := clientScript(t, viaProxy)
	if len(got) != len(want) {
		t.Fatalf("script length: got %d, want %d", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("call %d: proxy %+v, memcached %+v", i, got[i], want[i])
		}
	}
}

// TestKeysSpreadOverNodes checks that keys set through the proxy land on
// every node, each on the node the ring picks. (md5: twemproxy's fnv1a_64
// may put all of these similar short keys on one node.)
func TestKeysSpreadOverNodes(t *testing.T) {
	tp := startProxy(t, 3, func(p *config.Pool) { p.Hash = "md5" })
	c := memcache.New(tp.addr)
	r := tp.px.pools[0].routes.Load()
	perNode := make([]int, 3)
	for i := 0; i < 300; i++ {
		k := "spread" + strconv.Itoa(i)
		if err := c.Set(&memcache.Item{Key: k, Value: []byte(k)}); err != nil {
			t.Fatal(err)
		}
		owner := r.ring.Pick([]byte(k))
		perNode[owner]++
		it, err := memcache.New(tp.nodes[owner].Addr).Get(k)
		if err != nil || string(it.Value) != k {
			t.Fatalf("key %s not on its owner %s: %v", k, tp.nodes[owner].Addr, err)
		}
	}
	for i, n := range perNode {
		if n == 0 {
			t.Errorf("node %d got no keys", i)
		}
	}
	if _, err := c.Get("spread-missing"); !errors.Is(err, memcache.ErrCacheMiss) {
		t.Errorf("miss: got %v", err)
	}
}
