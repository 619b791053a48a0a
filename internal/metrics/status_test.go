package metrics

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"hashproxy/internal/ring"
)

// fakeSource stands in for the proxy, whose own tests cover what it reports.
type fakeSource struct {
	pools []PoolStatus
	hot   map[string]HotKeys // by pool; a pool missing here has hot keys off
}

func (f *fakeSource) StatusPools() []PoolStatus {
	out := make([]PoolStatus, len(f.pools))
	for i, p := range f.pools {
		p.Nodes = append([]NodeStatus(nil), p.Nodes...)
		out[i] = p
	}
	return out
}

func (f *fakeSource) HotKeys(pool string, n int) (HotKeys, error) {
	found := false
	for _, p := range f.pools {
		found = found || p.Name == pool
	}
	if !found {
		return HotKeys{}, ErrNoPool
	}
	hk, ok := f.hot[pool]
	if !ok {
		return HotKeys{}, ErrHotKeysOff
	}
	hk.Keys = hk.Keys[:min(n, len(hk.Keys))]
	return hk, nil
}

func twoNodeSource() *fakeSource {
	return &fakeSource{
		pools: []PoolStatus{{
			Name: "main", Listen: "127.0.0.1:22122", Distribution: "ketama",
			Nodes: []NodeStatus{
				{Name: "a", Address: "127.0.0.1:1", State: StateUp, RingShare: 0.5},
				{Name: "b", Address: "127.0.0.1:2", State: StateDown, RingShare: 0.5},
			},
			Arcs: []Arc{{0, 0.5, 0}, {0.5, 1, 1}},
		}},
		hot: map[string]HotKeys{"main": {Pool: "main", WindowSeconds: 60, Keys: []HotKey{
			{Key: "k1", Server: "a", Count: 30, Share: 0.3},
			{Key: "k2", Server: "b", Count: 5, Share: 0.05},
		}}},
	}
}

// TestStatusRates: the first reading has nothing to compare with; the next
// turns the counters' growth in between into rates, ratios and
// percentiles of that interval only.
func TestStatusRates(t *testing.T) {
	_, m := newTestMetrics(t)
	src := twoNodeSource()
	a, b := m.Server("main", "a"), m.Server("main", "b")
	a.CountConnections(func() int { return 2 })
	a.Requests[0].Add(1000) // before the first reading: not in any rate
	a.Duration(0).Observe(5)

	st := m.Status(src)
	if st.IntervalSeconds != 0 {
		t.Errorf("first status interval %v, want 0", st.IntervalSeconds)
	}
	n := st.Pools[0].Nodes[0]
	if n.RequestsPerSecond != 0 || n.HitRatio != nil || n.P50Seconds != nil || n.Connections != 2 {
		t.Errorf("first status node a = %+v, want no rates, 2 connections", n)
	}

	time.Sleep(300 * time.Millisecond)
	a.Requests[0].Add(300)
	a.Hits.Add(240)
	a.Misses.Add(60)
	for i := range 100 {
		// 1 to 100 ms, evenly: p50 about 50 ms, p99 about 99 ms.
		a.Duration(0).Observe(float64(i+1) / 1000)
	}
	b.Errors[0].Add(30)
	st = m.Status(src)
	secs := st.IntervalSeconds
	if secs < 0.3 || secs > 5 {
		t.Fatalf("interval %v, want the time since the first status", secs)
	}
	p := st.Pools[0]
	a1, b1 := p.Nodes[0], p.Nodes[1]
	near := func(what string, got, want, tol float64) {
		t.Helper()
		if math.Abs(got-want) > tol {
			t.Errorf("%s = %v, want %v ± %v", what, got, want, tol)
		}
	}
	near("a requests/s", a1.RequestsPerSecond, 300/secs, 0.02*300/secs)
	near("pool requests/s", p.RequestsPerSecond, 300/secs, 0.02*300/secs)
	near("b errors/s", b1.ErrorsPerSecond, 30/secs, 0.02*30/secs)
	if a1.HitRatio == nil || *a1.HitRatio != 0.8 {
		t.Errorf("a hit ratio %v, want 0.8", a1.HitRatio)
	}
	if a1.P50Seconds == nil || a1.P99Seconds == nil {
		t.Fatalf("a percentiles missing: %+v", a1)
	}
	// Native buckets are at most 10 % wide.
	near("a p50", *a1.P50Seconds, 0.050, 0.005)
	near("a p99", *a1.P99Seconds, 0.099, 0.010)
	if b1.HitRatio != nil || b1.P50Seconds != nil || b1.RequestsPerSecond != 0 {
		t.Errorf("b = %+v, want no hit ratio or latency: it served nothing", b1)
	}
	if b1.State != StateDown || a1.Address != "127.0.0.1:1" || len(p.Arcs) != 2 {
		t.Errorf("the source's fields were not kept: %+v", p)
	}
	if p.HotKeys == nil || len(p.HotKeys.Keys) != 2 || p.HotKeys.Keys[0].Key != "k1" {
		t.Errorf("hot keys = %+v", p.HotKeys)
	}
}

