package proxy

import (
	"crypto/tls"
	"net"
	"sync"
	"sync/atomic"

	"go.uber.org/zap"

	"hashproxy/internal/config"
	"hashproxy/internal/hotkeys"
	"hashproxy/internal/metrics"
	"hashproxy/internal/proto"
	"hashproxy/internal/ring"
	"hashproxy/internal/upstream"
)

// pool is one listener and the memcached nodes behind it.
type pool struct {
	name  string
	log   *zap.Logger
	m     *metrics.Pool
	met   *metrics.Metrics
	stats *localStats
	// hot counts the keys requested most; nil when hot keys are off.
	hot *hotkeys.Tracker

	// conf is the pool's settings and nodes, replaced as a whole by a
	// reload; routes is the routing table requests read, lock-free.
	conf   atomic.Pointer[poolConf]
	routes atomic.Pointer[routes]
	// upTLS and clientTLS are the TLS configurations of new connections to
	// the nodes and from clients, nil for plain ones; a reload replaces
	// them with ones read afresh (see setTLS).
	upTLS, clientTLS atomic.Pointer[tls.Config]
	ejectM           sync.Mutex  // serialises conf and route changes: reloads and node state changes
	warm             *warmWindow // the open warm-up window, or nil; guarded by ejectM

	ln       net.Listener // guarded by the Proxy's mu
	mu       sync.Mutex   // guards clients and draining
	clients  map[*clientConn]struct{}
	draining bool // set by stopReading: new clients are stopped at once
	nclients atomic.Int64
	wg       sync.WaitGroup // accept loops and client goroutines
}

// poolConf is a pool's configuration and its nodes. It is immutable: a
// reload publishes a new one, so a reader that loads it once sees one
// consistent version.
type poolConf struct {
	cfg    config.Pool
	limits proto.Limits
	nodes  []*node // every configured node, in config order
}

// newPoolConf pairs cfg with its nodes.
func newPoolConf(cfg config.Pool, nodes []*node) *poolConf {
	return &poolConf{
		cfg: cfg,
		limits: proto.Limits{
			MaxLineLength: cfg.MaxLineLength,
			MaxItemSize:   cfg.MaxItemSize,
			MaxKeys:       cfg.MaxKeys,
		},
		nodes: nodes,
	}
}

// has reports whether srv belongs to one of the configured nodes.
func (pc *poolConf) has(srv *upstream.Server) bool {
	for _, n := range pc.nodes {
		if n.srv == srv {
			return true
		}
	}
	return false
}

// newPool starts the pool's upstream servers and routes over full, the ring
// of cfg's servers (see PoolRing), with the TLS configurations t; Start or
// a reload starts accepting.
func newPool(cfg config.Pool, full *ring.Ring, t poolTLS, log *zap.Logger, met *metrics.Metrics, st *localStats, hot *hotkeys.Tracker) *pool {
	p := &pool{
		hot:     hot,
		name:    cfg.Name,
		log:     log.With(zap.String("pool", cfg.Name)),
		m:       met.Pool(cfg.Name),
		met:     met,
		stats:   st,
		clients: make(map[*clientConn]struct{}),
	}
	p.setTLS(t)
	nodes := make([]*node, len(cfg.Servers))
	for i, sc := range cfg.Servers {
		nodes[i] = p.newNode(cfg, sc)
	}
	pc := newPoolConf(cfg, nodes)
	p.conf.Store(pc)
	p.publish(pc, newRoutes(cfg, full, nodes))
	return p
}

// newNode starts the upstream server for one configured server of a pool
// configured as cfg.
func (p *pool) newNode(cfg config.Pool, sc config.Server) *node {
	n := &node{name: serverName(sc), cfg: sc}
	n.m = p.met.Server(p.name, n.name)
	n.m.Up.Set(1)
	opts := connSettingsOf(cfg).options(sc.Addr)
	opts.Logger = p.log
	opts.OnState = func(up bool) { p.nodeStateChanged(n, up) }
	if cfg.TLS != nil {
		opts.TLS = p.upTLS.Load
	}
	n.srv = upstream.New(opts)
	n.m.CountConnections(n.connections)
	return n
}

// publish makes r the pool's routing table and updates the ring shares of
// pc's nodes. The caller holds ejectM, or owns the pool alone.
func (p *pool) publish(pc *poolConf, r *routes) {
	if p.warm != nil {
		r.prev = p.warm.prev
	}
	p.routes.Store(r)
	shares := r.ring.Shares()
	for _, n := range pc.nodes {
		n.m.RingShare.Set(0)
	}
	for i, n := range r.nodes {
		n.m.RingShare.Set(shares[i])
	}
}
