package proxy

import (
	"strconv"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"hashproxy/internal/config"
	"hashproxy/internal/testenv"
)

// TestUnixSocketServersPlacedAsNutcracker: with servers on Unix sockets,
// named and unnamed, ketama and modula place every key on the node the real
// nutcracker puts it on, reading the same nutcracker.yml.
func TestUnixSocketServersPlacedAsNutcracker(t *testing.T) {
	if testing.Short() {
		t.Skip("the nutcracker oracle over four memcached processes")
	}
	nodes := []*testenv.Process{testenv.StartMemcachedSocket(t), testenv.StartMemcachedSocket(t), testenv.StartMemcachedSocket(t), testenv.StartMemcached(t)}
	direct := make([]*memcache.Client, len(nodes))
	for i, n := range nodes {
		direct[i] = memcache.New(n.Addr)
	}
	servers := []string{nodes[0].Addr + ":1", nodes[1].Addr + ":2 two", nodes[2].Addr + ":1", nodes[3].Addr + ":1"}
	for _, dist := range []string{"ketama", "modula"} {
		t.Run(dist, func(t *testing.T) {
			port := testenv.FreePort(t)
			yml := "p:\n  listen: 127.0.0.1:" + strconv.Itoa(port) + "\n  hash: md5\n  distribution: " + dist + "\n  servers:\n"
			for _, s := range servers {
				yml += "   - " + s + "\n"
			}
			testenv.StartNutcracker(t, yml, port)
			cfg, err := config.Parse("nutcracker.yml", []byte(yml))
			if err != nil {
				t.Fatal(err)
			}
			r, err := PoolRing(cfg.Pools[0])
			if err != nil {
				t.Fatal(err)
			}
			nc := memcache.New("127.0.0.1:" + strconv.Itoa(port))
			nc.Timeout = 2 * time.Second
			onNode := make([]int, len(nodes))
			for i := 0; i < 400; i++ {
				k := dist + ":" + strconv.Itoa(i)
				if err := nc.Set(&memcache.Item{Key: k, Value: []byte(k)}); err != nil {
					t.Fatalf("set %s through nutcracker: %v", k, err)
				}
				owner := r.Pick([]byte(k))
				if it, err := direct[owner].Get(k); err != nil || string(it.Value) != k {
					t.Fatalf("nutcracker put %s elsewhere than on %s, where hashproxy places it: %v", k, nodes[owner].Addr, err)
				}
				onNode[owner]++
			}
			for i, n := range onNode {
				if n == 0 {
					t.Errorf("no key on node %d: %v", i, onNode)
				}
			}
		})
	}
}
