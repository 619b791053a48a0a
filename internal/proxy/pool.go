package proxy

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"hashproxy/internal/config"
	"hashproxy/internal/metrics"
	"hashproxy/internal/proto"
	"hashproxy/internal/upstream"
)

// replyTooManyConns is memcached's answer when it is at its connection limit.
var replyTooManyConns = []byte("ERROR Too many open connections\r\n")

// pool is one listener and the memcached nodes behind it.
type pool struct {
	cfg    config.Pool
	limits proto.Limits
	log    *zap.Logger
	m      *metrics.Pool
	met    *metrics.Metrics
	stats  *localStats

	nodes  []*node // every configured node, in config order
	routes atomic.Pointer[routes]
	ejectM sync.Mutex // serialises route rebuilds on node state changes

	ln       net.Listener
	mu       sync.Mutex // guards clients and draining
	clients  map[*clientConn]struct{}
	draining bool // set by stopReading: new clients are stopped at once
	nclients atomic.Int64
	wg       sync.WaitGroup // accept loop and client goroutines
}

// newPool starts the pool's upstream servers and builds its routes; Serve
// starts accepting.
func newPool(cfg config.Pool, log *zap.Logger, met *metrics.Metrics, st *localStats) (*pool, error) {
	p := &pool{
		cfg: cfg,
		limits: proto.Limits{
			MaxLineLength: cfg.MaxLineLength,
			MaxItemSize:   cfg.MaxItemSize,
			MaxKeys:       cfg.MaxKeys,
		},
		log:     log.With(zap.String("pool", cfg.Name)),
		m:       met.Pool(cfg.Name),
		met:     met,
		stats:   st,
		clients: make(map[*clientConn]struct{}),
	}
	for _, sc := range cfg.Servers {
		p.nodes = append(p.nodes, p.newNode(sc))
	}
	r, err := buildRoutes(cfg, p.nodes)
	if err != nil {
		p.closeNodes()
		return nil, err
	}
	p.publish(r)
	return p, nil
}

// newNode starts the upstream server for one configured server.
func (p *pool) newNode(sc config.Server) *node {
	n := &node{name: serverName(sc), cfg: sc}
	n.m = p.met.Server(p.cfg.Name, n.name)
	n.m.Up.Set(1)
	n.srv = upstream.New(upstream.Options{
		Addr:          sc.Addr,
		Conns:         p.cfg.ServerConnections,
		Timeout:       p.cfg.Timeout,
		MaxItemSize:   p.cfg.MaxItemSize,
		FailureLimit:  p.cfg.ServerFailureLimit,
		ProbeInterval: p.cfg.ServerRetryTimeout,
		Logger:        p.log,
		OnState:       func(up bool) { p.nodeStateChanged(n, up) },
	})
	return n
}

// publish makes r the pool's routing table and updates the ring shares.
func (p *pool) publish(r *routes) {
	p.routes.Store(r)
	shares := r.ring.Shares()
	for _, n := range p.nodes {
		n.m.RingShare.Set(0)
	}
	for i, n := range r.nodes {
		n.m.RingShare.Set(shares[i])
	}
}

// nodeStateChanged reacts to a node going down or coming back: with
// auto_eject_hosts the ring is rebuilt from the nodes that are up (keeping
// every node when none is, so requests fail fast rather than nowhere).
func (p *pool) nodeStateChanged(n *node, up bool) {
	if up {
		n.m.Up.Set(1)
	} else {
		n.m.Up.Set(0)
	}
	if !p.cfg.AutoEjectHosts {
		return
	}
	p.ejectM.Lock()
	defer p.ejectM.Unlock()
	live := p.upNodes()
	if len(live) == 0 {
		live = p.nodes
	}
	r, err := buildRoutes(p.cfg, live)
	if err != nil {
		p.log.Error("rebuilding ring after a node state change", zap.Error(err))
		return
	}
	p.publish(r)
	p.log.Info("ring rebuilt", zap.String("server", n.name), zap.Bool("up", up), zap.Int("live_servers", len(live)))
}

// serve accepts clients until the listener is closed.
func (p *pool) serve() {
	defer p.wg.Done()
	var backoff time.Duration
	for {
		nc, err := p.ln.Accept()
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

// accept starts serving one client, or turns it away at the connection
// limit.
func (p *pool) accept(nc net.Conn) {
	if limit := p.cfg.ClientConnections; limit > 0 && p.nclients.Load() >= int64(limit) {
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
	p.wg.Add(2)
	go c.readRequests()
	go c.writeReplies()
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

// closeNodes closes every upstream server, waiting for their goroutines.
func (p *pool) closeNodes() {
	for _, n := range p.nodes {
		n.srv.Close()
	}
}

// ready returns an error when no node of the pool is reachable.
func (p *pool) ready() error {
	for _, n := range p.nodes {
		if st := n.srv.Stat(); st.Up && st.Connections > 0 {
			return nil
		}
	}
	return errors.New("pool " + p.cfg.Name + ": no memcached node is reachable")
}
