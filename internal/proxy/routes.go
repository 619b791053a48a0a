package proxy

import (
	"fmt"

	"hashproxy/internal/config"
	"hashproxy/internal/ring"
)

// routes is an immutable routing table: a ring and the node behind each of
// its indexes. A pool publishes a new one whenever its membership changes.
type routes struct {
	ring  *ring.Ring
	nodes []*node // nodes[i] owns what ring.Pick returns i for
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
	return &routes{ring: r, nodes: nodes}, nil
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

// pick returns the node that owns key.
func (r *routes) pick(key []byte) *node {
	return r.nodes[r.ring.Pick(key)]
}
