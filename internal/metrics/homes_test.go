package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestHomesHandles(t *testing.T) {
	reg, m := newTestMetrics(t)
	s := m.Server("main", "cache-a")
	s.Homes.FallbackHits[FallbackWarmup].Add(2)
	s.Homes.FallbackHits[FallbackReplica].Add(1)
	s.Homes.Backfills[BackfillNotStored].Add(1)
	s.Homes.ReplicaWriteFailures.Add(3)
	want := `
# HELP hashproxy_backfills_total Values copied into a memcached node that missed them, from a later home that had them, by result.
# TYPE hashproxy_backfills_total counter
hashproxy_backfills_total{pool="main",result="failed",server="cache-a"} 0
hashproxy_backfills_total{pool="main",result="not_stored",server="cache-a"} 1
hashproxy_backfills_total{pool="main",result="stored",server="cache-a"} 0
# HELP hashproxy_fallback_hits_total Reads a memcached node answered with a hit after the key's earlier homes missed or failed, by why the node was a home.
# TYPE hashproxy_fallback_hits_total counter
hashproxy_fallback_hits_total{pool="main",reason="replica",server="cache-a"} 1
hashproxy_fallback_hits_total{pool="main",reason="warmup",server="cache-a"} 2
# HELP hashproxy_replica_write_failures_total Writes to a memcached node holding a copy (not the key's first home) that failed; the client got the first home's reply.
# TYPE hashproxy_replica_write_failures_total counter
hashproxy_replica_write_failures_total{pool="main",server="cache-a"} 3
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"hashproxy_backfills_total", "hashproxy_fallback_hits_total", "hashproxy_replica_write_failures_total"); err != nil {
		t.Error(err)
	}
	m.RemoveServer("main", "cache-a")
	if n := testutil.CollectAndCount(newHomesCollector(m), "hashproxy_fallback_hits_total", "hashproxy_backfills_total",
		"hashproxy_replica_write_failures_total"); n != 0 {
		t.Errorf("%d homes series left after RemoveServer", n)
	}
}

// TestWarmupRemaining checks that the gauge counts down to the window's
// end, reads 0 once it has passed or none is open, and goes with its pool.
func TestWarmupRemaining(t *testing.T) {
	reg, m := newTestMetrics(t)
	p := m.Pool("main")
	m.Pool("other")
	p.SetWarmupEnd(time.Now().Add(time.Minute))
	remaining := func(pool string) float64 {
		t.Helper()
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() != "hashproxy_warmup_remaining_seconds" {
				continue
			}
			for _, s := range mf.GetMetric() {
				if s.GetLabel()[0].GetValue() == pool {
					return s.GetGauge().GetValue()
				}
			}
		}
		return -1
	}
	if got := remaining("main"); got <= 55 || got > 60 {
		t.Errorf("main: %v seconds remaining, want just under 60", got)
	}
	if got := remaining("other"); got != 0 {
		t.Errorf("other: %v seconds remaining, want 0", got)
	}
	p.SetWarmupEnd(time.Now().Add(-time.Second))
	if got := remaining("main"); got != 0 {
		t.Errorf("past window: %v seconds remaining, want 0", got)
	}
	p.SetWarmupEnd(time.Time{})
	if got := remaining("main"); got != 0 {
		t.Errorf("closed window: %v seconds remaining, want 0", got)
	}
	m.RemovePool("main")
	if got := remaining("main"); got != -1 {
		t.Errorf("removed pool still has a warm-up series: %v", got)
	}
}
