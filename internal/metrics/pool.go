package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Pool holds the pre-bound client-side metric handles of one pool. Its
// handles are safe for concurrent use.
type Pool struct {
	// ClientConnections is the number of open client connections.
	ClientConnections prometheus.Gauge
	// Accepted and Rejected count client connections accepted and refused
	// at the connection limit.
	Accepted, Rejected prometheus.Counter
	// BytesIn and BytesOut count bytes read from and written to clients.
	BytesIn, BytesOut prometheus.Counter
}

// Pool returns the client-side handles of the named pool, creating its
// series on first use; later calls with the same name return the same *Pool.
func (m *Metrics) Pool(pool string) *Pool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if p, ok := m.pools[pool]; ok {
		return p
	}
	p := &Pool{
		ClientConnections: m.clientConns.WithLabelValues(pool),
		Accepted:          m.accepted.WithLabelValues(pool),
		Rejected:          m.rejected.WithLabelValues(pool),
		BytesIn:           m.bytesIn.WithLabelValues(pool),
		BytesOut:          m.bytesOut.WithLabelValues(pool),
	}
	m.pools[pool] = p
	return p
}

// RemovePool deletes the client-side series of the named pool and the series
// of every server in it, for a pool a reload took out of the configuration.
// Handles obtained before stay usable but no longer reach /metrics.
func (m *Metrics) RemovePool(pool string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.pools, pool)
	for k := range m.servers {
		if k.pool == pool {
			delete(m.servers, k)
		}
	}
	match := prometheus.Labels{labelPool: pool}
	m.clientConns.Delete(match)
	m.accepted.Delete(match)
	m.rejected.Delete(match)
	m.bytesIn.Delete(match)
	m.bytesOut.Delete(match)
	m.deleteServerSeries(match)
}