// TestStatusWarmupNodeSharingAName: a node kept for warm-up with the name
// of a configured node shares its series; its figures are the configured
// node's, counted once in the pool's total, and its own row shows none.
func TestStatusWarmupNodeSharingAName(t *testing.T) {
	_, m := newTestMetrics(t)
	src := twoNodeSource()
	src.pools[0].Nodes = append(src.pools[0].Nodes, NodeStatus{Name: "a", Address: "127.0.0.1:3", State: StateWarmup})
	a := m.Server("main", "a")
	a.CountConnections(func() int { return 2 })
	m.Status(src)
	time.Sleep(300 * time.Millisecond)
	a.Requests[0].Add(300)
	st := m.Status(src)
	p := st.Pools[0]
	kept, warm := p.Nodes[0], p.Nodes[2]
	if kept.RequestsPerSecond == 0 || kept.Connections != 2 || p.RequestsPerSecond != kept.RequestsPerSecond {
		t.Errorf("configured node a %+v, pool %v req/s; want a's requests counted once, on it", kept, p.RequestsPerSecond)
	}
	if warm.RequestsPerSecond != 0 || warm.Connections != 0 || warm.State != StateWarmup {
		t.Errorf("warm-up node named a = %+v, want no figures of its own", warm)
	}
}

// TestStatusRateWindow: however often the status is read, the rates span
// about the last rateWindow, not the last call.
func TestStatusRateWindow(t *testing.T) {
	_, m := newTestMetrics(t)
	src := twoNodeSource()
	m.Server("main", "a")
	var r readings
	start := time.Unix(1000, 0)
	for i := range 30 {
		r.base(reading{at: start.Add(time.Duration(i) * 500 * time.Millisecond)})
	}
	now := start.Add(30 * 500 * time.Millisecond)
	base, ok := r.base(reading{at: now})
	if !ok || now.Sub(base.at) < rateWindow || now.Sub(base.at) > rateWindow+time.Second {
		t.Errorf("base %v before now, want about %v", now.Sub(base.at), rateWindow)
	}
	if len(r.kept) > int(rateWindow/rateMinInterval)+2 {
		t.Errorf("%d readings kept", len(r.kept))
	}
	// After a pause longer than rateMaxAge there is nothing to compare with.
	if _, ok := r.base(reading{at: now.Add(rateMaxAge + time.Second)}); ok {
		t.Error("a reading older than rateMaxAge was used")
	}
	// Readings closer together than rateMinInterval are not all kept.
	for range 100 {
		m.Status(src)
	}
	if n := len(m.readings.kept); n > 2 {
		t.Errorf("%d readings kept after 100 calls in an instant, want 1 or 2", n)
	}
}

func TestEvents(t *testing.T) {
	_, m := newTestMetrics(t)
	if ev := m.Events(); len(ev) != 0 {
		t.Fatalf("events at start: %v", ev)
	}
	for i := range MaxEvents + 10 {
		m.RecordEvent(Event{Kind: EventNodeDown, Server: fmt.Sprint(i)})
	}
	m.ConfigReload(errors.New("pools: bad"))
	ev := m.Events()
	if len(ev) != MaxEvents {
		t.Fatalf("%d events kept, want %d", len(ev), MaxEvents)
	}
	if ev[0].Kind != EventReload || ev[0].Result != ResultFailure || ev[0].Message != "pools: bad" || ev[0].Time.IsZero() {
		t.Errorf("newest event %+v, want the failed reload", ev[0])
	}
	if ev[1].Server != fmt.Sprint(MaxEvents+9) || ev[MaxEvents-1].Server != "11" {
		t.Errorf("events not newest first, or the wrong ones dropped: %q … %q", ev[1].Server, ev[MaxEvents-1].Server)
	}
	m.ConfigReload(nil)
	if e := m.Events()[0]; e.Result != ResultSuccess || e.Message != "" {
		t.Errorf("successful reload event %+v", e)
	}
}

