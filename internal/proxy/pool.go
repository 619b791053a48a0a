package proxy

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"hashproxy/internal/config"
	"hashproxy/internal/metrics"
	"hashproxy/internal/proto"
	"hashproxy/internal/ring"
	"hashproxy/internal/sockio"
	"hashproxy/internal/upstream"
)

// replyTooManyConns is memcached's answer when it is at its connection limit.
var replyTooManyConns = []byte("ERROR Too many open connections\r\n")

// pool is one listener and the memcached nodes behind it.
type pool struct {
	name  string
	log   *zap.Logger
	m     *metrics.Pool
	met   *metrics.Metrics
	stats *localStats

	// conf is the pool's settings and nodes, replaced as a whole by a
	// reload; routes is the routing table requests read, lock-free.
	conf   atomic.Pointer[poolConf]
	routes atomic.Pointer[routes]
	ejectM sync.Mutex // serialises conf and route changes: reloads and node state changes

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

// liveRoutes builds the routing table of pc: over every node, or with
// auto_eject_hosts over the nodes that are up (every node when none is, so
// requests fail fast rather than nowhere).
func (pc *poolConf) liveRoutes() (*routes, error) {
	nodes := pc.nodes
	if pc.cfg.AutoEjectHosts {
		if live := upNodes(nodes); len(live) > 0 {
			nodes = live
		}
	}
	return buildRoutes(pc.cfg, nodes)
}

// newPool starts the pool's upstream servers and routes over full, the
// ring of cfg's servers (see poolRing); Start or a reload starts accepting.
func newPool(cfg config.Pool, full *ring.Ring, log *zap.Logger, met *metrics.Metrics, st *localStats) *pool {
	p := &pool{
		name:    cfg.Name,
		log:     log.With(zap.String("pool", cfg.Name)),
		m:       met.Pool(cfg.Name),
		met:     met,
		stats:   st,
		clients: make(map[*clientConn]struct{}),
	}
	nodes := make([]*node, len(cfg.Servers))
	for i, sc := range cfg.Servers {
		nodes[i] = p.newNode(cfg, sc)
	}
	pc := newPoolConf(cfg, nodes)
	p.conf.Store(pc)
	p.publish(pc, &routes{ring: full, nodes: nodes})
	return p
}

// poolRing builds the ring of cfg's servers, in config order: it checks
// that a pool can be built before anything is started.
func poolRing(cfg config.Pool) (*ring.Ring, error) {
	placeholders := make([]*node, len(cfg.Servers))
	for i, sc := range cfg.Servers {
		placeholders[i] = &node{cfg: sc}
	}
	r, err := buildRoutes(cfg, placeholders)
	if err != nil {
		return nil, err
	}
	return r.ring, nil
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
	n.srv = upstream.New(opts)
	n.m.CountConnections(n.connections)
	return n
}

// connSettings are the pool settings a node's upstream connections are
// made with. A reload keeps a node's connections only when they are
// unchanged.
type connSettings struct {
	conns, maxItemSize, failureLimit int
	timeout, probeInterval           time.Duration
}

func connSettingsOf(cfg config.Pool) connSettings {
	return connSettings{
		conns:         cfg.ServerConnections,
		maxItemSize:   cfg.MaxItemSize,
		failureLimit:  cfg.ServerFailureLimit,
		timeout:       cfg.Timeout,
		probeInterval: cfg.ServerRetryTimeout,
	}
}

// options are the upstream options for the server at addr.
func (cs connSettings) options(addr string) upstream.Options {
	return upstream.Options{
		Addr:          addr,
		Conns:         cs.conns,
		Timeout:       cs.timeout,
		MaxItemSize:   cs.maxItemSize,
		FailureLimit:  cs.failureLimit,
		ProbeInterval: cs.probeInterval,
	}
}

// publish makes r the pool's routing table and updates the ring shares of
// pc's nodes. The caller holds ejectM, or owns the pool alone.
func (p *pool) publish(pc *poolConf, r *routes) {
	p.routes.Store(r)
	shares := r.ring.Shares()
	for _, n := range pc.nodes {
		n.m.RingShare.Set(0)
	}
	for i, n := range r.nodes {
		n.m.RingShare.Set(shares[i])
	}
}

// nodeStateChanged reacts to a node going down or coming back: with
// auto_eject_hosts the ring is rebuilt from the nodes that are up. A node a
// reload removed is ignored.
func (p *pool) nodeStateChanged(n *node, up bool) {
	p.ejectM.Lock()
	defer p.ejectM.Unlock()
	pc := p.conf.Load()
	if !pc.has(n.srv) {
		return
	}
	if up {
		n.m.Up.Set(1)
	} else {
		n.m.Up.Set(0)
	}
	if !pc.cfg.AutoEjectHosts {
		return
	}
	r, err := pc.liveRoutes()
	if err != nil {
		p.log.Error("rebuilding ring after a node state change", zap.Error(err))
		return
	}
	p.publish(pc, r)
	p.log.Info("ring rebuilt", zap.String("server", n.name), zap.Bool("up", up), zap.Int("live_servers", len(r.nodes)))
}

// serve accepts clients on ln until it is closed.
func (p *pool) serve(ln net.Listener) {
	defer p.wg.Done()
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: wait, then retry.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			p.log.Warn("accept failed", zap.Error(err), zap.Duration("retry_in", backoff))
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		p.accept(nc)
	}
}

