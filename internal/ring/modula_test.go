package ring

import (
	"fmt"
	"testing"

	"github.com/bradfitz/gomemcache/memcache"
)

// TestModulaMatchesGomemcache checks modula with crc32a against
// gomemcache's ServerList.PickServer: 100,000 keys, 1 to 20 servers.
func TestModulaMatchesGomemcache(t *testing.T) {
	const keys = 100000
	for n := 1; n <= 20; n++ {
		addrs := make([]string, n)
		nodes := make([]Node, n)
		index := map[string]int{}
		for i := range addrs {
			addrs[i] = fmt.Sprintf("127.0.0.1:%d", 20000+i)
			nodes[i] = Node{Addr: addrs[i], Weight: 1}
			index[addrs[i]] = i
		}
		var ss memcache.ServerList
		if err := ss.SetServers(addrs...); err != nil {
			t.Fatal(err)
		}
		r, err := New(nodes, Options{Hash: "crc32a", Distribution: Modula})
		if err != nil {
			t.Fatal(err)
		}
		for k := range keys {
			key := fmt.Sprintf("user:%d:%x", k, k*7919)
			addr, err := ss.PickServer(key)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := r.Pick([]byte(key)), index[addr.String()]; got != want {
				t.Fatalf("%d servers, key %q: Pick = %d, gomemcache = %d", n, key, got, want)
			}
		}
	}
}

func TestModulaShares(t *testing.T) {
	r, err := New([]Node{{Addr: "a:1", Weight: 1}, {Addr: "b:1", Weight: 3}}, Options{Distribution: Modula})
	if err != nil {
		t.Fatal(err)
	}
	if s := r.Shares(); s[0] != 0.25 || s[1] != 0.75 {
		t.Fatalf("Shares = %v, want [0.25 0.75]", s)
	}
}
