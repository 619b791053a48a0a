package metrics

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// Pool holds the client-side counters and handles of one pool. Everything
// in it is safe for concurrent use; the counters are plain atomics,
// exported at scrape time.
type Pool struct {
	// ClientConnections is the number of open client connections.
	ClientConnections prometheus.Gauge
	// Accepted and Rejected count client connections accepted and refused
	// at the connection limit.
	Accepted, Rejected atomic.Uint64
	// BytesIn and BytesOut count bytes read from and written to clients.
	BytesIn, BytesOut atomic.Uint64

	warmup warmup // see SetWarmupEnd
}

// Pool returns the client-side handles of the named pool, creating its
// series on first use; later calls with the same name return the same *Pool.
func (m *Metrics) Pool(pool string) *Pool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if p, ok := m.pools[pool]; ok {
		return p
	}
	p := &Pool{ClientConnections: m.clientConns.WithLabelValues(pool)}
	m.pools[pool] = p
	return p
}

// RemovePool deletes the client-side series of the named pool, its
// discovery series and the series of every server in it, for a pool a
// reload took out of the configuration. Handles obtained before stay
// usable but no longer reach /metrics.
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
	m.deleteServerSeries(match)
	m.RemoveDiscovery(pool)
}
