package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"hashproxy/internal/ring"
	"hashproxy/internal/testenv"
)

// namedNode is a memcached node and the name discovery gives it ("" for
// one known by its address).
type namedNode struct {
	name string
	proc *testenv.Process
}

// checkNamedPlacement sets keys through the proxy and checks each is on
// the node that a ketama ring (md5) over the nodes' names owns it by.
func checkNamedPlacement(t *testing.T, proxyAddr, prefix string, nodes []namedNode) {
	t.Helper()
	rn := make([]ring.Node, len(nodes))
	for i, n := range nodes {
		rn[i] = ring.Node{Addr: n.proc.Addr, Alias: n.name, Weight: 1}
	}
	r, err := ring.New(rn, ring.Options{Hash: "md5", Distribution: "ketama"})
	if err != nil {
		t.Fatal(err)
	}
	c := memcache.New(proxyAddr)
	c.Timeout = 2 * time.Second
	used := make(map[string]bool)
	for i := range 100 {
		k := prefix + strconv.Itoa(i)
		if err := c.Set(&memcache.Item{Key: k, Value: []byte(k)}); err != nil {
			t.Fatal(err)
		}
		owner := nodes[r.Pick([]byte(k))].proc.Addr
		used[owner] = true
		if it, err := memcache.New(owner).Get(k); err != nil || string(it.Value) != k {
			t.Fatalf("%s is not on %s, its owner: %v", k, owner, err)
		}
	}
	if len(used) != len(nodes) {
		t.Errorf("keys landed on %d of %d nodes", len(used), len(nodes))
	}
}

