package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"hashproxy/internal/hotkeys"
	"hashproxy/internal/metrics"
	"hashproxy/internal/testenv"
)

// statusProxy is a hashproxy binary over memcached nodes, with its config
// file, for the status tests.
type statusProxy struct {
	*runningProxy
	nodes      []*testenv.Process
	configPath string
	config     string
}

// startStatusProxy runs the binary with pool "main" over nodes, named by
// address, and admin lines added to the admin section.
func startStatusProxy(t *testing.T, nodes []*testenv.Process, admin string) *statusProxy {
	t.Helper()
	c := writeTestConfig(t, nodes, admin, "    server_retry_timeout: 200ms\n    server_failure_limit: 1\n")
	rp := runServe(t, []string{"--config", c.path}, c.addr, c.admin)
	rp.admin = c.admin
	return &statusProxy{runningProxy: rp, nodes: nodes, configPath: c.path, config: c.text}
}

// status reads /api/status.
func (sp *statusProxy) status(t *testing.T) metrics.Status {
	t.Helper()
	code, body := httpGet(t, "http://"+sp.admin+"/api/status")
	if code != http.StatusOK {
		t.Fatalf("/api/status = %d %s", code, body)
	}
	var st metrics.Status
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatalf("/api/status: %v\n%s", err, body)
	}
	return st
}

