package proxy

import (
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"hashproxy/internal/config"
	"hashproxy/internal/testenv"
)

// heavyKeys is how many keys the heavy homes tests write, as the issue's
// scenarios do.
const heavyKeys = 20000

// heavyKey is key i of the heavy tests.
func heavyKey(i int) string { return "home:" + strconv.Itoa(i) }

// writeHeavy sets every heavy key through addr, to its own name, with ttl.
func writeHeavy(t *testing.T, addr string, ttl int32) {
	t.Helper()
	c := memcache.New(addr)
	c.Timeout = 5 * time.Second
	for i := range heavyKeys {
		k := heavyKey(i)
		if err := c.Set(&memcache.Item{Key: k, Value: []byte(k), Expiration: ttl}); err != nil {
			t.Fatalf("set %s: %v", k, err)
		}
	}
}

// readHeavy reads every heavy key through addr, in multi-key gets of 100
// keys, and returns the misses; an error or a wrong value fails the test.
func readHeavy(t *testing.T, addr string) int {
	t.Helper()
	c := memcache.New(addr)
	c.Timeout = 5 * time.Second
	misses := 0
	keys := make([]string, 0, 100)
	for i := 0; i < heavyKeys; i += 100 {
		keys = keys[:0]
		for j := i; j < i+100 && j < heavyKeys; j++ {
			keys = append(keys, heavyKey(j))
		}
		got, err := c.GetMulti(keys)
		if err != nil {
			t.Fatalf("get %s...: %v", keys[0], err)
		}
		for _, k := range keys {
			it, ok := got[k]
			switch {
			case !ok:
				misses++
			case string(it.Value) != k:
				t.Fatalf("get %s: value %q", k, it.Value)
			}
		}
	}
	return misses
}

// TestHomesWarmRingChange is the warm ring change: three nodes
// hold 20,000 keys; a reload to a fourth node (or a node replaced by a new
// address with a new name, or a node removed while it still runs) with a
// 60s window costs no miss, and the moved keys, copied on that read, are
// found on their new homes the next time; without a window about a
// quarter (a third) miss.
func TestHomesWarmRingChange(t *testing.T) {
	if testing.Short() {
		t.Skip("20,000 keys over real memcached processes")
	}
	type change struct {
		name  string
		apply func(t *testing.T, tp *testProxy) config.Pool
		cold  [2]float64 // the share of keys that miss without a window: at least, at most
	}
	changes := []change{
		{"node added", func(t *testing.T, tp *testProxy) config.Pool {
			mc := testenv.StartMemcached(t)
			pc := tp.cfg
			pc.Servers = append(append([]config.Server(nil), tp.cfg.Servers...), reloadServer(mc, 1))
			return pc
		}, [2]float64{0.15, 0.35}},
		{"node replaced by a new address and name", func(t *testing.T, tp *testProxy) config.Pool {
			mc := testenv.StartMemcached(t)
			pc := tp.cfg
			pc.Servers = append([]config.Server(nil), tp.cfg.Servers...)
			pc.Servers[1] = reloadServer(mc, 1)
			pc.Servers[1].Name = "replacement"
			return pc
		}, [2]float64{0.3, 0.6}},
		{"node removed while it runs", func(t *testing.T, tp *testProxy) config.Pool {
			pc := tp.cfg
			pc.Servers = append([]config.Server(nil), tp.cfg.Servers[:2]...)
			return pc
		}, [2]float64{0.2, 0.45}},
	}
	for _, ch := range changes {
		t.Run(ch.name, func(t *testing.T) {
			for _, warmup := range []time.Duration{time.Minute, 0} {
				tp := startProxy(t, 3, func(p *config.Pool) {
					p.Hash = "md5"
					p.Warmup = warmup
				})
				writeHeavy(t, tp.addr, 600)
				if err := tp.px.Reload(reloadConfig(ch.apply(t, tp))); err != nil {
					t.Fatal(err)
				}
				misses := readHeavy(t, tp.addr)
				if warmup > 0 {
					if misses != 0 {
						t.Errorf("warm-up %v: %d of %d keys missed, want 0", warmup, misses, heavyKeys)
					}
					// The moved keys were copied to their new homes: read
					// again, they hit there, and no old home is read.
					fallbacks := gathered(t, tp.reg, "hashproxy_fallback_hits_total", nil)
					if misses := readHeavy(t, tp.addr); misses != 0 {
						t.Errorf("second read: %d misses", misses)
					}
					if more := gathered(t, tp.reg, "hashproxy_fallback_hits_total", nil) - fallbacks; more != 0 {
						t.Errorf("second read: %v keys still read from an old home", more)
					}
					t.Logf("%v of %d keys were read from their old home, then copied", fallbacks, heavyKeys)
					continue
				}
				t.Logf("without warm-up %d of %d keys missed", misses, heavyKeys)
				if share := float64(misses) / heavyKeys; share < ch.cold[0] || share > ch.cold[1] {
					t.Errorf("no warm-up: %.3f of the keys missed, want between %.2f and %.2f", share, ch.cold[0], ch.cold[1])
				}
			}
		})
	}
}

