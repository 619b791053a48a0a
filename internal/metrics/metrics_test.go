package metrics

import (
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func newTestMetrics(t *testing.T) (*prometheus.Registry, *Metrics) {
	t.Helper()
	reg := prometheus.NewRegistry()
	return reg, New(reg, BuildInfo{Version: "1.2.3", Commit: "abc1234", GoVersion: "go1.26.8"}, testLabels)
}

// testLabels are label values as the proxy gives them.
var testLabels = Labels{
	Commands: []string{
		"get", "gets", "gat", "gats",
		"set", "add", "replace", "append", "prepend", "cas",
		"delete", "incr", "decr", "touch", "flush_all",
	},
	ErrorKinds: []string{"timeout", "connect", "protocol", "closed", "down", "queue_full"},
}

func TestServerHandles(t *testing.T) {
	reg, m := newTestMetrics(t)
	s := m.Server("main", "cache-a:11211")
	s.Requests[0].Add(2)  // get
	s.Requests[4].Add(1)  // set
	s.Requests[14].Add(1) // flush_all
	s.Hits.Add(3)
	s.Misses.Add(1)
	s.Errors[0].Add(1) // timeout
	s.Errors[5].Add(1) // queue_full
	s.Up.Set(1)
	s.CountConnections(func() int { return 2 })
	s.RingShare.Set(0.25)
	s.Duration(0).Observe(0.00007) // get
	s.Duration(0).Observe(0.003)
	s.Duration(0).Observe(2)

	want := `
# HELP hashproxy_get_hits_total Keys a memcached node found, counted once per key of a retrieval.
# TYPE hashproxy_get_hits_total counter
hashproxy_get_hits_total{pool="main",server="cache-a:11211"} 3
# HELP hashproxy_get_misses_total Keys a memcached node did not find, counted once per key of a retrieval.
# TYPE hashproxy_get_misses_total counter
hashproxy_get_misses_total{pool="main",server="cache-a:11211"} 1
# HELP hashproxy_requests_total Requests forwarded to a memcached node, by command; each key of a multi-key retrieval counts once toward the node that owns it.
# TYPE hashproxy_requests_total counter
hashproxy_requests_total{command="add",pool="main",server="cache-a:11211"} 0
hashproxy_requests_total{command="append",pool="main",server="cache-a:11211"} 0
hashproxy_requests_total{command="cas",pool="main",server="cache-a:11211"} 0
hashproxy_requests_total{command="decr",pool="main",server="cache-a:11211"} 0
hashproxy_requests_total{command="delete",pool="main",server="cache-a:11211"} 0
hashproxy_requests_total{command="flush_all",pool="main",server="cache-a:11211"} 1
hashproxy_requests_total{command="gat",pool="main",server="cache-a:11211"} 0
hashproxy_requests_total{command="gats",pool="main",server="cache-a:11211"} 0
hashproxy_requests_total{command="get",pool="main",server="cache-a:11211"} 2
hashproxy_requests_total{command="gets",pool="main",server="cache-a:11211"} 0
hashproxy_requests_total{command="incr",pool="main",server="cache-a:11211"} 0
hashproxy_requests_total{command="prepend",pool="main",server="cache-a:11211"} 0
hashproxy_requests_total{command="replace",pool="main",server="cache-a:11211"} 0
hashproxy_requests_total{command="set",pool="main",server="cache-a:11211"} 1
hashproxy_requests_total{command="touch",pool="main",server="cache-a:11211"} 0
# HELP hashproxy_upstream_errors_total Requests to a memcached node that failed, by kind of failure.
# TYPE hashproxy_upstream_errors_total counter
hashproxy_upstream_errors_total{kind="closed",pool="main",server="cache-a:11211"} 0
hashproxy_upstream_errors_total{kind="connect",pool="main",server="cache-a:11211"} 0
hashproxy_upstream_errors_total{kind="down",pool="main",server="cache-a:11211"} 0
hashproxy_upstream_errors_total{kind="protocol",pool="main",server="cache-a:11211"} 0
hashproxy_upstream_errors_total{kind="queue_full",pool="main",server="cache-a:11211"} 1
hashproxy_upstream_errors_total{kind="timeout",pool="main",server="cache-a:11211"} 1
# HELP hashproxy_server_up 1 while a memcached node is serving, 0 while it is marked down or ejected.
# TYPE hashproxy_server_up gauge
hashproxy_server_up{pool="main",server="cache-a:11211"} 1
# HELP hashproxy_upstream_connections Open connections to a memcached node.
# TYPE hashproxy_upstream_connections gauge
hashproxy_upstream_connections{pool="main",server="cache-a:11211"} 2
# HELP hashproxy_ring_share Share of the pool's hash space a memcached node owns, from 0 to 1.
# TYPE hashproxy_ring_share gauge
hashproxy_ring_share{pool="main",server="cache-a:11211"} 0.25
# HELP hashproxy_upstream_request_duration_seconds Time from queueing a request for a memcached node to reading its complete response, by command.
# TYPE hashproxy_upstream_request_duration_seconds histogram
hashproxy_upstream_request_duration_seconds_bucket{command="get",pool="main",server="cache-a:11211",le="5e-05"} 0
hashproxy_upstream_request_duration_seconds_bucket{command="get",pool="main",server="cache-a:11211",le="0.0001"} 1
hashproxy_upstream_request_duration_seconds_bucket{command="get",pool="main",server="cache-a:11211",le="0.00025"} 1
hashproxy_upstream_request_duration_seconds_bucket{command="get",pool="main",server="cache-a:11211",le="0.0005"} 1
hashproxy_upstream_request_duration_seconds_bucket{command="get",pool="main",server="cache-a:11211",le="0.001"} 1
hashproxy_upstream_request_duration_seconds_bucket{command="get",pool="main",server="cache-a:11211",le="0.0025"} 1
hashproxy_upstream_request_duration_seconds_bucket{command="get",pool="main",server="cache-a:11211",le="0.005"} 2
hashproxy_upstream_request_duration_seconds_bucket{command="get",pool="main",server="cache-a:11211",le="0.01"} 2
hashproxy_upstream_request_duration_seconds_bucket{command="get",pool="main",server="cache-a:11211",le="0.025"} 2
hashproxy_upstream_request_duration_seconds_bucket{command="get",pool="main",server="cache-a:11211",le="0.05"} 2
hashproxy_upstream_request_duration_seconds_bucket{command="get",pool="main",server="cache-a:11211",le="0.1"} 2
hashproxy_upstream_request_duration_seconds_bucket{command="get",pool="main",server="cache-a:11211",le="0.25"} 2
hashproxy_upstream_request_duration_seconds_bucket{command="get",pool="main",server="cache-a:11211",le="0.5"} 2
hashproxy_upstream_request_duration_seconds_bucket{command="get",pool="main",server="cache-a:11211",le="1"} 2
hashproxy_upstream_request_duration_seconds_bucket{command="get",pool="main",server="cache-a:11211",le="+Inf"} 3
hashproxy_upstream_request_duration_seconds_sum{command="get",pool="main",server="cache-a:11211"} 2.00307
hashproxy_upstream_request_duration_seconds_count{command="get",pool="main",server="cache-a:11211"} 3
`
	err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"hashproxy_requests_total", "hashproxy_get_hits_total", "hashproxy_get_misses_total",
		"hashproxy_upstream_errors_total", "hashproxy_server_up", "hashproxy_upstream_connections",
		"hashproxy_ring_share", "hashproxy_upstream_request_duration_seconds")
	if err != nil {
		t.Fatal(err)
	}
}