// startServing makes ln the pool's listener and starts accepting on it. The
// caller holds the Proxy's mu.
func (p *pool) startServing(ln net.Listener) {
	p.ln = ln
	p.wg.Add(1)
	go p.serve(ln)
}

// stopAccepting closes ln, one of the pool's listeners, after taking the
// connections waiting in its backlog: their clients have connected and may
// have sent requests, which are then answered as on any connection, where
// closing would reset them.
func (p *pool) stopAccepting(ln net.Listener) {
	for _, nc := range sockio.TakeBacklog(ln) {
		p.accept(nc)
	}
	_ = ln.Close()
}

// accept starts serving one client, or turns it away at the connection
// limit.
func (p *pool) accept(nc net.Conn) {
	if limit := p.conf.Load().cfg.ClientConnections; limit > 0 && p.nclients.Load() >= int64(limit) {
		p.m.Rejected.Inc()
		_ = nc.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = nc.Write(replyTooManyConns)
		_ = nc.Close()
		return
	}
	p.m.Accepted.Inc()
	p.m.ClientConnections.Inc()
	p.nclients.Add(1)
	p.stats.totalConns.Add(1)
	c := newClientConn(p, nc)
	p.mu.Lock()
	p.clients[c] = struct{}{}
	if p.draining {
		// Accepted just as the pool began shutting down: it reads nothing
		// and closes.
		c.stopReading()
	}
	p.mu.Unlock()
	p.wg.Add(1)
	go c.serve()
}

// forget is called by a client connection when it has ended.
func (p *pool) forget(c *clientConn) {
	p.mu.Lock()
	delete(p.clients, c)
	p.mu.Unlock()
	p.nclients.Add(-1)
	p.m.ClientConnections.Dec()
}

// stopReading makes every client connection stop reading requests; each
// then finishes the requests it has read, writes their replies and closes.
func (p *pool) stopReading() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.draining = true
	for c := range p.clients {
		c.stopReading()
	}
}

// closeClients closes every client connection at once.
func (p *pool) closeClients() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.clients {
		_ = c.nc.Close()
	}
}

// drain ends the pool once its listener is closed: it lets every client
// connection finish the requests it has sent and receive their replies,
// then closes the upstream servers. When ctx ends first, the remaining
// client connections are closed at once and ctx's error is returned.
func (p *pool) drain(ctx context.Context) error {
	p.stopReading()
	done := make(chan struct{})
	go func() {
		p.wg.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
		p.closeClients()
		<-done
	}
	p.closeNodes()
	return err
}

// closeNodes closes every upstream server, waiting for their goroutines.
func (p *pool) closeNodes() {
	for _, n := range p.conf.Load().nodes {
		n.srv.Close()
	}
}

// ready returns an error when no node of the pool is reachable.
func (p *pool) ready() error {
	for _, n := range p.conf.Load().nodes {
		if st := n.srv.Stat(); st.Up && st.Connections > 0 {
			return nil
		}
	}
	return errors.New("pool " + p.name + ": no memcached node is reachable")
}
