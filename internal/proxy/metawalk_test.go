package proxy

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
)

// TestMetaWalk loses a key on its first home and reads it with mg through
// the proxy: the second home answers, the value is copied back with its
// flags and TTL, and the reply (CAS unique included) is the first home's;
// a quiet mg of a key on no home shows nothing; an mg of a base64 key
// walks and copies the same way.
func TestMetaWalk(t *testing.T) {
	tp := startProxy(t, 3, replicated)
	c := memcache.New(tp.addr)
	c.Timeout = 2 * time.Second
	k := "meta:walk"
	if err := c.Set(&memcache.Item{Key: k, Value: []byte("hello"), Flags: 9, Expiration: 300}); err != nil {
		t.Fatal(err)
	}
	homes := homesOfKey(tp, k, 2)
	hasValue(t, tp, homes[1], k, "hello", 9)
	if err := direct(tp, homes[0]).Delete(k); err != nil {
		t.Fatal(err)
	}
	rc := dialRaw(t, tp.addr)
	rc.send("mg " + k + " v f c\r\n")
	line := rc.line()
	if !strings.HasPrefix(line, "VA 5 f9 c") {
		t.Fatalf("mg: %q", line)
	}
	if got := rc.line(); got != "hello" {
		t.Fatalf("mg value: %q", got)
	}
	first := dialRaw(t, tp.nodes[homes[0]].Addr)
	first.send("mg " + k + " v f c\r\n")
	if got := first.line(); got != line {
		t.Errorf("the client got %q, the first home holds %q", line, got)
	}
	if ttl := nodeTTL(t, tp, homes[0], k); ttl < 295 || ttl > 300 {
		t.Errorf("backfilled TTL %d, want about 300", ttl)
	}
	if got := gathered(t, tp.reg, "hashproxy_fallback_hits_total", map[string]string{"reason": "replica"}); got != 1 {
		t.Errorf("fallback hits %v, want 1", got)
	}

	rc.send("mg meta:nowhere v q\r\nmg meta:nowhere v\r\nmn\r\n")
	for _, want := range []string{"EN", "MN"} {
		if got := rc.line(); got != want {
			t.Fatalf("quiet and plain mg of a key on no home, then mn: got %q, want %q", got, want)
		}
	}

	bin := "\x00meta\xff"
	b64 := base64.StdEncoding.EncodeToString([]byte(bin))
	rc.send("ms " + b64 + " 3 b T0\r\nbin\r\n")
	if got := rc.line(); got != "HD" {
		t.Fatalf("ms b: %q", got)
	}
	bh := homesOfKey(tp, bin, 2)
	waitFor(t, 2*time.Second, "the base64 key's second copy", func() bool {
		n := dialRaw(t, tp.nodes[bh[1]].Addr)
		n.send("mg " + b64 + " b v\r\n")
		return n.line() == "VA 3"
	})
	del := dialRaw(t, tp.nodes[bh[0]].Addr)
	del.send("md " + b64 + " b\r\n")
	if got := del.line(); got != "HD" {
		t.Fatalf("md on the first home: %q", got)
	}
	rc.send("mg " + b64 + " b v\r\n")
	if got := rc.line(); got != "VA 3 b" && got != "VA 3" {
		t.Fatalf("mg b: %q", got)
	}
	if got := rc.line(); got != "bin" {
		t.Fatalf("mg b value: %q", got)
	}
	del.send("mg " + b64 + " b v t\r\n")
	if got := del.line(); !strings.HasPrefix(got, "VA 3") || !strings.Contains(got, "t3600") && !strings.Contains(got, "t359") {
		t.Errorf("the base64 key on its first home after the walk: %q, want it copied with backfill_max_ttl", got)
	}
}
