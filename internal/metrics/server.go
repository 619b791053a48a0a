package metrics

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// Commands is the fixed set of values of the command label, the commands the
// proxy forwards to memcached nodes.
var Commands = []string{
	"get", "gets", "gat", "gats",
	"set", "add", "replace", "append", "prepend", "cas",
	"delete", "incr", "decr", "touch", "flush_all",
}

// ErrorKinds is the fixed set of values of the kind label of
// hashproxy_upstream_errors_total.
var ErrorKinds = []string{
	"timeout",    // the node did not answer within the request deadline
	"connect",    // dialling the node failed
	"protocol",   // the node sent a reply the proxy could not parse
	"closed",     // the connection broke with the request in flight
	"down",       // the node was marked down; the request failed fast
	"queue_full", // the node's request queue was full
}

// other is the label value for a command or error kind outside the fixed
// sets, so that a caller's mistake shows up on a dashboard.
const other = "other"

type serverKey struct{ pool, server string }

// Server holds the pre-bound metric handles of one memcached node in one
// pool. Its handles are safe for concurrent use.
type Server struct {
	// ByCommand holds the request counter of each command, indexed like
	// Commands.
	ByCommand []prometheus.Counter
	// ByKind holds the error counter of each kind, indexed like ErrorKinds.
	ByKind []prometheus.Counter
	// Hits and Misses count the keys of retrievals the node found and did
	// not find.
	Hits, Misses prometheus.Counter
	// Duration observes the seconds one upstream request took.
	Duration prometheus.Observer
	// Up is 1 while the node serves, 0 while it is down or ejected.
	Up prometheus.Gauge
	// RingShare is the node's share of the hash space, from 0 to 1.
	RingShare prometheus.Gauge
	// Touch holds counts that only the text protocol's stats reports.
	Touch TouchCounts

	m          *Metrics
	pool, name string
	countConns func() int // guarded by m.mu; see CountConnections
}

// TouchCounts are counts memcached keeps apart from its gets, for a stats
// reply that adds up like the nodes' own: memcached books the keys of gat
// and gats under touch_hits and touch_misses, not get_hits and get_misses.
// They are not exported to Prometheus, where hits and misses cover every
// retrieval.
type TouchCounts struct {
	// GatHits and GatMisses count keys of gat and gats the node found and
	// did not find; Hits and Misses include them.
	GatHits, GatMisses atomic.Int64
	// Hits and Misses count touch commands answered TOUCHED and NOT_FOUND.
	Hits, Misses atomic.Int64
}

// Server returns the handles of the named server in the named pool, creating
// its series on first use; later calls with the same names return the same
// *Server. All its request and error series exist, at zero, from the first
// call, so rates are defined before the first request.
func (m *Metrics) Server(pool, server string) *Server {
	key := serverKey{pool, server}
	m.mu.Lock()
	defer m.mu.Unlock()
	if s, ok := m.servers[key]; ok {
		return s
	}
	s := &Server{
		ByCommand: make([]prometheus.Counter, len(Commands)),
		ByKind:    make([]prometheus.Counter, len(ErrorKinds)),
		Hits:      m.hits.WithLabelValues(pool, server),
		Misses:    m.misses.WithLabelValues(pool, server),
		Duration:  m.duration.WithLabelValues(pool, server),
		Up:        m.up.WithLabelValues(pool, server),
		RingShare: m.ringShare.WithLabelValues(pool, server),
		m:         m,
		pool:      pool,
		name:      server,
	}
	for i, c := range Commands {
		s.ByCommand[i] = m.requests.WithLabelValues(pool, server, c)
	}
	for i, k := range ErrorKinds {
		s.ByKind[i] = m.errors.WithLabelValues(pool, server, k)
	}
	m.servers[key] = s
	return s
}

// Requests returns the request counter of command, for callers that resolve
// their handles once at setup. A command outside Commands is counted under
// command="other".
func (s *Server) Requests(command string) prometheus.Counter {
	if i := indexOf(Commands, command); i >= 0 {
		return s.ByCommand[i]
	}
	return s.m.requests.WithLabelValues(s.pool, s.name, other)
}

// Errors returns the error counter of kind, for callers that resolve their
// handles once at setup. A kind outside ErrorKinds is counted under
// kind="other".
func (s *Server) Errors(kind string) prometheus.Counter {
	if i := indexOf(ErrorKinds, kind); i >= 0 {
		return s.ByKind[i]
	}
	return s.m.errors.WithLabelValues(s.pool, s.name, other)
}

// RemoveServer deletes every series of the named server in the named pool,
// for a node a reload took out of the configuration. Handles obtained before
// stay usable but no longer reach /metrics; a later Server call with the
// same names starts again from zero.
func (m *Metrics) RemoveServer(pool, server string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.servers, serverKey{pool, server})
	m.deleteServerSeries(prometheus.Labels{labelPool: pool, labelServer: server})
}

// deleteServerSeries deletes the per-server series whose labels include
// match. The caller holds m.mu.
func (m *Metrics) deleteServerSeries(match prometheus.Labels) {
	m.requests.DeletePartialMatch(match)
	m.errors.DeletePartialMatch(match)
	m.hits.DeletePartialMatch(match)
	m.misses.DeletePartialMatch(match)
	m.duration.DeletePartialMatch(match)
	m.up.DeletePartialMatch(match)
	m.ringShare.DeletePartialMatch(match)
}

func indexOf(set []string, v string) int {
	for i, s := range set {
		if s == v {
			return i
		}
	}
	return -1
}
