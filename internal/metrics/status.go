package metrics

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"
)

// StatusSource is what the status page and its JSON read from the proxy:
// what only it knows (its pools, their nodes and rings, hot keys), as plain
// data. The rates come from this package's own counters.
type StatusSource interface {
	// StatusPools returns every pool with its nodes, in configuration
	// order, filling in what the proxy knows: names, addresses, states,
	// ring shares and arcs, client connections.
	StatusPools() []PoolStatus
	// HotKeys returns up to n keys of the named pool requested most in
	// the hot-key window, most first. It fails with ErrNoPool or
	// ErrHotKeysOff.
	HotKeys(pool string, n int) (HotKeys, error)
}

// Errors of StatusSource.HotKeys.
var (
	ErrNoPool     = errors.New("metrics: no such pool")
	ErrHotKeysOff = errors.New("metrics: hot keys are off")
)

// Node states.
const (
	StateUp      = "up"      // serving
	StateDown    = "down"    // not answering; its keys fail fast
	StateEjected = "ejected" // not answering and out of the ring (auto_eject_hosts)
	// StateWarmup is a node a reload removed that the pool's warm-up
	// window keeps, read-only (reads, delete and touch), until it ends.
	StateWarmup = "warmup"
)

// Status is the document GET /api/status returns.
type Status struct {
	Time          time.Time `json:"time"`
	Version       string    `json:"version"`
	UptimeSeconds float64   `json:"uptime_seconds"`
	// IntervalSeconds is the span the rates, ratios and percentiles
	// cover, ending now; 0 on the first request, when there is no earlier
	// reading to compare with.
	IntervalSeconds float64      `json:"interval_seconds"`
	Pools           []PoolStatus `json:"pools"`
	// Events are the last MaxEvents events, most recent first.
	Events []Event `json:"events"`
}

// PoolStatus is one pool in Status.
type PoolStatus struct {
	Name              string  `json:"name"`
	Listen            string  `json:"listen"`
	Distribution      string  `json:"distribution"`
	ClientConnections int64   `json:"client_connections"`
	RequestsPerSecond float64 `json:"requests_per_second"`
	// Nodes are the configured nodes, in configuration order, then the
	// nodes a reload removed that the warm-up window keeps (StateWarmup).
	Nodes []NodeStatus `json:"nodes"`
	// ReplicationFactor is the copies kept of each key.
	ReplicationFactor int `json:"replication_factor"`
	// Warmup is the warm-up window open after a reload that changed the
	// ring; nil when none is.
	Warmup *WarmupStatus `json:"warmup"`
	// Arcs are the ring's hash space from 0 to 1, in order; each arc's
	// Node indexes Nodes.
	Arcs []Arc `json:"arcs"`
	// HotKeys are the pool's most requested keys; nil when hot keys are
	// off.
	HotKeys *HotKeys `json:"hot_keys"`
}

// NodeStatus is one memcached node in Status. A pointer field is null when
// the interval saw nothing to compute it from.
type NodeStatus struct {
	Name    string `json:"name"`
	Address string `json:"address"`
	// State is StateUp, StateDown, StateEjected or StateWarmup.
	State string `json:"state"`
	// RingShare is the node's share of the ring's hash space, 0 when it is
	// ejected or kept for warm-up.
	RingShare float64 `json:"ring_share"`
	// WarmupRemainingSeconds is, for a node in StateWarmup, the seconds
	// until the window ends and the node is closed; nil for the others.
	WarmupRemainingSeconds *float64 `json:"warmup_remaining_seconds"`
	RequestsPerSecond      float64  `json:"requests_per_second"`
	HitRatio               *float64 `json:"hit_ratio"`
	P50Seconds             *float64 `json:"p50_seconds"`
	P99Seconds             *float64 `json:"p99_seconds"`
	ErrorsPerSecond        float64  `json:"errors_per_second"`
	Connections            int      `json:"connections"`
}

// WarmupStatus is an open warm-up window: until it ends, keys are also
// read from their homes under the previous ring.
type WarmupStatus struct {
	Ends             time.Time `json:"ends"`
	RemainingSeconds float64   `json:"remaining_seconds"`
	// KeysMovedShare estimates the share of keys whose homes changed.
	KeysMovedShare float64 `json:"keys_moved_share"`
}

// Arc is a stretch of a ring's hash space that one node owns, from Start to
// End as fractions of the whole; Node indexes PoolStatus.Nodes. It is
// written as [start, end, node].
type Arc struct {
	Start, End float64
	Node       int
}