func TestServerIsIdempotent(t *testing.T) {
	_, m := newTestMetrics(t)
	a := m.Server("main", "a")
	if m.Server("main", "a") != a {
		t.Fatal("Server returned a new handle set for the same pool and server")
	}
	if m.Server("other", "a") == a || m.Server("main", "b") == a {
		t.Fatal("Server returned the same handle set for a different pool or server")
	}
}

func TestServerCountersAreBoundToTheirLabels(t *testing.T) {
	reg, m := newTestMetrics(t)
	s := m.Server("main", "a")
	m.Server("main", "b").Hits.Add(1)
	for i := range testLabels.Commands {
		s.Requests[i].Add(uint64(i + 1))
	}
	for i := range testLabels.ErrorKinds {
		s.Errors[i].Add(uint64(i + 1))
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, metric := range mf.GetMetric() {
			labels := map[string]string{}
			for _, lp := range metric.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			if labels["server"] != "a" || metric.GetCounter() == nil {
				continue
			}
			got[mf.GetName()+"/"+labels["command"]+labels["kind"]] = metric.GetCounter().GetValue()
		}
	}
	for i, c := range testLabels.Commands {
		if v := got["hashproxy_requests_total/"+c]; v != float64(i+1) {
			t.Errorf("requests{command=%q} = %v, want %v", c, v, i+1)
		}
	}
	for i, k := range testLabels.ErrorKinds {
		if v := got["hashproxy_upstream_errors_total/"+k]; v != float64(i+1) {
			t.Errorf("upstream_errors{kind=%q} = %v, want %v", k, v, i+1)
		}
	}
	if n, err := testutil.GatherAndCount(reg, "hashproxy_requests_total"); err != nil || n != 2*len(testLabels.Commands) {
		t.Errorf("requests series = %d, %v; want %d", n, err, 2*len(testLabels.Commands))
	}
	if n, err := testutil.GatherAndCount(reg, "hashproxy_get_hits_total"); err != nil || n != 2 {
		t.Errorf("hits series = %d, %v; want 2", n, err)
	}
}

