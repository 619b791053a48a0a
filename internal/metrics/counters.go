package metrics

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// countersCollector exports the plain counters of every Server and Pool,
// read at scrape time: the request path increments atomics it already holds,
// the text protocol's stats command reads the same atomics, and a server or
// pool removed from Metrics disappears from /metrics with its entry.
type countersCollector struct {
	m *Metrics

	requests, errors, hits, misses, conns *prometheus.Desc
	accepted, rejected, bytesIn, bytesOut *prometheus.Desc
}

func newCountersCollector(m *Metrics) *countersCollector {
	serverLabels := []string{labelPool, labelServer}
	desc := func(name, help string, labels []string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(namespace, "", name), help, labels, nil)
	}
	return &countersCollector{
		m: m,
		requests: desc("requests_total",
			"Requests forwarded to a memcached node, by command; each key of a multi-key retrieval counts once toward the node that owns it.",
			[]string{labelPool, labelServer, labelCommand}),
		errors: desc("upstream_errors_total",
			"Requests to a memcached node that failed, by kind of failure.",
			[]string{labelPool, labelServer, labelKind}),
		hits: desc("get_hits_total",
			"Keys a memcached node found, counted once per key of a retrieval.", serverLabels),
		misses: desc("get_misses_total",
			"Keys a memcached node did not find, counted once per key of a retrieval.", serverLabels),
		conns: desc("upstream_connections",
			"Open connections to a memcached node.", serverLabels),
		accepted: desc("client_connections_accepted_total",
			"Client connections accepted.", []string{labelPool}),
		rejected: desc("client_connections_rejected_total",
			"Client connections refused, because the pool was at its connection limit.", []string{labelPool}),
		bytesIn: desc("client_bytes_received_total",
			"Bytes read from clients.", []string{labelPool}),
		bytesOut: desc("client_bytes_sent_total",
			"Bytes written to clients.", []string{labelPool}),
	}
}

// Describe implements prometheus.Collector.
func (c *countersCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.requests, c.errors, c.hits, c.misses, c.conns,
		c.accepted, c.rejected, c.bytesIn, c.bytesOut} {
		ch <- d
	}
}

// Collect implements prometheus.Collector. The servers and pools are listed
// under the lock; their counters and connection counts are read without it,
// so a slow count cannot block setting up a server.
func (c *countersCollector) Collect(ch chan<- prometheus.Metric) {
	type server struct {
		key   serverKey
		s     *Server
		count func() int
	}
	c.m.mu.Lock()
	servers := make([]server, 0, len(c.m.servers))
	for k, s := range c.m.servers {
		servers = append(servers, server{k, s, s.countConns})
	}
	pools := make(map[string]*Pool, len(c.m.pools))
	for name, p := range c.m.pools {
		pools[name] = p
	}
	c.m.mu.Unlock()

	for _, e := range servers {
		pool, name := e.key.pool, e.key.server
		for i, cmd := range c.m.labels.Commands {
			ch <- counter(c.requests, &e.s.Requests[i], pool, name, cmd)
		}
		for i, kind := range c.m.labels.ErrorKinds {
			ch <- counter(c.errors, &e.s.Errors[i], pool, name, kind)
		}
		ch <- counter(c.hits, &e.s.Hits, pool, name)
		ch <- counter(c.misses, &e.s.Misses, pool, name)
		conns := 0
		if e.count != nil {
			conns = e.count()
		}
		ch <- prometheus.MustNewConstMetric(c.conns, prometheus.GaugeValue, float64(conns), pool, name)
	}
	for name, p := range pools {
		ch <- counter(c.accepted, &p.Accepted, name)
		ch <- counter(c.rejected, &p.Rejected, name)
		ch <- counter(c.bytesIn, &p.BytesIn, name)
		ch <- counter(c.bytesOut, &p.BytesOut, name)
	}
}

// counter is the current value of v as a counter sample.
func counter(d *prometheus.Desc, v *atomic.Uint64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v.Load()), labels...)
}

// CountConnections makes the server's hashproxy_upstream_connections read
// count at every scrape; until it is called, the series reads 0. count must
// be safe for concurrent use and quick, such as a look at atomic flags. A
// later call replaces count, for a node rebuilt under the same name.
func (s *Server) CountConnections(count func() int) {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	s.countConns = count
}
