package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"hashproxy/internal/testenv"
)

// twoPoolYAML is a twemproxy nutcracker.yml with two memcached pools, each
// over its own nodes, using every pool key twemproxy knows for memcached.
func twoPoolYAML(alphaPort, betaPort int, alpha, beta []*testenv.Process) string {
	return fmt.Sprintf(`alpha:
  listen: 127.0.0.1:%d
  hash: murmur
  distribution: ketama
  timeout: 400
  backlog: 1024
  preconnect: true
  redis: false
  tcpkeepalive: true
  client_connections: 100
  server_connections: 1
  auto_eject_hosts: false
  server_retry_timeout: 2000
  server_failure_limit: 2
  servers:
   - %s:1 cache-a1
   - %s:2 cache-a2
   - %s:1

beta:
  listen: 127.0.0.1:%d
  hash: crc32a
  hash_tag: "{}"
  distribution: modula
  timeout: 400
  servers:
   - %s:1
   - %s:1
`, alphaPort, alpha[0].Addr, alpha[1].Addr, alpha[2].Addr, betaPort, beta[0].Addr, beta[1].Addr)
}

// poolKeys sets n keys through c, each with a value naming the pool, and
// returns them.
func poolKeys(t *testing.T, c *memcache.Client, pool string, n int) []string {
	t.Helper()
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "user:" + strconv.Itoa(i*7919)
		if err := c.Set(&memcache.Item{Key: keys[i], Value: []byte(pool + "/" + keys[i])}); err != nil {
			t.Fatalf("%s: set %s: %v", pool, keys[i], err)
		}
	}
	return keys
}

// checkOnNodes requires every key to be stored with its pool's value on
// exactly one of nodes, every node to hold some, and none of others to
// hold any of the pool's values.
func checkOnNodes(t *testing.T, pool string, keys []string, nodes, others []*testenv.Process) {
	t.Helper()
	seen := map[string]int{}
	for _, n := range nodes {
		got, err := memcache.New(n.Addr).GetMulti(keys)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 {
			t.Errorf("%s: node %s holds none of the keys", pool, n.Addr)
		}
		for k, it := range got {
			if string(it.Value) == pool+"/"+k {
				seen[k]++
			}
		}
	}
	for _, k := range keys {
		if seen[k] != 1 {
			t.Errorf("%s: key %s is on %d of the pool's nodes, want 1", pool, k, seen[k])
		}
	}
	for _, n := range others {
		got, err := memcache.New(n.Addr).GetMulti(keys)
		if err != nil {
			t.Fatal(err)
		}
		for k, it := range got {
			if string(it.Value) == pool+"/"+k {
				t.Errorf("%s: key %s is on %s, a node of another pool", pool, k, n.Addr)
			}
		}
	}
}