func TestRemoveServer(t *testing.T) {
	reg, m := newTestMetrics(t)
	gone := m.Server("main", "gone")
	kept := m.Server("main", "kept")
	m.Server("other", "gone").Up.Set(1)
	gone.Hits.Add(1)
	gone.Requests[0].Add(1)
	gone.Errors[0].Add(1)
	gone.Duration(0).Observe(0.001)
	kept.Hits.Add(1)

	m.RemoveServer("main", "gone")

	assertNoSeries(t, reg, map[string]string{"pool": "main", "server": "gone"})
	if n, _ := testutil.GatherAndCount(reg, "hashproxy_get_hits_total"); n != 2 {
		t.Errorf("hits series after removal = %d, want 2 (main/kept, other/gone)", n)
	}
	if got := testutil.ToFloat64(m.up.WithLabelValues("other", "gone")); got != 1 {
		t.Errorf("server of the same name in another pool lost its value: up = %v", got)
	}
	again := m.Server("main", "gone")
	if again == gone {
		t.Fatal("Server after RemoveServer returned the removed handles")
	}
	if got := again.Hits.Load(); got != 0 {
		t.Errorf("re-added server hits = %v, want 0", got)
	}
}

func TestPoolHandles(t *testing.T) {
	reg, m := newTestMetrics(t)
	p := m.Pool("main")
	if m.Pool("main") != p {
		t.Fatal("Pool returned a new handle set for the same pool")
	}
	p.ClientConnections.Set(3)
	p.Accepted.Add(5)
	p.Rejected.Add(1)
	p.BytesIn.Add(100)
	p.BytesOut.Add(2048)
	want := `
# HELP hashproxy_client_connections Open client connections.
# TYPE hashproxy_client_connections gauge
hashproxy_client_connections{pool="main"} 3
# HELP hashproxy_client_connections_accepted_total Client connections accepted.
# TYPE hashproxy_client_connections_accepted_total counter
hashproxy_client_connections_accepted_total{pool="main"} 5
# HELP hashproxy_client_connections_rejected_total Client connections refused, because the pool was at its connection limit.
# TYPE hashproxy_client_connections_rejected_total counter
hashproxy_client_connections_rejected_total{pool="main"} 1
# HELP hashproxy_client_bytes_received_total Bytes read from clients.
# TYPE hashproxy_client_bytes_received_total counter
hashproxy_client_bytes_received_total{pool="main"} 100
# HELP hashproxy_client_bytes_sent_total Bytes written to clients.
# TYPE hashproxy_client_bytes_sent_total counter
hashproxy_client_bytes_sent_total{pool="main"} 2048
`
	err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"hashproxy_client_connections", "hashproxy_client_connections_accepted_total",
		"hashproxy_client_connections_rejected_total", "hashproxy_client_bytes_received_total",
		"hashproxy_client_bytes_sent_total")
	if err != nil {
		t.Fatal(err)
	}
}

func TestRemovePool(t *testing.T) {
	reg, m := newTestMetrics(t)
	m.Pool("gone").Accepted.Add(1)
	m.Server("gone", "a").Hits.Add(1)
	m.Server("gone", "b").Up.Set(1)
	m.Pool("kept").Accepted.Add(1)
	m.Server("kept", "a").Hits.Add(1)

	m.RemovePool("gone")

	assertNoSeries(t, reg, map[string]string{"pool": "gone"})
	if n, _ := testutil.GatherAndCount(reg, "hashproxy_get_hits_total"); n != 1 {
		t.Errorf("hits series after removal = %d, want 1", n)
	}
	if n, _ := testutil.GatherAndCount(reg, "hashproxy_client_connections_accepted_total"); n != 1 {
		t.Errorf("accepted series after removal = %d, want 1", n)
	}
	if m.Server("gone", "a").Hits.Load() != 0 {
		t.Error("server re-added after RemovePool did not start from zero")
	}
}