// serveConfig writes a native configuration with one pool "main" (hash
// md5, the given pool lines) and runs `hashproxy serve` with it.
func serveConfig(t *testing.T, pool string) *runningProxy {
	t.Helper()
	port, adminPort := testenv.FreePort(t), testenv.FreePort(t)
	cfg := fmt.Sprintf("admin:\n  listen: 127.0.0.1:%d\nlog:\n  level: debug\npools:\n  main:\n    listen: 127.0.0.1:%d\n    hash: md5\n%s",
		adminPort, port, pool)
	path := filepath.Join(t.TempDir(), "hashproxy.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	rp := runServe(t, []string{"--config", path}, "127.0.0.1:"+strconv.Itoa(port), "127.0.0.1:"+strconv.Itoa(adminPort))
	rp.admin = "127.0.0.1:" + strconv.Itoa(adminPort)
	return rp
}

// srvRecord is the SRV record of node n: its port and its name.
func srvRecord(n namedNode) string {
	return "SRV 0 0 " + strconv.Itoa(n.proc.Port) + " " + n.name + "."
}

// TestServeFollowsDNSSRV runs the binary over an SRV name whose targets
// change: keys are placed by the targets' names, a node added or removed
// changes the ring, a node that moves to a new address keeps its keys, and
// a failing resolver keeps the last good list.
func TestServeFollowsDNSSRV(t *testing.T) {
	if testing.Short() {
		t.Skip("starts memcached processes and waits for discovery rounds")
	}
	d := testenv.StartDNS(t)
	mc := []*testenv.Process{testenv.StartMemcached(t), testenv.StartMemcached(t), testenv.StartMemcached(t), testenv.StartMemcached(t)}
	const name = "_memcache._tcp.mc.test"
	setNodes := func(nodes ...namedNode) {
		var rrs []string
		for _, n := range nodes {
			rrs = append(rrs, srvRecord(n))
			d.Set(t, n.name, "A 127.0.0.1")
		}
		d.Set(t, name, rrs...)
	}
	n0, n1, n2 := namedNode{"mc-0.mc.test", mc[0]}, namedNode{"mc-1.mc.test", mc[1]}, namedNode{"mc-2.mc.test", mc[2]}
	setNodes(n0, n1)
	rp := serveConfig(t, "    discovery_interval: 100ms\n    discovery_resolver: "+d.Addr+"\n    servers:\n      - dnssrv+"+name+"\n")
	waitMetric(t, rp.admin, `hashproxy_discovered_servers{pool="main"}`, 2)
	checkNamedPlacement(t, rp.addr, "two:", []namedNode{n0, n1})

	setNodes(n0, n1, n2)
	waitMetric(t, rp.admin, `hashproxy_discovered_servers{pool="main"}`, 3)
	checkNamedPlacement(t, rp.addr, "three:", []namedNode{n0, n1, n2})

	// mc-1 moves: same name, another process. Its keys stay with the name.
	moved := namedNode{"mc-1.mc.test", mc[3]}
	setNodes(n0, moved, n2)
	waitFor(t, "mc-1 moved", func() bool { return strings.Contains(rp.output.String(), mc[3].Addr) })
	checkNamedPlacement(t, rp.addr, "moved:", []namedNode{n0, moved, n2})

	d.SetFailing(true)
	waitMetric(t, rp.admin, `hashproxy_discovery_errors_total{kind="lookup",pool="main"}`, 3)
	checkNamedPlacement(t, rp.addr, "failing:", []namedNode{n0, moved, n2})
	d.SetFailing(false)

	setNodes(n0, n2)
	waitMetric(t, rp.admin, `hashproxy_discovered_servers{pool="main"}`, 2)
	checkNamedPlacement(t, rp.addr, "removed:", []namedNode{n0, n2})
	out := rp.output.String()
	for _, want := range []string{"discovered nodes changed", "discovery failed, keeping the last good list of nodes"} {
		if !strings.Contains(out, want) {
			t.Errorf("no log line %q", want)
		}
	}
}

// TestServeFollowsDNSAddresses runs the binary over a name whose A records
// change: every address is a node on the port given, known by its address.
func TestServeFollowsDNSAddresses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts memcached processes and waits for discovery rounds")
	}
	d := testenv.StartDNS(t)
	port := testenv.FreePort(t)
	var nodes []namedNode
	for _, host := range []string{"127.0.0.2", "127.0.0.3", "127.0.0.4"} {
		nodes = append(nodes, namedNode{"", testenv.StartMemcachedAt(t, host, port)})
	}
	d.Set(t, "nodes.test", "A 127.0.0.3", "A 127.0.0.2")
	rp := serveConfig(t, "    discovery_interval: 100ms\n    discovery_resolver: "+d.Addr+"\n    servers:\n      - dns+nodes.test:"+strconv.Itoa(port)+"\n")
	checkNamedPlacement(t, rp.addr, "two:", nodes[:2])
	d.Set(t, "nodes.test", "A 127.0.0.3", "A 127.0.0.2", "A 127.0.0.4")
	waitMetric(t, rp.admin, `hashproxy_discovered_servers{pool="main"}`, 3)
	checkNamedPlacement(t, rp.addr, "three:", nodes)
	d.Set(t, "nodes.test") // no such name: kept, counted
	waitMetric(t, rp.admin, `hashproxy_discovery_errors_total{kind="empty",pool="main"}`, 2)
	checkNamedPlacement(t, rp.addr, "kept:", nodes)
}

// TestServeFollowsElastiCache runs the binary over a configuration
// endpoint whose node list changes; the nodes are real memcached.
func TestServeFollowsElastiCache(t *testing.T) {
	if testing.Short() {
		t.Skip("starts memcached processes and waits for discovery rounds")
	}
	e := testenv.StartConfigEndpoint(t)
	mc := []*testenv.Process{testenv.StartMemcached(t), testenv.StartMemcached(t), testenv.StartMemcached(t)}
	nodes := make([]namedNode, len(mc))
	entries := make([]string, len(mc))
	for i, p := range mc {
		nodes[i] = namedNode{fmt.Sprintf("mc.%04d.use1.cache.amazonaws.com", i+1), p}
		entries[i] = nodes[i].name + "|127.0.0.1|" + strconv.Itoa(p.Port)
	}
	e.Set(entries[:2]...)
	rp := serveConfig(t, "    discovery_interval: 100ms\n    elasticache: "+e.Addr+"\n")
	checkNamedPlacement(t, rp.addr, "two:", nodes[:2])
	e.Set(entries...)
	waitMetric(t, rp.admin, `hashproxy_discovered_servers{pool="main"}`, 3)
	checkNamedPlacement(t, rp.addr, "three:", nodes)
	e.Set(entries[1:]...)
	waitMetric(t, rp.admin, `hashproxy_discovered_servers{pool="main"}`, 2)
	checkNamedPlacement(t, rp.addr, "removed:", nodes[1:])
}

