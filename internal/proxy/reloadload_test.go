package proxy

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

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
