package proxy

import (
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/prometheus/client_golang/prometheus"

	"hashproxy/internal/config"
	"hashproxy/internal/ring"
	"hashproxy/internal/testenv"
)

// reloadConfig is a configuration with the one pool pc.
func reloadConfig(pc config.Pool) *config.Config {
	c := config.Default()
	c.Pools = []config.Pool{pc}
	return &c
}

// reloadServer is the configured server of a memcached node.
func reloadServer(mc *testenv.Process, weight int) config.Server {
	return config.Server{Addr: mc.Addr, Host: "127.0.0.1", Port: mc.Port, Weight: weight}
}

// reloadCounter reads a counter or gauge of reg; ok is false when the series
// does not exist.
func reloadCounter(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) (v float64, ok bool) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			have := make(map[string]string)
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue metrics
				}
			}
			if m.Counter != nil {
				return m.Counter.GetValue(), true
			}
			return m.Gauge.GetValue(), true
		}
	}
	return 0, false
}

// nodeServers returns the upstream servers of the pool's nodes by address.
func reloadServers(tp *testProxy) map[string]*node {
	out := make(map[string]*node)
	for _, n := range tp.px.pools[0].conf.Load().nodes {
		out[n.cfg.Addr] = n
	}
	return out
}

func TestReloadRejectsBadConfig(t *testing.T) {
	tp := startProxy(t, 2, func(pc *config.Pool) { pc.Hash = "md5" })
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	invalid := tp.cfg
	invalid.Distribution = "nope"
	listenBusy := tp.cfg
	listenBusy.Listen = busy.Addr().String()
	listenBusy.Servers = tp.cfg.Servers[:1]
	routes := tp.px.pools[0].routes.Load()

	for i, pc := range []config.Pool{invalid, listenBusy} {
		err := tp.px.Reload(reloadConfig(pc))
		if err == nil {
			t.Fatalf("reload %d: accepted", i)
		}
		t.Logf("reload %d: %v", i, err)
		if got := tp.px.pools[0].routes.Load(); got != routes {
			t.Fatalf("reload %d: the routes changed", i)
		}
		if v, _ := reloadCounter(t, tp.reg, "hashproxy_config_reloads_total", map[string]string{"result": "failure"}); v != float64(i+1) {
			t.Errorf("failed reloads = %v, want %d", v, i+1)
		}
	}
	if got := tp.px.Addr(tp.cfg.Name).String(); got != tp.addr {
		t.Errorf("listening on %s, want still %s", got, tp.addr)
	}
	c := memcache.New(tp.addr)
	for i := range 50 {
		k := "still:" + strconv.Itoa(i)
		if err := c.Set(&memcache.Item{Key: k, Value: []byte(k)}); err != nil {
			t.Fatal(err)
		}
		owner := tp.nodes[routes.ring.Pick([]byte(k))].Addr
		if _, err := memcache.New(owner).Get(k); err != nil {
			t.Fatalf("%s not on %s, its owner in the old ring: %v", k, owner, err)
		}
	}
}

func TestReloadMovesListener(t *testing.T) {
	tp := startProxy(t, 1, nil)
	old := dialRaw(t, tp.addr)
	old.send("set moved 0 0 1\r\na\r\n")
	if got := old.line(); got != "STORED" {
		t.Fatalf("set: %q", got)
	}
	pc := tp.cfg
	pc.Listen = "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	if err := tp.px.Reload(reloadConfig(pc)); err != nil {
		t.Fatal(err)
	}
	if got := tp.px.Addr(pc.Name).String(); got != pc.Listen {
		t.Errorf("Addr = %s, want %s", got, pc.Listen)
	}
	if c, err := net.DialTimeout("tcp", tp.addr, time.Second); err == nil {
		c.Close()
		t.Error("the old address still accepts connections")
	}
	old.send("get moved\r\n")
	if got := old.line(); got != "VALUE moved 0 1" {
		t.Fatalf("connected client after the move: %q", got)
	}
	old.line()
	old.line()
	moved := dialRaw(t, pc.Listen)
	moved.send("get moved\r\n")
	if got := moved.line(); got != "VALUE moved 0 1" {
		t.Fatalf("new address: %q", got)
	}
}