// TestServeDiscoveryFailsAtStart checks that a lookup that finds nothing
// at start stops the binary with a clear error instead of serving no node.
func TestServeDiscoveryFailsAtStart(t *testing.T) {
	d := testenv.StartDNS(t)
	path := filepath.Join(t.TempDir(), "hashproxy.yaml")
	cfg := "admin:\n  listen: ''\npools:\n  main:\n    listen: 127.0.0.1:0\n    discovery_resolver: " + d.Addr + "\n    servers: [dns+missing.test:11211]\n"
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(hashproxyBinary(t), "serve", "--config", path).CombinedOutput()
	if err == nil || !strings.Contains(string(out), `pool "main": discovery: dns+missing.test:11211:1: A/AAAA lookup of missing.test`) {
		t.Errorf("got %v\n%s", err, out)
	}
}

// TestServeLookupsFromFlags runs the binary without a file, its pool built
// from --server entries of every kind the file's servers list takes (an
// SRV lookup, an A lookup, an address) and --discovery-resolver: keys are
// placed over the nodes found by the names the lookups give them.
func TestServeLookupsFromFlags(t *testing.T) {
	if testing.Short() {
		t.Skip("starts memcached processes")
	}
	d := testenv.StartDNS(t)
	mc := []*testenv.Process{testenv.StartMemcached(t), testenv.StartMemcached(t), testenv.StartMemcached(t), testenv.StartMemcached(t)}
	n0, n1 := namedNode{"mc-0.mc.test", mc[0]}, namedNode{"mc-1.mc.test", mc[1]}
	const name = "_memcache._tcp.mc.test"
	d.Set(t, name, srvRecord(n0), srvRecord(n1))
	d.Set(t, n0.name, "A 127.0.0.1")
	d.Set(t, n1.name, "A 127.0.0.1")
	d.Set(t, "nodes.test", "A 127.0.0.1")
	addr, admin := "127.0.0.1:"+strconv.Itoa(testenv.FreePort(t)), "127.0.0.1:"+strconv.Itoa(testenv.FreePort(t))
	rp := runServe(t, []string{"--listen", addr, "--admin-listen", admin, "--discovery-resolver", d.Addr,
		"--server", "dnssrv+" + name, "--server", "dns+nodes.test:" + strconv.Itoa(mc[2].Port), "--server", mc[3].Addr}, addr, admin)
	rp.admin = admin
	waitMetric(t, rp.admin, `hashproxy_discovered_servers{pool="default"}`, 3)
	checkNamedPlacement(t, rp.addr, "flags:", []namedNode{n0, n1, {"", mc[2]}, {"", mc[3]}})
}

// TestServeLookupFlagsRefused checks that a --server entry the file would
// refuse is a usage error with the file's reason, and that
// --discovery-resolver belongs to a pool built from flags.
func TestServeLookupFlagsRefused(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--server", "dns+nodes.test:11211:1 name"}, "leave out the name"},
		{[]string{"--server", "dnssrv+10.0.0.1"}, `want "dnssrv+_service._proto.name[:weight]"`},
		{[]string{"--server", "dns+nodes.test:11211", "--discovery-resolver", "nodes.test"}, `discovery_resolver: "nodes.test" is not an ip:port`},
		{[]string{"--config", "hashproxy.yaml", "--discovery-resolver", "127.0.0.1:53"}, "cannot be used with --config"},
	} {
		_, _, err := runCmd(t, append([]string{"serve"}, tc.args...)...)
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != 2 || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want a usage error with %q", tc.args, err, tc.want)
		}
	}
}