// TestLatencyQuantileAcrossSchemas: histograms whose native buckets
// differ in resolution add up at the coarser one.
func TestLatencyQuantileAcrossSchemas(t *testing.T) {
	fine := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "a", NativeHistogramBucketFactor: 1.1})
	coarse := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "b", NativeHistogramBucketFactor: 2})
	for i := range 1000 {
		fine.Observe(0.001) // 1 ms
		if i < 10 {
			coarse.Observe(0.1) // 100 ms: the slowest 1 %
		}
	}
	var l latency
	for _, h := range []prometheus.Histogram{fine, coarse} {
		var m dto.Metric
		if err := h.Write(&m); err != nil {
			t.Fatal(err)
		}
		l.addHistogram(m.Histogram)
	}
	if l.schema != 0 {
		t.Errorf("schema %d, want the coarser 0", l.schema)
	}
	p50, _ := l.quantile(0.5)
	if p50 <= 1.0/1024 || p50 > 2.0/1024 {
		t.Errorf("p50 = %v, want within 1 ms's factor-2 bucket (2^-10, 2^-9]", p50)
	}
	p999, _ := l.quantile(0.999)
	if p999 < 0.0625 || p999 > 0.125 {
		t.Errorf("p99.9 = %v, want within 100 ms's factor-2 bucket", p999)
	}
	if _, ok := (latency{}).quantile(0.5); ok {
		t.Error("empty latency has a quantile")
	}
}

func TestReduceIndex(t *testing.T) {
	// At schema 1 (base √2) bucket i ends at 2^(i/2); at schema 0 (base 2)
	// bucket j ends at 2^j.
	for i, want := range map[int32]int32{-2: -1, -1: 0, 0: 0, 1: 1, 2: 1, 3: 2, 4: 2} {
		if got := reduceIndex(i, 1); got != want {
			t.Errorf("reduceIndex(%d, 1) = %d, want %d", i, got, want)
		}
	}
}

func TestArcJSON(t *testing.T) {
	b, err := json.Marshal([]Arc{{0, 0.1234567, 2}, {0.1234567, 1, 0}})
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != "[[0,0.123457,2],[0.123457,1,0]]" {
		t.Errorf("arcs = %s", b)
	}
	var back []Arc
	if err := json.Unmarshal(b, &back); err != nil || len(back) != 2 || back[0].Node != 2 || back[1].End != 1 {
		t.Errorf("round trip = %+v, %v", back, err)
	}
}

