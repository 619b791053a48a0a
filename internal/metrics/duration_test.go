package metrics

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestDurationByCommand: each command's latency is its own series, created
// by the command's first request, so "gets are slow on node a" is one
// query and commands a node never served add no series.
func TestDurationByCommand(t *testing.T) {
	reg, m := newTestMetrics(t)
	s := m.Server("main", "a")
	get, set := 0, 4 // as in testLabels.Commands
	if n, _ := testutil.GatherAndCount(reg, "hashproxy_upstream_request_duration_seconds"); n != 0 {
		t.Fatalf("%d latency series before any request, want 0", n)
	}
	s.Duration(get).Observe(0.0001)
	s.Duration(get).Observe(0.0002)
	s.Duration(set).Observe(0.3)
	if n, _ := testutil.GatherAndCount(reg, "hashproxy_upstream_request_duration_seconds"); n != 2 {
		t.Errorf("%d latency series after get and set, want 2", n)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]uint64{}
	for _, mf := range mfs {
		if mf.GetName() != "hashproxy_upstream_request_duration_seconds" {
			continue
		}
		for _, metric := range mf.GetMetric() {
			var cmd string
			for _, lp := range metric.GetLabel() {
				if lp.GetName() == "command" {
					cmd = lp.GetValue()
				}
			}
			h := metric.GetHistogram()
			counts[cmd] = h.GetSampleCount()
			// Classic buckets for every server, native ones for
			// those that scrape them.
			if len(h.GetBucket()) != len(DurationBuckets) {
				t.Errorf("%s: %d classic buckets, want %d", cmd, len(h.GetBucket()), len(DurationBuckets))
			}
			if h.Schema == nil || len(h.GetPositiveSpan()) == 0 {
				t.Errorf("%s: no native histogram buckets (schema %v)", cmd, h.Schema)
			}
		}
	}
	if counts["get"] != 2 || counts["set"] != 1 {
		t.Errorf("latency counts by command = %v, want get 2, set 1", counts)
	}
}

// TestDurationAfterRemoval: a request that completes after its server was
// removed does not bring the server's series back.
func TestDurationAfterRemoval(t *testing.T) {
	reg, m := newTestMetrics(t)
	s := m.Server("main", "gone")
	s.Duration(0).Observe(0.001)
	m.RemoveServer("main", "gone")
	s.Duration(0).Observe(0.001)
	s.Duration(1).Observe(0.001)
	assertNoSeries(t, reg, map[string]string{"pool": "main", "server": "gone"})
}
