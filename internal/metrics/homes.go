package metrics

import (
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// FallbackReasons is the fixed set of values of the reason label of
// hashproxy_fallback_hits_total: why the node that answered a read was not
// the key's first home.
var FallbackReasons = []string{
	"replica", // a replica home, after an earlier home missed or failed
	"warmup",  // a home under the ring in force before a reload
}

// Indexes into FallbackReasons.
const (
	FallbackReplica = iota
	FallbackWarmup
)

// BackfillResults is the fixed set of values of the result label of
// hashproxy_backfills_total.
var BackfillResults = []string{
	"stored",     // the node took the copy
	"not_stored", // the node had a value already, which the copy did not overwrite
	"failed",     // the node failed or refused the request
}

// Indexes into BackfillResults.
const (
	BackfillStored = iota
	BackfillNotStored
	BackfillFailed
)

// HomesCounters count, for one node, what keys with more than one home
// (replicated pools, warm-up windows) did there. They are plain atomics,
// exported at scrape time.
type HomesCounters struct {
	// FallbackHits counts the reads the node answered with a hit as a
	// later home, indexed like FallbackReasons.
	FallbackHits [2]atomic.Uint64
	// Backfills counts the copies written into the node, indexed like
	// BackfillResults.
	Backfills [3]atomic.Uint64
	// ReplicaWriteFailures counts the writes to the node as a replica home
	// (not the first) that failed.
	ReplicaWriteFailures atomic.Uint64
}

// warmup is a pool's warm-up window, read at scrape time.
type warmup struct {
	ends atomic.Int64 // Unix nanoseconds; 0 when no window is open
}

// SetWarmupEnd records when the pool's warm-up window ends; the zero time
// says none is open.
func (p *Pool) SetWarmupEnd(t time.Time) {
	if t.IsZero() {
		p.warmup.ends.Store(0)
		return
	}
	p.warmup.ends.Store(t.UnixNano())
}

// homesCollector exports every Server's HomesCounters and every pool's
// warm-up window, whose remaining seconds are computed at scrape time so
// that the gauge counts down.
type homesCollector struct {
	m                                    *Metrics
	fallbackHits, backfills, replicaFail *prometheus.Desc
	warmupLeft                           *prometheus.Desc
}

func newHomesCollector(m *Metrics) *homesCollector {
	desc := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(namespace, "", name), help, labels, nil)
	}
	return &homesCollector{
		m: m,
		fallbackHits: desc("fallback_hits_total",
			"Reads a memcached node answered with a hit after the key's earlier homes missed or failed, by why the node was a home.",
			labelPool, labelServer, labelReason),
		backfills: desc("backfills_total",
			"Values copied into a memcached node that missed them, from a later home that had them, by result.",
			labelPool, labelServer, labelResult),
		replicaFail: desc("replica_write_failures_total",
			"Writes to a memcached node holding a copy (not the key's first home) that failed; the client got the first home's reply.",
			labelPool, labelServer),
		warmupLeft: desc("warmup_remaining_seconds",
			"Seconds left in the pool's warm-up window after a ring change, 0 when none is open.",
			labelPool),
	}
}

// Describe implements prometheus.Collector.
func (c *homesCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.fallbackHits
	ch <- c.backfills
	ch <- c.replicaFail
	ch <- c.warmupLeft
}

// Collect implements prometheus.Collector.
func (c *homesCollector) Collect(ch chan<- prometheus.Metric) {
	c.m.mu.Lock()
	servers := make(map[serverKey]*Server, len(c.m.servers))
	for k, s := range c.m.servers {
		servers[k] = s
	}
	pools := make(map[string]*Pool, len(c.m.pools))
	for name, p := range c.m.pools {
		pools[name] = p
	}
	c.m.mu.Unlock()
	for k, s := range servers {
		h := &s.Homes
		for i, reason := range FallbackReasons {
			ch <- counter(c.fallbackHits, &h.FallbackHits[i], k.pool, k.server, reason)
		}
		for i, result := range BackfillResults {
			ch <- counter(c.backfills, &h.Backfills[i], k.pool, k.server, result)
		}
		ch <- counter(c.replicaFail, &h.ReplicaWriteFailures, k.pool, k.server)
	}
	now := time.Now().UnixNano()
	for name, p := range pools {
		left := 0.0
		if end := p.warmup.ends.Load(); end > now {
			left = float64(end-now) / float64(time.Second)
		}
		ch <- prometheus.MustNewConstMetric(c.warmupLeft, prometheus.GaugeValue, left, name)
	}
}