func TestReloadAddsAndRemovesPools(t *testing.T) {
	tp := startProxy(t, 1, nil)
	mc := testenv.StartMemcached(t)
	second := config.DefaultPool()
	second.Name = "second"
	second.Listen = "127.0.0.1:0"
	second.Servers = []config.Server{reloadServer(mc, 1)}
	both := reloadConfig(tp.cfg)
	both.Pools = append(both.Pools, second)
	if err := tp.px.Reload(both); err != nil {
		t.Fatal(err)
	}
	addr := tp.px.Addr("second")
	if addr == nil {
		t.Fatal("the new pool does not listen")
	}
	c := dialRaw(t, addr.String())
	c.send("set pooled 0 0 2\r\nhi\r\n")
	if got := c.line(); got != "STORED" {
		t.Fatalf("set through the new pool: %q", got)
	}
	if it, err := memcache.New(mc.Addr).Get("pooled"); err != nil || string(it.Value) != "hi" {
		t.Fatalf("not on the new pool's node: %v", err)
	}

	if err := tp.px.Reload(reloadConfig(tp.cfg)); err != nil {
		t.Fatal(err)
	}
	if tp.px.Addr("second") != nil {
		t.Error("the removed pool still has an address")
	}
	// Its client is disconnected once it has its replies.
	_ = c.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := c.br.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Errorf("removed pool's client: read %d bytes, %v; want EOF", n, err)
	}
	if _, ok := reloadCounter(t, tp.reg, "hashproxy_client_connections", map[string]string{"pool": "second"}); ok {
		t.Error("the removed pool still has series")
	}
	// The first pool serves on.
	if got := string(exchange(t, tp.addr, []byte("version\r\n"))); !strings.HasPrefix(got, "VERSION ") {
		t.Errorf("version: %q", got)
	}
}

func TestReloadReweightKeepsConnections(t *testing.T) {
	tp := startProxy(t, 3, func(pc *config.Pool) { pc.Hash = "md5" })
	before := reloadServers(tp)
	pc := tp.cfg
	pc.Servers = append([]config.Server(nil), tp.cfg.Servers...)
	pc.Servers[0].Weight = 5
	pc.Distribution = "md5_ring"
	if err := tp.px.Reload(reloadConfig(pc)); err != nil {
		t.Fatal(err)
	}
	after := reloadServers(tp)
	for addr, n := range before {
		if after[addr].srv != n.srv {
			t.Errorf("%s: new upstream server after a reweight", addr)
		}
	}
	rn := make([]ring.Node, len(pc.Servers))
	for i, s := range pc.Servers {
		rn[i] = ring.Node{Addr: s.Addr, Weight: s.Weight}
	}
	want, err := ring.New(rn, ring.Options{Hash: pc.Hash, Distribution: pc.Distribution, Replicas: pc.Replicas})
	if err != nil {
		t.Fatal(err)
	}
	got := tp.px.pools[0].routes.Load().ring
	for i := range 1000 {
		k := []byte("weighted:" + strconv.Itoa(i))
		if got.Pick(k) != want.Pick(k) {
			t.Fatalf("%s: routed to %d, the new ring says %d", k, got.Pick(k), want.Pick(k))
		}
	}

	// A new timeout changes every connection: every node gets a new server,
	// and the old ones close.
	pc.Timeout = 3 * time.Second
	if err := tp.px.Reload(reloadConfig(pc)); err != nil {
		t.Fatal(err)
	}
	for addr, n := range reloadServers(tp) {
		if n.srv == before[addr].srv {
			t.Errorf("%s kept its server after a timeout change", addr)
		}
	}
	if got := string(exchange(t, tp.addr, []byte("set t 0 0 1\r\nx\r\n"))); got != "STORED\r\n" {
		t.Errorf("set after the timeout change: %q", got)
	}
}