// HotKeys is the document GET /api/hotkeys returns.
type HotKeys struct {
	Pool string `json:"pool"`
	// WindowSeconds is the span the counts cover, ending now.
	WindowSeconds int `json:"window_seconds"`
	// Keys are the most requested first.
	Keys []HotKey `json:"keys"`
}

// HotKey is one of HotKeys.
type HotKey struct {
	// Key is the key, or its hash when keys are shown hashed.
	Key string `json:"key"`
	// Server is the node that owns the key.
	Server string `json:"server"`
	// Count estimates the requests for the key in the window.
	Count uint64 `json:"count"`
	// Share is the key's fraction of the pool's requests in the window.
	Share float64 `json:"share"`
}

// statusHotKeys is the number of hot keys per pool in Status.
const statusHotKeys = 10

// maxArcs bounds the arcs of a pool in Status: a ring of more (ketama
// gives each node 160 points) is described at that resolution, finer than
// a drawn circle shows (see boundArcs).
const maxArcs = 1000

// Rates are computed against a reading at least rateMinInterval old,
// and the oldest one kept within rateWindow, so they are averages over
// about the last rateWindow seconds however often the status is read. A
// reading older than rateMaxAge is too old to say what happens now: the
// next status has no rates, as the first one.
const (
	rateWindow      = 5 * time.Second
	rateMinInterval = 200 * time.Millisecond
	rateMaxAge      = time.Minute
)

// nodeReading is one node's counters at one moment.
type nodeReading struct {
	requests, errors, hits, misses uint64
	latency                        latency
}

// reading is every node's counters at one moment.
type reading struct {
	at    time.Time
	nodes map[serverKey]nodeReading
	conns map[serverKey]int
}

// readings keeps the recent readings the rates are computed from.
type readings struct {
	mu   sync.Mutex
	kept []reading // oldest first
}

// base records cur and returns the reading to compute rates against, or
// false when none is old enough.
func (r *readings) base(cur reading) (reading, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n := len(r.kept); n > 0 && cur.at.Sub(r.kept[n-1].at) > rateMaxAge {
		r.kept = r.kept[:0]
	}
	cutoff := cur.at.Add(-rateWindow)
	// Keep one reading at or before the cutoff, so the rates span the
	// whole window once there is history.
	for len(r.kept) > 1 && !r.kept[1].at.After(cutoff) {
		r.kept = r.kept[1:]
	}
	var base reading
	ok := len(r.kept) > 0 && cur.at.Sub(r.kept[0].at) >= rateMinInterval
	if ok {
		base = r.kept[0]
	}
	if n := len(r.kept); n == 0 || cur.at.Sub(r.kept[n-1].at) >= rateMinInterval {
		r.kept = append(r.kept, cur)
	}
	return base, ok
}

// read takes a reading of every node's counters.
func (m *Metrics) read() reading {
	m.mu.Lock()
	servers := make(map[serverKey]*Server, len(m.servers))
	conns := make(map[serverKey]func() int, len(m.servers))
	for k, s := range m.servers {
		servers[k] = s
		conns[k] = s.countConns
	}
	m.mu.Unlock()
	r := reading{at: time.Now(), nodes: make(map[serverKey]nodeReading, len(servers)), conns: make(map[serverKey]int, len(servers))}
	for k, s := range servers {
		var nr nodeReading
		for i := range s.Requests {
			nr.requests += s.Requests[i].Load()
		}
		for i := range s.Errors {
			nr.errors += s.Errors[i].Load()
		}
		nr.hits, nr.misses = s.Hits.Load(), s.Misses.Load()
		nr.latency = s.readLatency()
		r.nodes[k] = nr
		if c := conns[k]; c != nil {
			r.conns[k] = c()
		}
	}
	return r
}