func TestStatusEndpoints(t *testing.T) {
	reg, m := newTestMetrics(t)
	src := twoNodeSource()
	m.Server("main", "a")
	a := NewAdmin(reg, nil, false, nil)
	a.ServeStatus(m, src, []byte("<!doctype html><title>status</title>"))
	get := func(path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		a.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec
	}

	rec := get("/")
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") || !strings.Contains(rec.Body.String(), "<title>status") {
		t.Errorf("GET / = %d %q %q", rec.Code, rec.Header().Get("Content-Type"), rec.Body.String())
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "connect-src 'self'") {
		t.Errorf("GET / CSP %q, want no external source allowed", csp)
	}
	if rec := get("/nothing"); rec.Code != http.StatusNotFound {
		t.Errorf("GET /nothing = %d, want 404", rec.Code)
	}

	rec = get("/api/status")
	var st Status
	if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("GET /api/status = %d %v: %s", rec.Code, err, rec.Body)
	}
	if len(st.Pools) != 1 || len(st.Pools[0].Nodes) != 2 || st.Pools[0].Nodes[1].State != StateDown || st.Version != "1.2.3" {
		t.Errorf("status = %+v", st)
	}
	for _, field := range []string{`"hit_ratio":null`, `"p99_seconds":null`, `"arcs":[[0,0.5,0],[0.5,1,1]]`, `"events":[]`, `"interval_seconds":0`} {
		if !strings.Contains(rec.Body.String(), field) {
			t.Errorf("status JSON lacks %s: %s", field, rec.Body)
		}
	}

	rec = get("/api/hotkeys?pool=main&n=1")
	if rec.Code != http.StatusOK || strings.TrimSpace(rec.Body.String()) != `{"pool":"main","window_seconds":60,"keys":[{"key":"k1","server":"a","count":30,"share":0.3}]}` {
		t.Errorf("GET /api/hotkeys?pool=main&n=1 = %d %s", rec.Code, rec.Body)
	}
	for path, code := range map[string]int{
		"/api/hotkeys":               http.StatusBadRequest,
		"/api/hotkeys?pool=main&n=0": http.StatusBadRequest,
		"/api/hotkeys?pool=main&n=x": http.StatusBadRequest,
		"/api/hotkeys?pool=nope":     http.StatusNotFound,
	} {
		if rec := get(path); rec.Code != code {
			t.Errorf("GET %s = %d %q, want %d", path, rec.Code, rec.Body, code)
		}
	}
	delete(src.hot, "main")
	if rec := get("/api/hotkeys?pool=main"); rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "off") {
		t.Errorf("hot keys off: GET /api/hotkeys = %d %q", rec.Code, rec.Body)
	}
	if rec := get("/api/status"); !strings.Contains(rec.Body.String(), `"hot_keys":null`) {
		t.Errorf("hot keys off: status lacks hot_keys null: %s", rec.Body)
	}
}

// TestBoundArcs: a ring finer than maxArcs is described at that resolution,
// still tiling the circle, each node keeping about its share.
func TestBoundArcs(t *testing.T) {
	small := []Arc{{0, 0.3, 1}, {0.3, 1, 0}}
	if got := boundArcs(small, 10); len(got) != 2 || got[0] != small[0] {
		t.Errorf("a ring within the bound changed: %v", got)
	}
	var arcs []Arc
	const fine = 16000 // 100 nodes of 160 points
	for i := range fine {
		arcs = append(arcs, Arc{float64(i) / fine, float64(i+1) / fine, (i * 7919) % 100})
	}
	arcs[fine-1].End = 1
	got := boundArcs(arcs, maxArcs)
	if len(got) > maxArcs {
		t.Fatalf("%d arcs, want at most %d", len(got), maxArcs)
	}
	prev := 0.0
	shares := make([]float64, 100)
	for _, a := range got {
		if a.Start != prev || a.End <= a.Start {
			t.Fatalf("arc %+v after %v: not tiling", a, prev)
		}
		shares[a.Node] += a.End - a.Start
		prev = a.End
	}
	if prev != 1 {
		t.Errorf("arcs end at %v", prev)
	}
	for node, s := range shares {
		if math.Abs(s-0.01) > 2.0/maxArcs {
			t.Errorf("node %d keeps %v of the circle, owns 0.01", node, s)
		}
	}
}

// TestBoundArcsOfKetama bounds a real ketama ring of 12 weighted nodes
// (2,400 points): every node keeps its share within 2/maxArcs.
func TestBoundArcsOfKetama(t *testing.T) {
	var nodes []ring.Node
	for i := range 12 {
		nodes = append(nodes, ring.Node{Addr: fmt.Sprintf("10.0.0.%d:11211", i+1), Weight: 1 + i%3})
	}
	r, err := ring.New(nodes, ring.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var arcs []Arc
	for _, a := range r.Arcs() {
		arcs = append(arcs, Arc{a.Start, a.End, a.Node})
	}
	if len(arcs) <= maxArcs {
		t.Fatalf("only %d arcs: not a test of the bound", len(arcs))
	}
	got := boundArcs(arcs, maxArcs)
	shares := make([]float64, len(nodes))
	for _, a := range got {
		shares[a.Node] += a.End - a.Start
	}
	for i, want := range r.Shares() {
		if math.Abs(shares[i]-want) > 2.0/maxArcs {
			t.Errorf("node %d keeps %.4f of the circle, its share %.4f", i, shares[i], want)
		}
	}
}