// TestServeNutcrackerYAML serves a twemproxy nutcracker.yml with two pools,
// unchanged: each pool on its own listener, over its own nodes, with its
// own hash and distribution, keys placed where nutcracker places them.
func TestServeNutcrackerYAML(t *testing.T) {
	alpha := []*testenv.Process{testenv.StartMemcached(t), testenv.StartMemcached(t), testenv.StartMemcached(t)}
	beta := []*testenv.Process{testenv.StartMemcached(t), testenv.StartMemcached(t)}
	// twemproxy sorts a pool's servers by name (shorter first, then byte
	// order) and its modula takes them in that order. List beta's servers
	// the other way round: a nutcracker.yml must still place as nutcracker.
	slices.SortFunc(beta, func(a, b *testenv.Process) int {
		return -cmp.Or(cmp.Compare(len(a.Addr), len(b.Addr)), strings.Compare(a.Addr, b.Addr))
	})
	alphaPort, betaPort := testenv.FreePort(t), testenv.FreePort(t)
	path := filepath.Join(t.TempDir(), "nutcracker.yml")
	if err := os.WriteFile(path, []byte(twoPoolYAML(alphaPort, betaPort, alpha, beta)), 0o644); err != nil {
		t.Fatal(err)
	}
	alphaAddr, betaAddr := "127.0.0.1:"+strconv.Itoa(alphaPort), "127.0.0.1:"+strconv.Itoa(betaPort)
	rp := runServe(t, []string{"--config", path, "--admin-listen", ""}, alphaAddr, betaAddr)

	clients := map[string]*memcache.Client{"alpha": memcache.New(alphaAddr), "beta": memcache.New(betaAddr)}
	keys := map[string][]string{}
	for pool, c := range clients {
		c.Timeout = 2 * time.Second
		keys[pool] = poolKeys(t, c, pool, 200)
		got, err := c.GetMulti(append(keys[pool], "absent"))
		if err != nil || len(got) != len(keys[pool]) {
			t.Fatalf("%s: GetMulti: %d items, %v", pool, len(got), err)
		}
		if n, err := c.Increment("absent", 1); !errors.Is(err, memcache.ErrCacheMiss) {
			t.Errorf("%s: incr of a missing key: %d, %v", pool, n, err)
		}
	}
	checkOnNodes(t, "alpha", keys["alpha"], alpha, beta)
	checkOnNodes(t, "beta", keys["beta"], beta, alpha)

	// beta's hash tag: keys sharing the tag share a node.
	for i := range 20 {
		tag := "{" + strconv.Itoa(i) + "}"
		for _, k := range []string{"a" + tag, "b" + tag + ":x", tag + "c"} {
			if err := clients["beta"].Set(&memcache.Item{Key: k, Value: []byte("beta/" + k)}); err != nil {
				t.Fatal(err)
			}
		}
		var holders []string
		for _, n := range beta {
			if got, _ := memcache.New(n.Addr).GetMulti([]string{"a" + tag, "b" + tag + ":x", tag + "c"}); len(got) > 0 {
				holders = append(holders, n.Addr+":"+strconv.Itoa(len(got)))
			}
		}
		if len(holders) != 1 || !strings.HasSuffix(holders[0], ":3") {
			t.Errorf("keys tagged %s are spread: %v", tag, holders)
		}
	}

	t.Run("placed as nutcracker places them", func(t *testing.T) {
		ap, bp := testenv.FreePort(t), testenv.FreePort(t)
		testenv.StartNutcracker(t, twoPoolYAML(ap, bp, alpha, beta), ap, bp)
		for pool, port := range map[string]int{"alpha": ap, "beta": bp} {
			nc := memcache.New("127.0.0.1:" + strconv.Itoa(port))
			nc.Timeout = 2 * time.Second
			got, err := nc.GetMulti(keys[pool])
			if err != nil {
				t.Fatalf("%s through nutcracker: %v", pool, err)
			}
			for _, k := range keys[pool] {
				if it, ok := got[k]; !ok || string(it.Value) != pool+"/"+k {
					t.Errorf("%s: nutcracker does not find %s where hashproxy put it", pool, k)
				}
			}
		}
	})

	if err := rp.stop(t); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
}

// TestServeRejectsRedisPool: a nutcracker.yml with a redis pool is refused
// with the file, the line and the reason, and a non-zero exit.
func TestServeRejectsRedisPool(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nutcracker.yml")
	body := "cache:\n  listen: 127.0.0.1:1\n  servers:\n   - 127.0.0.1:11211:1\n" +
		"sessions:\n  listen: 127.0.0.1:2\n  redis: true\n  servers:\n   - 127.0.0.1:6379:1\n"
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, hashproxyBinary(t), "serve", "--config", path, "--admin-listen", "").CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() == 0 {
		t.Fatalf("want a non-zero exit, got %v\n%s", err, out)
	}
	for _, want := range []string{path + ":7", `pool "sessions"`, "redis pools are not supported"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the error does not say %q:\n%s", want, out)
		}
	}
}
