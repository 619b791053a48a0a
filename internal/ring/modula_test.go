package ring

import (
	"fmt"
	"slices"
	"strconv"
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

// TestModulaTwemproxyOrder pins twemproxy's order of modula slots: servers
// sorted by name, shorter first, whatever order the list gives them in.
func TestModulaTwemproxyOrder(t *testing.T) {
	listed := []Node{
		{Addr: "10.0.0.2:11212", Weight: 1},  // name "10.0.0.2:11212"
		{Addr: "10.0.0.10:11211", Weight: 2}, // name "10.0.0.10"
		{Addr: "10.0.0.1:11211", Weight: 1},  // name "10.0.0.1"
		{Addr: "10.0.0.3:11211", Alias: "b", Weight: 1},
	}
	if got, want := twemproxyOrder(namesFor(listed, ketamaName)), []int{3, 2, 1, 0}; !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
	r, err := New(listed, Options{Distribution: Modula, Hash: "crc32a", TwemproxyOrder: true})
	if err != nil {
		t.Fatal(err)
	}
	sorted := []Node{listed[3], listed[2], listed[1], listed[0]}
	rs, err := New(sorted, Options{Distribution: Modula, Hash: "crc32a"})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 1000; i++ {
		k := []byte("key" + strconv.Itoa(i))
		if got, want := r.Node(r.Pick(k)), rs.Node(rs.Pick(k)); got != want {
			t.Fatalf("%s: %v, want %v (the sorted list's placement)", k, got, want)
		}
	}
}
