package proxy

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/prometheus/client_golang/prometheus"

	"hashproxy/internal/config"
	"hashproxy/internal/ring"
	"hashproxy/internal/testenv"
)

// reloadLoad is continuous pipelined traffic over several client
// connections: batches of set and get on each connection's own keys, every
// reply checked. A get may miss (its set went to the key's previous owner
// just before the reload) but never returns a wrong value.
type reloadLoad struct {
	stop   chan struct{}
	wg     sync.WaitGroup
	pairs  atomic.Int64 // set+get pairs answered correctly
	misses atomic.Int64
	mu     sync.Mutex
	errs   []error
}

const (
	reloadBatch = 16 // set+get pairs per pipelined write
	reloadKeys  = 64 // keys per connection
)

// startReloadLoad opens conns connections to addr and keeps them busy until
// finish.
func startReloadLoad(t *testing.T, addr string, conns int) *reloadLoad {
	t.Helper()
	l := &reloadLoad{stop: make(chan struct{})}
	for id := range conns {
		nc, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nc.Close() })
		l.wg.Add(1)
		go l.run(nc, id)
	}
	return l
}

// finish stops the traffic and returns the errors seen.
func (l *reloadLoad) finish() []error {
	close(l.stop)
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.errs
}

// waitPairs waits until n more pairs have been answered.
func (l *reloadLoad) waitPairs(t *testing.T, n int64) {
	t.Helper()
	want := l.pairs.Load() + n
	deadline := time.Now().Add(10 * time.Second)
	for l.pairs.Load() < want {
		if time.Now().After(deadline) {
			t.Fatalf("load stalled at %d pairs, want %d (errors: %v)", l.pairs.Load(), want, l.finish())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (l *reloadLoad) fail(id int, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs = append(l.errs, fmt.Errorf("connection %d: %w", id, err))
}

// run is one connection's traffic: it ends at stop, at the first error, or
// after a bounded number of rounds.
func (l *reloadLoad) run(nc net.Conn, id int) {
	defer l.wg.Done()
	br := bufio.NewReader(nc)
	var req []byte
	keys := make([]string, reloadBatch)
	values := make([]string, reloadBatch)
	for round := 0; round < 1_000_000; round++ {
		select {
		case <-l.stop:
			return
		default:
		}
		req = req[:0]
		for j := range reloadBatch {
			keys[j] = "reload:" + strconv.Itoa(id) + ":" + strconv.Itoa((round*reloadBatch+j)%reloadKeys)
			values[j] = "value-" + strconv.Itoa(round) + "-" + strconv.Itoa(j)
			req = fmt.Appendf(req, "set %s 0 0 %d\r\n%s\r\nget %s\r\n", keys[j], len(values[j]), values[j], keys[j])
		}
		_ = nc.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := nc.Write(req); err != nil {
			l.fail(id, err)
			return
		}
		for j := range reloadBatch {
			if err := l.readPair(br, keys[j], values[j]); err != nil {
				l.fail(id, err)
				return
			}
			l.pairs.Add(1)
		}
	}
}

// readPair reads the replies to one set and the get after it.
func (l *reloadLoad) readPair(br *bufio.Reader, key, value string) error {
	line, err := br.ReadString('\n')
	if err != nil {
		return err
	}
	if line != "STORED\r\n" {
		return fmt.Errorf("set %s: %q", key, line)
	}
	if line, err = br.ReadString('\n'); err != nil {
		return err
	}
	if line == "END\r\n" {
		l.misses.Add(1)
		return nil
	}
	if want := fmt.Sprintf("VALUE %s 0 %d\r\n", key, len(value)); line != want {
		return fmt.Errorf("get %s: %q, want %q", key, line, want)
	}
	data := make([]byte, len(value)+len("\r\nEND\r\n"))
	if _, err := io.ReadFull(br, data); err != nil {
		return err
	}
	if string(data) != value+"\r\nEND\r\n" {
		return fmt.Errorf("get %s: %q, want %q", key, data, value)
	}
	return nil
}

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

// TestReloadUnderLoad replaces a node under load, without a warm-up
// window (see warmup_test.go for the window): the removed node closes
// after its grace period.
func TestReloadUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("a node replaced under seconds of load")
	}
	tp := startProxy(t, 3, func(pc *config.Pool) { pc.Hash = "md5"; pc.ServerConnections = 2; pc.Warmup = 0 })
	added := testenv.StartMemcached(t)
	before := reloadServers(tp)
	removed := before[tp.nodes[2].Addr]

	load := startReloadLoad(t, tp.addr, 4)
	load.waitPairs(t, 500)
	pc := tp.cfg
	pc.Servers = []config.Server{tp.cfg.Servers[0], tp.cfg.Servers[1], reloadServer(added, 1)}
	if err := tp.px.Reload(reloadConfig(pc)); err != nil {
		t.Fatal(err)
	}
	load.waitPairs(t, 2000)
	if errs := load.finish(); len(errs) > 0 {
		t.Fatalf("client-visible errors through the reload: %v", errs)
	}
	t.Logf("%d set+get pairs, %d gets missed a key that moved", load.pairs.Load(), load.misses.Load())

	after := reloadServers(tp)
	for _, mc := range tp.nodes[:2] {
		if after[mc.Addr] != before[mc.Addr] {
			t.Errorf("node %s was replaced, want its connections kept", mc.Addr)
		}
	}
	if _, ok := after[added.Addr]; !ok || len(after) != 3 {
		t.Fatalf("nodes after reload: %v", after)
	}
	deadline := time.Now().Add(removedNodeGrace + 3*time.Second)
	for removed.srv.Stat().Connections > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the removed node's connections are still open")
		}
		time.Sleep(10 * time.Millisecond)
	}

	// Keys land where a ring over the new server list puts them.
	rn := make([]ring.Node, len(pc.Servers))
	for i, s := range pc.Servers {
		rn[i] = ring.Node{Addr: s.Addr, Weight: s.Weight}
	}
	r, err := ring.New(rn, ring.Options{Hash: pc.Hash, Distribution: pc.Distribution, Replicas: pc.Replicas})
	if err != nil {
		t.Fatal(err)
	}
	c := memcache.New(tp.addr)
	c.Timeout = 2 * time.Second
	perNode := make(map[string]int)
	for i := range 200 {
		k := "after:" + strconv.Itoa(i)
		if err := c.Set(&memcache.Item{Key: k, Value: []byte(k)}); err != nil {
			t.Fatal(err)
		}
		owner := pc.Servers[r.Pick([]byte(k))].Addr
		perNode[owner]++
		if it, err := memcache.New(owner).Get(k); err != nil || string(it.Value) != k {
			t.Fatalf("%s is not on %s, its owner in the new ring: %v", k, owner, err)
		}
		if _, err := memcache.New(tp.nodes[2].Addr).Get(k); !errors.Is(err, memcache.ErrCacheMiss) {
			t.Fatalf("%s on the removed node: %v", k, err)
		}
	}
	if perNode[added.Addr] == 0 || len(perNode) != 3 {
		t.Errorf("keys per node %v, want some on each, the added node included", perNode)
	}

	if v, _ := reloadCounter(t, tp.reg, "hashproxy_config_reloads_total", map[string]string{"result": "success"}); v != 1 {
		t.Errorf("successful reloads = %v, want 1", v)
	}
	if _, ok := reloadCounter(t, tp.reg, "hashproxy_ring_share", map[string]string{"server": tp.nodes[2].Addr}); ok {
		t.Error("the removed node still has a ring_share series")
	}
	share, _ := reloadCounter(t, tp.reg, "hashproxy_ring_share", map[string]string{"server": added.Addr})
	if want := r.Shares()[2]; share != want {
		t.Errorf("ring_share of the added node = %v, want %v", share, want)
	}
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