// Status returns the proxy's status: src's pools and nodes with the rates
// of the last few seconds, hot keys and the recent events.
func (m *Metrics) Status(src StatusSource) Status {
	pools := src.StatusPools()
	cur := m.read()
	base, ok := m.readings.base(cur)
	st := Status{
		Time:          cur.at.UTC(),
		Version:       m.build.Version,
		UptimeSeconds: round(cur.at.Sub(m.start).Seconds(), 1),
		Pools:         pools,
		Events:        m.Events(),
	}
	var secs float64
	if ok {
		secs = cur.at.Sub(base.at).Seconds()
		st.IntervalSeconds = round(secs, 3)
	}
	for pi := range st.Pools {
		p := &st.Pools[pi]
		p.RequestsPerSecond = 0
		seen := make(map[string]bool, len(p.Nodes))
		for ni := range p.Nodes {
			n := &p.Nodes[ni]
			if seen[n.Name] {
				// A node kept for warm-up whose name a configured node
				// has now shares its series: the figures are on the
				// configured one.
				continue
			}
			seen[n.Name] = true
			key := serverKey{p.Name, n.Name}
			n.Connections = cur.conns[key]
			if ok {
				fillRates(n, cur.nodes[key], base.nodes[key], secs)
				p.RequestsPerSecond += n.RequestsPerSecond
			}
		}
		p.RequestsPerSecond = round(p.RequestsPerSecond, 2)
		p.Arcs = boundArcs(p.Arcs, maxArcs)
		if hk, err := src.HotKeys(p.Name, statusHotKeys); err == nil {
			p.HotKeys = &hk
		}
	}
	return st
}

// fillRates sets n's rates from two readings secs apart. A counter that
// went down (a node rebuilt under the same name) counts from zero.
func fillRates(n *NodeStatus, cur, base nodeReading, secs float64) {
	delta := func(c, b uint64) float64 {
		if c < b {
			return float64(c)
		}
		return float64(c - b)
	}
	n.RequestsPerSecond = round(delta(cur.requests, base.requests)/secs, 2)
	n.ErrorsPerSecond = round(delta(cur.errors, base.errors)/secs, 2)
	hits, misses := delta(cur.hits, base.hits), delta(cur.misses, base.misses)
	if hits+misses > 0 {
		n.HitRatio = ptr(round(hits/(hits+misses), 4))
	}
	lat := cur.latency.minus(base.latency)
	if v, ok := lat.quantile(0.5); ok {
		n.P50Seconds = ptr(roundSignificant(v))
	}
	if v, ok := lat.quantile(0.99); ok {
		n.P99Seconds = ptr(roundSignificant(v))
	}
}

// boundArcs returns arcs, which tile the circle in order, as at most n
// arcs: unchanged when there are no more, else one per n-th of the circle,
// neighbours of one owner merged. Each n-th goes to one of the nodes that
// own part of it: the one owed most so far, what it owns up to there less
// what it was given, so each node's total stays within about 1/n of its
// share however finely its points are spread.
func boundArcs(arcs []Arc, n int) []Arc {
	if len(arcs) <= n {
		return arcs
	}
	var out []Arc
	owned := make(map[int]float64)
	owed := make(map[int]float64)
	i := 0
	for b := range n {
		lo, hi := float64(b)/float64(n), float64(b+1)/float64(n)
		clear(owned)
		for ; i < len(arcs) && arcs[i].Start < hi; i++ {
			owned[arcs[i].Node] += min(arcs[i].End, hi) - max(arcs[i].Start, lo)
			if arcs[i].End > hi {
				break // it goes on into the next bin
			}
		}
		owner, most := -1, math.Inf(-1)
		for node, length := range owned {
			owed[node] += length
			if d := owed[node]; d > most || (d == most && node < owner) {
				owner, most = node, d
			}
		}
		if owner < 0 {
			continue
		}
		owed[owner] -= hi - lo
		if k := len(out); k > 0 && out[k-1].Node == owner {
			out[k-1].End = hi
			continue
		}
		out = append(out, Arc{Start: lo, End: hi, Node: owner})
	}
	return out
}

func ptr(v float64) *float64 { return &v }

// round rounds v to the given decimals.
func round(v float64, decimals int) float64 {
	p := math.Pow10(decimals)
	return math.Round(v*p) / p
}

// roundSignificant rounds v to three significant digits: more than a
// native histogram bucket resolves.
func roundSignificant(v float64) float64 {
	if v == 0 {
		return 0
	}
	e := math.Floor(math.Log10(math.Abs(v)))
	p := math.Pow10(2 - int(e))
	return math.Round(v*p) / p
}

// MarshalJSON writes a as [start, end, node], start and end to six
// decimals.
func (a Arc) MarshalJSON() ([]byte, error) {
	b := []byte{'['}
	b = strconv.AppendFloat(b, round(a.Start, 6), 'f', -1, 64)
	b = append(b, ',')
	b = strconv.AppendFloat(b, round(a.End, 6), 'f', -1, 64)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(a.Node), 10)
	return append(b, ']'), nil
}

// UnmarshalJSON reads [start, end, node].
func (a *Arc) UnmarshalJSON(b []byte) error {
	var v [3]float64
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("metrics: arc: %w", err)
	}
	a.Start, a.End, a.Node = v[0], v[1], int(v[2])
	return nil
}
