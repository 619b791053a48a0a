package proxy

import (
	"strconv"
	"testing"
	"time"

	metamc "github.com/QuangTung97/go-memcache/memcache"
	"github.com/bradfitz/gomemcache/memcache"
)

// TestMetaClientLibrary drives the proxy (3 nodes) with a meta-protocol
// client library, as its users would: pipelined multi-set and multi-get
// (ms and mg), multi-delete (md), and gomemcache reading the same items
// with classic get.
func TestMetaClientLibrary(t *testing.T) {
	tp := startProxy(t, 3, namedMD5)
	c, err := metamc.New(tp.addr, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const n = 200
	key := func(i int) string { return "meta-client:" + strconv.Itoa(i) }
	value := func(i int) []byte { return []byte("value-" + strconv.Itoa(i*i)) }

	p := c.Pipeline()
	var sets []func() (metamc.MSetResponse, error)
	for i := range n {
		sets = append(sets, p.MSet(key(i), value(i), metamc.MSetOptions{TTL: 300}))
	}
	for i, get := range sets {
		if resp, err := get(); err != nil || resp.Type != metamc.MSetResponseTypeHD {
			t.Fatalf("ms %s: %+v, %v", key(i), resp, err)
		}
	}
	p.Finish()

	// Multi-get of every key and as many never stored, interleaved.
	p = c.Pipeline()
	var gets []func() (metamc.MGetResponse, error)
	for i := range 2 * n {
		gets = append(gets, p.MGet(key(i), metamc.MGetOptions{CAS: i%2 == 0}))
	}
	for i, get := range gets {
		resp, err := get()
		switch {
		case err != nil:
			t.Fatalf("mg %s: %v", key(i), err)
		case i < n && (resp.Type != metamc.MGetResponseTypeVA || string(resp.Data) != string(value(i))):
			t.Fatalf("mg %s: %+v, want %q", key(i), resp, value(i))
		case i < n && i%2 == 0 && resp.CAS == 0:
			t.Fatalf("mg %s c: no cas in %+v", key(i), resp)
		case i >= n && resp.Type != metamc.MGetResponseTypeEN:
			t.Fatalf("mg %s, never stored: %+v", key(i), resp)
		}
	}
	p.Finish()

	// The same items through the classic protocol.
	gm := memcache.New(tp.addr)
	gm.Timeout = 2 * time.Second
	keys := make([]string, n)
	for i := range keys {
		keys[i] = key(i)
	}
	items, err := gm.GetMulti(keys)
	if err != nil || len(items) != n {
		t.Fatalf("classic get of %d keys: %d items, %v", n, len(items), err)
	}
	for i, k := range keys {
		if string(items[k].Value) != string(value(i)) {
			t.Fatalf("classic get %s = %q, want %q", k, items[k].Value, value(i))
		}
	}

	// Multi-delete of every other key, then a multi-get.
	p = c.Pipeline()
	var dels []func() (metamc.MDelResponse, error)
	for i := 0; i < n; i += 2 {
		dels = append(dels, p.MDel(key(i), metamc.MDelOptions{}))
	}
	for i, del := range dels {
		if resp, err := del(); err != nil || resp.Type != metamc.MDelResponseTypeHD {
			t.Fatalf("md %s: %+v, %v", key(2*i), resp, err)
		}
	}
	gets = gets[:0]
	for i := range n {
		gets = append(gets, p.MGet(key(i), metamc.MGetOptions{}))
	}
	for i, get := range gets {
		resp, err := get()
		want := metamc.MGetResponseTypeVA
		if i%2 == 0 {
			want = metamc.MGetResponseTypeEN
		}
		if err != nil || resp.Type != want {
			t.Fatalf("mg %s after deletes: %+v, %v", key(i), resp, err)
		}
	}
	p.Finish()
}
