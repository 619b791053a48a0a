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

// buildRoutes makes a routing table over nodes, with the pool's placement
// options.
func buildRoutes(cfg config.Pool, nodes []*node) (*routes, error) {
	rn := make([]ring.Node, len(nodes))
	for i, n := range nodes {
		rn[i] = ring.Node{Addr: n.cfg.Addr, Alias: n.cfg.Name, Weight: n.cfg.Weight}
	}
	r, err := ring.New(rn, ringOptions(cfg))
	if err != nil {
		return nil, fmt.Errorf("proxy: pool %q: %w", cfg.Name, err)
	}
	return &routes{ring: r, nodes: nodes}, nil
}

// ringOptions are the placement options of a pool.
func ringOptions(cfg config.Pool) ring.Options {
	return ring.Options{
		Hash:           cfg.Hash,
		Distribution:   cfg.Distribution,
		HashTag:        cfg.HashTag,
		Replicas:       cfg.Replicas,
		TwemproxyOrder: cfg.ServerOrder == config.OrderTwemproxy,
	}
}

// pick returns the node that owns key.
func (r *routes) pick(key []byte) *node {
	return r.nodes[r.ring.Pick(key)]
}