// reload rewrites the config file with cfg and sends SIGHUP.
func (sp *statusProxy) reload(t *testing.T, cfg string) {
	t.Helper()
	if err := os.WriteFile(sp.configPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := sp.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
}

// TestBinaryStatus checks /api/status against what the test did and what
// the nodes hold: every node with its address, state and ring share, the
// ring's arcs, rates once traffic flows, and reload events with their
// results; and that / serves the status page.
func TestBinaryStatus(t *testing.T) {
	nodes := []*testenv.Process{testenv.StartMemcached(t), testenv.StartMemcached(t), testenv.StartMemcached(t)}
	sp := startStatusProxy(t, nodes, "")
	admin := "http://" + sp.admin

	code, page := httpGet(t, admin+"/")
	if code != http.StatusOK || !strings.Contains(page, "api/status") {
		t.Errorf("GET / = %d, want the status page polling api/status", code)
	}
	for _, external := range []string{"src=\"http", "href=\"http", "@import", "url(http"} {
		if strings.Contains(page, external) {
			t.Errorf("the status page loads an external asset (%s)", external)
		}
	}

	st := sp.status(t)
	if len(st.Pools) != 1 || len(st.Pools[0].Nodes) != 3 {
		t.Fatalf("status pools = %+v, want main with 3 nodes", st.Pools)
	}
	p := st.Pools[0]
	if p.Name != "main" || p.Listen != sp.addr || p.Distribution != "ketama" || p.ReplicationFactor != 1 || p.Warmup != nil {
		t.Errorf("pool = %s %s %s, %d copies, warm-up %+v; want main %s ketama, 1 copy, no warm-up",
			p.Name, p.Listen, p.Distribution, p.ReplicationFactor, p.Warmup, sp.addr)
	}
	var shareSum float64
	for i, n := range p.Nodes {
		if n.Name != nodes[i].Addr || n.Address != nodes[i].Addr || n.State != metrics.StateUp {
			t.Errorf("node %d = %+v, want %s up", i, n, nodes[i].Addr)
		}
		shareSum += n.RingShare
	}
	if math.Abs(shareSum-1) > 1e-9 {
		t.Errorf("ring shares add up to %v", shareSum)
	}
	arcSums := make([]float64, 3)
	for _, a := range p.Arcs {
		arcSums[a.Node] += a.End - a.Start
	}
	for i, n := range p.Nodes {
		if math.Abs(arcSums[i]-n.RingShare) > 1e-4 {
			t.Errorf("node %d: arcs add up to %v, ring share %v", i, arcSums[i], n.RingShare)
		}
	}

	// Traffic: every key set, then read twice, one in four missing.
	c := memcache.New(sp.addr)
	c.Timeout = 2 * time.Second
	const keys = 300
	for i := range keys {
		if i%4 == 0 {
			continue
		}
		if err := c.Set(&memcache.Item{Key: "status:" + strconv.Itoa(i), Value: []byte("v")}); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		for i := range keys {
			if _, err := c.Get("status:" + strconv.Itoa(i)); err != nil && !errors.Is(err, memcache.ErrCacheMiss) {
				t.Fatal(err)
			}
		}
	}
	// Rates need readings at least a few hundred milliseconds apart, as
	// the page's once a second polls are.
	time.Sleep(time.Second)
	// Each node's own counters are the oracle: every request so far came
	// after the first status, so the rates cover them all.
	st = sp.status(t)
	if st.IntervalSeconds <= 0 {
		t.Fatalf("interval %v after traffic, want the time since the first status", st.IntervalSeconds)
	}
	for i, n := range st.Pools[0].Nodes {
		ns := memcachedStats(t, nodes[i].Addr)
		gets, hits := ns["cmd_get"], ns["get_hits"]
		requests := n.RequestsPerSecond * st.IntervalSeconds
		if want := gets + ns["cmd_set"]; math.Abs(requests-want) > 1+0.01*want {
			t.Errorf("node %s: %.2f requests/s over %.3fs = %.1f requests, the node counted %v", n.Name, n.RequestsPerSecond, st.IntervalSeconds, requests, want)
		}
		switch {
		case gets == 0 && n.HitRatio != nil:
			t.Errorf("node %s: hit ratio %v, the node served no get", n.Name, *n.HitRatio)
		case gets > 0 && (n.HitRatio == nil || math.Abs(*n.HitRatio-hits/gets) > 0.0001):
			t.Errorf("node %s: hit ratio %v, the node's own %v", n.Name, n.HitRatio, hits/gets)
		}
		if gets > 0 && (n.P50Seconds == nil || n.P99Seconds == nil || *n.P50Seconds > *n.P99Seconds || n.Connections < 1) {
			t.Errorf("node %s served but reports %+v", n.Name, n)
		}
	}
	if hk := st.Pools[0].HotKeys; hk == nil || hk.Pool != "main" {
		t.Errorf("hot keys = %+v, want main's (on by default)", hk)
	}

	// A reload that fails, then one that succeeds, each an event.
	sp.reload(t, "pools: [")
	waitFor(t, "a failed reload event", func() bool {
		ev := sp.status(t).Events
		return len(ev) > 0 && ev[0].Kind == metrics.EventReload && ev[0].Result == metrics.ResultFailure && ev[0].Message != ""
	})
	sp.reload(t, sp.config)
	waitFor(t, "a successful reload event", func() bool {
		ev := sp.status(t).Events
		return len(ev) > 0 && ev[0].Kind == metrics.EventReload && ev[0].Result == metrics.ResultSuccess
	})

	// A reload that takes a node out, with two copies of each key, opens
	// a warm-up window, which keeps the node it took out, read-only.
	changed := strings.Replace(sp.config, "    servers:\n", "    warmup: 30s\n    replication_factor: 2\n    servers:\n", 1)
	changed = strings.Replace(changed, "      - "+nodes[2].Addr+":1\n", "", 1)
	sp.reload(t, changed)
	waitFor(t, "the pool with two nodes and one kept for warm-up", func() bool {
		ns := sp.status(t).Pools[0].Nodes
		return len(ns) == 3 && ns[2].State == metrics.StateWarmup
	})
	p = sp.status(t).Pools[0]
	if w := p.Warmup; p.ReplicationFactor != 2 || w == nil || w.RemainingSeconds <= 0 || w.RemainingSeconds > 30 ||
		w.KeysMovedShare <= 0 || w.KeysMovedShare > 1 || time.Until(w.Ends) > 30*time.Second {
		t.Errorf("after the reload: %d copies, warm-up %+v; want 2 copies and a window of at most 30s with keys moved", p.ReplicationFactor, w)
	}
	if n := p.Nodes[2]; n.Address != nodes[2].Addr || n.RingShare != 0 || n.WarmupRemainingSeconds == nil ||
		*n.WarmupRemainingSeconds <= 0 || *n.WarmupRemainingSeconds > 30 {
		t.Errorf("the node taken out: %+v; want %s with no ring share and at most 30s left", n, nodes[2].Addr)
	}
}

// TestBinaryHotKeysWorkload is hot keys' acceptance test through the
// binary: of 50,000 gets, one key takes 30 % and nine others 5 % each,
// among 10,000 other keys. /api/hotkeys lists those ten first, each share
// within 3 points of the truth and each on the node that really holds it.
func TestBinaryHotKeysWorkload(t *testing.T) {
	if testing.Short() {
		t.Skip("50,000 requests")
	}
	nodes := []*testenv.Process{testenv.StartMemcached(t), testenv.StartMemcached(t), testenv.StartMemcached(t)}
	sp := startStatusProxy(t, nodes, "")
	const total = 50_000
	truth := map[string]float64{"hot:0": 0.30}
	stream := make([]string, 0, total)
	for range total * 30 / 100 {
		stream = append(stream, "hot:0")
	}
	for i := 1; i <= 9; i++ {
		k := "hot:" + strconv.Itoa(i)
		truth[k] = 0.05
		for range total * 5 / 100 {
			stream = append(stream, k)
		}
	}
	for i := 0; len(stream) < total; i++ {
		stream = append(stream, "cold:"+strconv.Itoa(i%10_000))
	}
	rand.Shuffle(len(stream), func(i, j int) { stream[i], stream[j] = stream[j], stream[i] })

	c := memcache.New(sp.addr)
	c.Timeout = 5 * time.Second
	c.MaxIdleConns = 8
	for k := range truth {
		if err := c.Set(&memcache.Item{Key: k, Value: []byte(k)}); err != nil {
			t.Fatal(err)
		}
	}
	const workers = 8
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(stream); i += workers {
				if _, err := c.Get(stream[i]); err != nil && !errors.Is(err, memcache.ErrCacheMiss) {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	code, body := httpGet(t, "http://"+sp.admin+"/api/hotkeys?pool=main&n=10")
	if code != http.StatusOK {
		t.Fatalf("/api/hotkeys = %d %s", code, body)
	}
	var hk metrics.HotKeys
	if err := json.Unmarshal([]byte(body), &hk); err != nil {
		t.Fatal(err)
	}
	if hk.Pool != "main" || hk.WindowSeconds < 1 || len(hk.Keys) != 10 {
		t.Fatalf("hot keys = %s", body)
	}
	if hk.Keys[0].Key != "hot:0" {
		t.Errorf("first key %q, want hot:0", hk.Keys[0].Key)
	}
	direct := make(map[string]*memcache.Client)
	for _, n := range nodes {
		direct[n.Addr] = memcache.New(n.Addr)
	}
	for _, k := range hk.Keys {
		want, ok := truth[k.Key]
		if !ok {
			t.Errorf("%q (share %.3f) listed among the ten", k.Key, k.Share)
			continue
		}
		if math.Abs(k.Share-want) > 0.03 {
			t.Errorf("%s: share %.3f, want %.2f ± 0.03", k.Key, k.Share, want)
		}
		if math.Abs(float64(k.Count)-want*total) > 0.03*total {
			t.Errorf("%s: count %d, want %.0f ± %d", k.Key, k.Count, want*total, total*3/100)
		}
		node, ok := direct[k.Server]
		if !ok {
			t.Errorf("%s: server %q is not a node", k.Key, k.Server)
			continue
		}
		if _, err := node.Get(k.Key); err != nil {
			t.Errorf("%s: listed on %s, which does not hold it: %v", k.Key, k.Server, err)
		}
	}
}

// TestBinaryHotKeysHashedAndOff: admin.hot_keys hashed shows each key's
// hash instead of the key; off counts nothing and says so.
func TestBinaryHotKeysHashedAndOff(t *testing.T) {
	nodes := []*testenv.Process{testenv.StartMemcached(t)}
	hashed := startStatusProxy(t, nodes, "  hot_keys: hashed\n")
	off := startStatusProxy(t, nodes, "  hot_keys: off\n")
	for _, sp := range []*statusProxy{hashed, off} {
		c := memcache.New(sp.addr)
		for range 200 {
			if _, err := c.Get("secret:user:42"); err != nil && !errors.Is(err, memcache.ErrCacheMiss) {
				t.Fatal(err)
			}
		}
	}
	code, body := httpGet(t, "http://"+hashed.admin+"/api/hotkeys?pool=main")
	if code != http.StatusOK || strings.Contains(body, "secret") || !strings.Contains(body, `"key":"`+hotkeys.Hashed([]byte("secret:user:42"))+`"`) {
		t.Errorf("hashed: /api/hotkeys = %d %s, want the key's hash only", code, body)
	}
	if _, status := httpGet(t, "http://"+hashed.admin+"/api/status"); strings.Contains(status, "secret") {
		t.Errorf("hashed: /api/status shows the key: %s", status)
	}
	if code, body := httpGet(t, "http://"+off.admin+"/api/hotkeys?pool=main"); code != http.StatusNotFound || !strings.Contains(body, "off") {
		t.Errorf("off: /api/hotkeys = %d %q, want 404 saying hot keys are off", code, body)
	}
	if st := off.status(t); st.Pools[0].HotKeys != nil {
		t.Errorf("off: status hot keys = %+v, want null", st.Pools[0].HotKeys)
	}
}

// memcachedStats returns the numeric counters of a memcached node's stats.
func memcachedStats(t *testing.T, addr string) map[string]float64 {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write([]byte("stats\r\n")); err != nil {
		t.Fatal(err)
	}
	stats := make(map[string]float64)
	sc := bufio.NewScanner(conn)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 1 && f[0] == "END" {
			return stats
		}
		if len(f) == 3 && f[0] == "STAT" {
			if v, err := strconv.ParseFloat(f[2], 64); err == nil {
				stats[f[1]] = v
			}
		}
	}
	t.Fatalf("stats from %s: no END: %v", addr, sc.Err())
	return nil
}
