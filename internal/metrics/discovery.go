package metrics

import "github.com/prometheus/client_golang/prometheus"

// discoveryMetrics are the series of pools whose nodes are discovered.
type discoveryMetrics struct {
	errors     *prometheus.CounterVec
	discovered *prometheus.GaugeVec
}

func newDiscoveryMetrics() discoveryMetrics {
	return discoveryMetrics{
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "discovery_errors_total",
			Help: "Rounds of a pool's lookups (DNS, ElastiCache) that failed and kept the last good list, by kind: lookup (no answer), empty (no node), invalid (an answer that could not be read).",
		}, []string{labelPool, labelKind}),
		discovered: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Name: "discovered_servers",
			Help: "Nodes a pool's lookups found, in the list the pool runs with.",
		}, []string{labelPool}),
	}
}

// DiscoveryError counts a failed round of the named pool's lookups; kind
// is one of the fixed kinds of the discovery package.
func (m *Metrics) DiscoveryError(pool, kind string) {
	m.discovery.errors.WithLabelValues(pool, kind).Inc()
}

// DiscoveredServers sets the number of nodes the named pool runs with that
// its lookups found.
func (m *Metrics) DiscoveredServers(pool string, n int) {
	m.discovery.discovered.WithLabelValues(pool).Set(float64(n))
}

// RemoveDiscovery deletes the discovery series of the named pool, for a
// pool that no longer has lookups.
func (m *Metrics) RemoveDiscovery(pool string) {
	match := prometheus.Labels{labelPool: pool}
	m.discovery.errors.DeletePartialMatch(match)
	m.discovery.discovered.Delete(match)
}
