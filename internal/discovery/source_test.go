package discovery

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"hashproxy/internal/config"
	"hashproxy/internal/metrics"
	"hashproxy/internal/testenv"
)

// recorder is an Options.Apply that keeps what it was given and fails
// while fail is set.
type recorder struct {
	mu      sync.Mutex
	applied []*config.Config
	fail    error
}

func (r *recorder) apply(cfg *config.Config) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	r.applied = append(r.applied, cfg)
	return nil
}

// last returns the servers of the named pool in the last configuration
// applied, and how many were applied.
func (r *recorder) last(pool string) ([]config.Server, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.applied) == 0 {
		return nil, 0
	}
	for _, p := range r.applied[len(r.applied)-1].Pools {
		if p.Name == pool {
			return p.Servers, len(r.applied)
		}
	}
	return nil, len(r.applied)
}

// newSource returns a Source over a file with a static pool and a pool
// "found" that looks up dns+nodes.test:11211 on d every interval.
func newSource(t *testing.T, d *testenv.DNS, interval time.Duration) (*Source, *config.Config, *recorder, *prometheus.Registry) {
	t.Helper()
	src := "pools:\n" +
		"  static:\n    listen: 127.0.0.1:0\n    servers: [127.0.0.1:11211]\n" +
		"  found:\n    listen: 127.0.0.1:0\n    discovery_resolver: " + d.Addr + "\n    discovery_interval: " + interval.String() + "\n" +
		"    servers: [127.0.0.1:11000:1 fixed, dns+nodes.test:11211]\n"
	file, err := config.Parse("f.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	rec := &recorder{}
	s := NewSource(Options{Metrics: metrics.New(reg, metrics.BuildInfo{}, metrics.Labels{}), Apply: rec.apply})
	return s, file, rec, reg
}

// addrs lists the addresses of servers.
func addrs(servers []config.Server) []string {
	out := make([]string, len(servers))
	for i, s := range servers {
		out[i] = s.Addr
	}
	return out
}

func TestSourceResolveFillsIn(t *testing.T) {
	d := testenv.StartDNS(t)
	d.Set(t, "nodes.test", "A 10.0.0.2", "A 10.0.0.1")
	s, file, _, reg := newSource(t, d, time.Second)
	cfg, err := s.Resolve(context.Background(), file)
	if err != nil {
		t.Fatal(err)
	}
	if got := addrs(cfg.Pools[1].Servers); !slices.Equal(got, []string{"127.0.0.1:11000", "10.0.0.1:11211", "10.0.0.2:11211"}) {
		t.Errorf("found pool servers %v", got)
	}
	if len(file.Pools[1].Servers) != 1 || len(cfg.Pools[0].Servers) != 1 {
		t.Errorf("the file's pools changed, or the static pool did: %+v", file.Pools)
	}
	if got := sample(reg, "hashproxy_discovered_servers", "found", ""); got != 2 {
		t.Errorf("hashproxy_discovered_servers = %v, want 2", got)
	}

	d.SetFailing(true)
	if _, err := NewSource(s.opts).Resolve(context.Background(), file); err == nil || !strings.Contains(err.Error(), `pool "found"`) {
		t.Errorf("a failing first lookup: got %v, want an error naming the pool", err)
	}
}

// TestWatcherAppliesAChangeSeenTwice drives one watcher round by round:
// a different list is applied only when two rounds in a row find it, and a
// failed round keeps the list and breaks the row.
func TestWatcherAppliesAChangeSeenTwice(t *testing.T) {
	d := testenv.StartDNS(t)
	d.Set(t, "nodes.test", "A 10.0.0.1")
	s, file, rec, reg := newSource(t, d, time.Second)
	if _, err := s.Resolve(context.Background(), file); err != nil {
		t.Fatal(err)
	}
	a := []config.Server{srv("10.0.0.1", 11211, 1, "")}
	b := []config.Server{srv("10.0.0.1", 11211, 1, ""), srv("10.0.0.2", 11211, 1, "")}
	c := []config.Server{srv("10.0.0.3", 11211, 1, "")}
	fail := &Error{Kind: KindLookup, Err: errors.New("no answer")}
	w := &watcher{src: s, gen: s.gen, pool: "found", current: a, log: s.log, met: s.opts.Metrics}
	steps := []struct {
		found   []config.Server
		err     error
		applied int // configurations applied after the round
		current []config.Server
	}{
		{found: a, current: a},
		{found: b, current: a},             // seen once
		{found: b, applied: 1, current: b}, // seen twice: applied
		{found: b, applied: 1, current: b}, // unchanged: nothing
		{found: c, applied: 1, current: b},
		{err: fail, applied: 1, current: b}, // a failure breaks the row
		{found: c, applied: 1, current: b},
		{found: a, applied: 1, current: b},
		{found: c, applied: 1, current: b}, // c, a, c: never twice in a row
		{found: c, applied: 2, current: c},
	}
	for i, st := range steps {
		w.resolve = func(context.Context) ([]config.Server, error) { return st.found, st.err }
		if !w.round(context.Background()) {
			t.Fatalf("round %d: watcher stopped", i)
		}
		servers, n := rec.last("found")
		if n != st.applied || !slices.Equal(w.current, st.current) {
			t.Fatalf("round %d: %d applied, current %v; want %d, %v", i, n, addrs(w.current), st.applied, addrs(st.current))
		}
		if n > 0 && !slices.Equal(servers[1:], st.current) {
			t.Fatalf("round %d: applied %v, want the fixed server then %v", i, addrs(servers), addrs(st.current))
		}
	}
	var changes []metrics.Event
	for _, e := range s.opts.Metrics.Events() {
		if e.Kind == metrics.EventDiscovery {
			changes = append(changes, e)
		}
	}
	if len(changes) != 2 || changes[0].Pool != "found" || changes[0].Message != "added 10.0.0.3:11211; removed 10.0.0.1:11211, 10.0.0.2:11211; 1 servers" ||
		changes[1].Message != "added 10.0.0.2:11211; 2 servers" {
		t.Errorf("discovery events %+v, want the two changes applied, newest first", changes)
	}
	if got := sample(reg, "hashproxy_discovery_errors_total", "found", KindLookup); got != 1 {
		t.Errorf("hashproxy_discovery_errors_total = %v, want 1", got)
	}
	if got := sample(reg, "hashproxy_discovered_servers", "found", ""); got != 1 {
		t.Errorf("hashproxy_discovered_servers = %v, want 1", got)
	}

	// A list the proxy rejects stays unapplied, and is tried again.
	rec.fail = errors.New("rejected")
	w.resolve = func(context.Context) ([]config.Server, error) { return a, nil }
	w.round(context.Background())
	w.round(context.Background())
	if !slices.Equal(w.current, c) {
		t.Errorf("after a rejected change, current %v; want %v", addrs(w.current), addrs(c))
	}
	rec.fail = nil
	w.round(context.Background())
	w.round(context.Background())
	if !slices.Equal(w.current, a) {
		t.Errorf("after the change was accepted, current %v; want %v", addrs(w.current), addrs(a))
	}

	// After a reload, a watcher of the configuration before is stale.
	if _, err := s.Reload(context.Background(), file); err != nil {
		t.Fatal(err)
	}
	w.resolve = func(context.Context) ([]config.Server, error) { return b, nil }
	w.round(context.Background())
	if w.round(context.Background()) {
		t.Error("a stale watcher kept running")
	}
}

// TestSourceWatchFollowsDNS runs the watchers against a DNS server whose
// answer changes, fails, and comes back.
func TestSourceWatchFollowsDNS(t *testing.T) {
	d := testenv.StartDNS(t)
	d.Set(t, "nodes.test", "A 10.0.0.1")
	s, file, rec, reg := newSource(t, d, 100*time.Millisecond)
	if _, err := s.Resolve(context.Background(), file); err != nil {
		t.Fatal(err)
	}
	s.Watch(context.Background())
	defer s.Close()

	waitApplied := func(want ...string) {
		t.Helper()
		want = append([]string{"127.0.0.1:11000"}, want...)
		deadline := time.Now().Add(5 * time.Second)
		for {
			servers, _ := rec.last("found")
			if slices.Equal(addrs(servers), want) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("applied %v, want %v", addrs(servers), want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	d.Set(t, "nodes.test", "A 10.0.0.1", "A 10.0.0.2")
	waitApplied("10.0.0.1:11211", "10.0.0.2:11211")

	d.SetFailing(true)
	deadline := time.Now().Add(5 * time.Second)
	for sample(reg, "hashproxy_discovery_errors_total", "found", KindLookup) < 3 {
		if time.Now().After(deadline) {
			t.Fatal("no failed lookups counted")
		}
		time.Sleep(10 * time.Millisecond)
	}
	d.Set(t, "nodes.test") // unknown name: an empty answer, a failure too
	d.SetFailing(false)
	for sample(reg, "hashproxy_discovery_errors_total", "found", KindEmpty) < 3 {
		if time.Now().After(deadline) {
			t.Fatal("no empty answers counted")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if servers, _ := rec.last("found"); len(servers) != 3 {
		t.Fatalf("failed lookups changed the list: %v", addrs(servers))
	}
	d.Set(t, "nodes.test", "A 10.0.0.3")
	waitApplied("10.0.0.3:11211")
}

// sample returns the value of the series name{pool, kind} (kind "" for a
// series without one) gathered from reg, 0 when it is absent.
func sample(reg *prometheus.Registry, name, pool, kind string) float64 {
	mfs, err := reg.Gather()
	if err != nil {
		panic(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			var p, k string
			for _, lp := range m.GetLabel() {
				switch lp.GetName() {
				case "pool":
					p = lp.GetValue()
				case "kind":
					k = lp.GetValue()
				}
			}
			if p == pool && k == kind {
				if m.GetCounter() != nil {
					return m.GetCounter().GetValue()
				}
				return m.GetGauge().GetValue()
			}
		}
	}
	return 0
}
