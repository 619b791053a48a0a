package proxy

import (
	"fmt"

	"hashproxy/internal/config"
	"hashproxy/internal/ring"
)

// routes is an immutable routing table: a ring, the node behind each of
// its indexes, how many copies of a key it keeps and, during a warm-up
// window, the routes in force before the reload that opened it. A pool
// publishes a new one whenever its membership changes.
type routes struct {
	ring   *ring.Ring
	nodes  []*node // nodes[i] owns what ring.Pick returns i for
	copies int     // replica homes per key: replication_factor, at most len(nodes)
	// prev is the routing table of the previous ring while a warm-up
	// window is open, else nil. Its own prev is always nil.
	prev *routes
}

// PoolRing builds the ring of a configured pool over every one of its
// servers, in config order. It is the one mapping from a pool's
// configuration to its placement: the proxy routes with it, and the ring
// and check commands show it.
func PoolRing(cfg config.Pool) (*ring.Ring, error) {
	return newRing(cfg, cfg.Servers)
}

// buildRoutes makes a routing table over nodes, with the pool's placement
// options.
func buildRoutes(cfg config.Pool, nodes []*node) (*routes, error) {
	servers := make([]config.Server, len(nodes))
	for i, n := range nodes {
		servers[i] = n.cfg
	}
	r, err := newRing(cfg, servers)
	if err != nil {
		return nil, err
	}
	return newRoutes(cfg, r, nodes), nil
}

// newRoutes makes a routing table over nodes placed by r, keeping the
// pool's replication_factor copies of each key (fewer when there are fewer
// nodes).
func newRoutes(cfg config.Pool, r *ring.Ring, nodes []*node) *routes {
	return &routes{ring: r, nodes: nodes, copies: max(1, min(cfg.ReplicationFactor, len(nodes)))}
}

// newRing builds a ring over servers with the placement options of cfg.
func newRing(cfg config.Pool, servers []config.Server) (*ring.Ring, error) {
	rn := make([]ring.Node, len(servers))
	for i, s := range servers {
		rn[i] = ring.Node{Addr: s.Addr, Alias: s.Name, Weight: s.Weight}
	}
	r, err := ring.New(rn, ring.Options{
		Hash:           cfg.Hash,
		Distribution:   cfg.Distribution,
		HashTag:        cfg.HashTag,
		Replicas:       cfg.Replicas,
		TwemproxyOrder: cfg.ServerOrder == config.OrderTwemproxy,
	})
	if err != nil {
		return nil, fmt.Errorf("pool %q: %w", cfg.Name, err)
	}
	return r, nil
}

// single reports whether every key has one home: one copy, no warm-up
// window.
func (r *routes) single() bool { return r.copies == 1 && r.prev == nil }

// pick returns the node that owns key, its first home.
func (r *routes) pick(key []byte) *node {
	return r.nodes[r.ring.Pick(key)]
}
