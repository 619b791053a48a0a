package metrics

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// Labels are the fixed values of the command and kind labels of the
// per-server series. Their owners, the protocol (which commands exist) and
// the upstream connections (which failures they report), supply them through
// the proxy, so this package keeps no copy that could drift.
type Labels struct {
	// Commands are the commands forwarded to memcached nodes; Server.Requests
	// is indexed like it.
	Commands []string
	// ErrorKinds are the kinds of upstream failure; Server.Errors is indexed
	// like it.
	ErrorKinds []string
}

type serverKey struct{ pool, server string }

// Server holds the counters and pre-bound metric handles of one memcached
// node in one pool. Everything in it is safe for concurrent use. The
// counters are plain atomics, exported at scrape time.
type Server struct {
	// Requests counts the requests forwarded to the node, indexed like
	// Labels.Commands; a retrieval counts each of its keys.
	Requests []atomic.Uint64
	// Errors counts the requests to the node that failed, indexed like
	// Labels.ErrorKinds.
	Errors []atomic.Uint64
	// Hits and Misses count the keys of retrievals the node found and did
	// not find.
	Hits, Misses atomic.Uint64
	// Up is 1 while the node serves, 0 while it is down or ejected.
	Up prometheus.Gauge
	// RingShare is the node's share of the hash space, from 0 to 1.
	RingShare prometheus.Gauge
	// Homes counts what keys with several homes did on the node.
	Homes HomesCounters

	m          *Metrics
	pool, name string
	countConns func() int // guarded by m.mu; see CountConnections
	// durations holds the latency histogram of each command, indexed like
	// Labels.Commands, nil until the command's first request; see Duration.
	durations []atomic.Pointer[observer]
}

// observer boxes a prometheus.Observer for an atomic.Pointer.
type observer struct{ prometheus.Observer }

// discard is the Observer of a server RemoveServer took away.
var discard = prometheus.ObserverFunc(func(float64) {})

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
		Requests:  make([]atomic.Uint64, len(m.labels.Commands)),
		Errors:    make([]atomic.Uint64, len(m.labels.ErrorKinds)),
		Up:        m.up.WithLabelValues(pool, server),
		RingShare: m.ringShare.WithLabelValues(pool, server),
		m:         m,
		pool:      pool,
		name:      server,
		durations: make([]atomic.Pointer[observer], len(m.labels.Commands)),
	}
	m.servers[key] = s
	return s
}

// Duration returns the observer of the seconds one upstream request of
// command i, indexed like Labels.Commands, took. Its series is created on
// the command's first request, so a node has latency series only for the
// commands it serves. Once RemoveServer has taken the server away, Duration
// returns an observer that discards, so a late request cannot bring its
// series back.
func (s *Server) Duration(i int) prometheus.Observer {
	if o := s.durations[i].Load(); o != nil {
		return o.Observer
	}
	return s.newDuration(i)
}

// newDuration creates the latency series of command i, once.
func (s *Server) newDuration(i int) prometheus.Observer {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	if o := s.durations[i].Load(); o != nil {
		return o.Observer
	}
	o := &observer{discard}
	if s.m.servers[serverKey{s.pool, s.name}] == s {
		o.Observer = s.m.duration.WithLabelValues(s.pool, s.name, s.m.labels.Commands[i])
	}
	s.durations[i].Store(o)
	return o.Observer
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

// deleteServerSeries deletes the per-server series, other than the counters
// read from Metrics.servers, whose labels include match. The caller holds
// m.mu.
func (m *Metrics) deleteServerSeries(match prometheus.Labels) {
	m.duration.DeletePartialMatch(match)
	m.up.DeletePartialMatch(match)
	m.ringShare.DeletePartialMatch(match)
}