// TestHomesReplicatedNodeLoss is the replicated pool: two copies
// over four nodes hold 20,000 keys. With every node up each read reaches
// one node; with one node stopped (SIGSTOP), and then killed and started
// empty on its port, every key stays readable with no miss and no error;
// once it is back, its keys are copied to it on read.
// Once the stopped node is ejected, gets then cas works on keys whose first
// home it was (without ejection their writes fail, as without copies).
func TestHomesReplicatedNodeLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("20,000 keys over real memcached processes")
	}
	for _, eject := range []bool{true, false} {
		t.Run("auto_eject_hosts="+strconv.FormatBool(eject), func(t *testing.T) {
			tp := startProxy(t, 4, func(p *config.Pool) {
				replicated(p)
				p.AutoEjectHosts = eject
				p.Timeout = time.Second
			})
			writeHeavy(t, tp.addr, 0)
			// Let the last copies land before counting gets.
			hasValue(t, tp, homesOfKey(tp, heavyKey(heavyKeys-1), 2)[1], heavyKey(heavyKeys-1), heavyKey(heavyKeys-1), 0)

			before := totalGets(t, tp)
			if misses := readHeavy(t, tp.addr); misses != 0 {
				t.Fatalf("all nodes up: %d misses", misses)
			}
			if got := totalGets(t, tp) - before; got != heavyKeys {
				t.Errorf("all nodes up: %d gets reached the nodes for %d keys, want one each", got, heavyKeys)
			}

			const lost = 2
			victim := tp.nodes[lost]
			if err := syscall.Kill(victim.PID(), syscall.SIGSTOP); err != nil {
				t.Fatal(err)
			}
			stopped := true
			defer func() {
				if stopped {
					_ = syscall.Kill(victim.PID(), syscall.SIGCONT)
				}
			}()
			if misses := readHeavy(t, tp.addr); misses != 0 {
				t.Errorf("node stopped: %d misses", misses)
			}
			if eject {
				casOnLostNode(t, tp, lost)
			}

			victim.Stop()
			stopped = false
			testenv.RestartMemcached(t, victim)
			if misses := readHeavy(t, tp.addr); misses != 0 {
				t.Errorf("node restarted empty: %d misses", misses)
			}
			// Once it is back, its keys were copied to it on read: reading
			// them again reaches it alone.
			waitFor(t, 10*time.Second, "the restarted node serves", func() bool { return tp.px.pools[0].conf.Load().nodes[lost].srv.Up() })
			readHeavy(t, tp.addr)
			fallbacks := gathered(t, tp.reg, "hashproxy_fallback_hits_total", nil)
			if misses := readHeavy(t, tp.addr); misses != 0 {
				t.Errorf("after the backfill: %d misses", misses)
			}
			if more := gathered(t, tp.reg, "hashproxy_fallback_hits_total", nil) - fallbacks; more != 0 {
				t.Errorf("after the backfill: %v reads still answered by a second home", more)
			}
		})
	}
}

// casOnLostNode does gets then cas, through the proxy, on a key whose
// first home is node lost, and requires the cas to succeed.
func casOnLostNode(t *testing.T, tp *testProxy, lost int) {
	t.Helper()
	c := memcache.New(tp.addr)
	c.Timeout = 5 * time.Second
	full := tp.px.pools[0].conf.Load()
	r, err := newRing(full.cfg, full.cfg.Servers)
	if err != nil {
		t.Fatal(err)
	}
	for i := range heavyKeys {
		k := heavyKey(i)
		if r.Pick([]byte(k)) != lost {
			continue
		}
		it, err := c.Get(k)
		if err != nil {
			t.Fatalf("gets %s: %v", k, err)
		}
		it.Value = []byte("swapped")
		if err := c.CompareAndSwap(it); err != nil {
			t.Fatalf("cas %s with its first home lost: %v", k, err)
		}
		if got, err := c.Get(k); err != nil || string(got.Value) != "swapped" {
			t.Fatalf("after cas, %s: %+v, %v", k, got, err)
		}
		if err := c.Set(&memcache.Item{Key: k, Value: []byte(k)}); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatal("no key has the lost node as its first home")
}
