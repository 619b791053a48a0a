package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// connectionsCollector exposes hashproxy_upstream_connections. Its values are
// read at scrape time from each server's connection count, so the gauge never
// drifts from the connection pool it describes, and a server removed by a
// reload disappears with its entry in Metrics.servers.
type connectionsCollector struct {
	m    *Metrics
	desc *prometheus.Desc
}

func newConnectionsCollector(m *Metrics) *connectionsCollector {
	return &connectionsCollector{
		m: m,
		desc: prometheus.NewDesc(
			prometheus.BuildFQName(namespace, "", "upstream_connections"),
			"Open connections to a memcached node.",
			[]string{labelPool, labelServer}, nil,
		),
	}
}

// Describe implements prometheus.Collector.
func (c *connectionsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector: one series per server, 0 until the
// server has a connection count. The counts are read without holding the
// lock, so a slow count cannot block setting up a server.
func (c *connectionsCollector) Collect(ch chan<- prometheus.Metric) {
	type entry struct {
		key   serverKey
		count func() int
	}
	c.m.mu.Lock()
	entries := make([]entry, 0, len(c.m.servers))
	for k, s := range c.m.servers {
		entries = append(entries, entry{k, s.countConns})
	}
	c.m.mu.Unlock()
	for _, e := range entries {
		v := 0
		if e.count != nil {
			v = e.count()
		}
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(v), e.key.pool, e.key.server)
	}
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