func TestConfigReload(t *testing.T) {
	reg, m := newTestMetrics(t)
	const head = `
# HELP hashproxy_config_reloads_total Configuration reloads, by result.
# TYPE hashproxy_config_reloads_total counter
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(head+`hashproxy_config_reloads_total{result="failure"} 0
hashproxy_config_reloads_total{result="success"} 0
`), "hashproxy_config_reloads_total"); err != nil {
		t.Fatalf("before any reload: %v", err)
	}
	m.ConfigReload(nil)
	m.ConfigReload(nil)
	m.ConfigReload(errors.New("bad config"))
	if err := testutil.GatherAndCompare(reg, strings.NewReader(head+`hashproxy_config_reloads_total{result="failure"} 1
hashproxy_config_reloads_total{result="success"} 2
`), "hashproxy_config_reloads_total"); err != nil {
		t.Fatal(err)
	}
}

func TestBuildInfo(t *testing.T) {
	const head = `
# HELP hashproxy_build_info Always 1; the labels identify the running binary.
# TYPE hashproxy_build_info gauge
`
	reg, _ := newTestMetrics(t)
	if err := testutil.GatherAndCompare(reg, strings.NewReader(head+
		`hashproxy_build_info{commit="abc1234",goversion="go1.26.8",version="1.2.3"} 1
`), "hashproxy_build_info"); err != nil {
		t.Fatal(err)
	}

	reg = prometheus.NewRegistry()
	New(reg, BuildInfo{Version: "dev"}, testLabels)
	if err := testutil.GatherAndCompare(reg, strings.NewReader(head+
		`hashproxy_build_info{commit="",goversion="`+runtime.Version()+`",version="dev"} 1
`), "hashproxy_build_info"); err != nil {
		t.Fatalf("empty GoVersion: %v", err)
	}
}

func TestNewRegistersRuntimeAndProcessCollectors(t *testing.T) {
	reg, _ := newTestMetrics(t)
	names := gatheredNames(t, reg)
	for _, name := range []string{"go_goroutines", "go_memstats_alloc_bytes", "process_cpu_seconds_total", "process_open_fds"} {
		if !names[name] {
			t.Errorf("%s missing from the registry", name)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	reg, m := newTestMetrics(t)
	const workers, rounds = 8, 200
	servers := []string{"a", "b", "c", "d"}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				s := m.Server("main", servers[(w+i)%len(servers)])
				s.Requests[0].Add(1)
				s.Duration(i % len(testLabels.Commands)).Observe(0.001)
				m.Pool("main").BytesIn.Add(10)
				if i%50 == 0 {
					m.RemoveServer("other", "x")
					m.ConfigReload(nil)
				}
			}
		}()
	}
	wg.Wait()
	var total uint64
	for _, srv := range servers {
		total += m.Server("main", srv).Requests[0].Load()
	}
	if total != workers*rounds {
		t.Errorf("get requests = %v, want %d", total, workers*rounds)
	}
	if got := m.Pool("main").BytesIn.Load(); got != 10*workers*rounds {
		t.Errorf("bytes in = %v, want %d", got, 10*workers*rounds)
	}
	if _, err := reg.Gather(); err != nil {
		t.Fatal(err)
	}
}

// TestHotPathDoesNotAllocate pins the promise the proxy relies on: updating a
// pre-bound handle costs no allocation.
func TestHotPathDoesNotAllocate(t *testing.T) {
	_, m := newTestMetrics(t)
	s := m.Server("main", "a")
	p := m.Pool("main")
	allocs := testing.AllocsPerRun(1000, func() {
		s.Requests[4].Add(1)
		s.Hits.Add(1)
		s.Misses.Add(1)
		s.Errors[0].Add(1)
		s.Duration(4).Observe(0.0004)
		s.Up.Set(1)
		p.BytesIn.Add(64)
		p.BytesOut.Add(128)
		p.ClientConnections.Dec()
	})
	if allocs != 0 {
		t.Errorf("hot path allocates %v times per request, want 0", allocs)
	}
}

func BenchmarkServerRequest(b *testing.B) {
	m := New(prometheus.NewRegistry(), BuildInfo{}, testLabels)
	s := m.Server("main", "a")
	p := m.Pool("main")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s.Requests[0].Add(1)
			s.Hits.Add(1)
			s.Duration(0).Observe(0.0002)
			p.BytesIn.Add(32)
			p.BytesOut.Add(64)
		}
	})
}

// gatheredNames returns the metric family names reg exposes.
func gatheredNames(t *testing.T, reg *prometheus.Registry) map[string]bool {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	names := make(map[string]bool, len(mfs))
	for _, mf := range mfs {
		names[mf.GetName()] = true
	}
	return names
}

// assertNoSeries fails if any series in reg carries all the given labels.
func assertNoSeries(t *testing.T, reg *prometheus.Registry, labels map[string]string) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, mf := range mfs {
		for _, metric := range mf.GetMetric() {
			matched := 0
			for _, lp := range metric.GetLabel() {
				if v, ok := labels[lp.GetName()]; ok && v == lp.GetValue() {
					matched++
				}
			}
			if matched == len(labels) {
				t.Errorf("%s still has a series with %v: %v", mf.GetName(), labels, metric.GetLabel())
			}
		}
	}
}
