// Package proxy serves the memcached text protocol, classic and meta, to
// clients and routes each request over the homes of its key: the ring's
// owner, then with replication_factor the next distinct nodes on the ring,
// then during a warm-up window after a reload the key's homes under the
// previous ring (homes.go). Reads walk the homes until a hit and copy it
// back into the homes that missed; writes go to the replica homes.
//
// A listener per pool (TCP or Unix socket, optionally TLS); one goroutine
// per client connection that reads a pipelined batch of requests and writes
// their replies in request order; multi-key retrievals split per node and
// merged in key order; flush_all broadcast; version, verbosity, stats, quit
// and mn answered locally. Reload applies a new configuration without
// dropping clients, and Status feeds the admin status page.
package proxy

import (
	"context"
	"errors"
	"net"
	"sync"

	"go.uber.org/zap"

	"hashproxy/internal/config"
	"hashproxy/internal/hotkeys"
	"hashproxy/internal/metrics"
	"hashproxy/internal/ring"
)

// Options are what a Proxy needs besides its configuration.
type Options struct {
	// Version is answered to "version" and reported by "stats".
	Version string
	// Logger receives the proxy's logs; nil means none.
	Logger *zap.Logger
	// Metrics receives per-pool and per-node metrics; required.
	Metrics *metrics.Metrics
	// HotKeys is config.HotKeysOn or config.HotKeysHashed to count each
	// pool's hot keys (see HotKeys); "" or config.HotKeysOff does not.
	HotKeys string
}

// Proxy serves every pool of a configuration.
type Proxy struct {
	opts Options
	log  *zap.Logger

	mu      sync.Mutex // guards pools, started, closed and each pool's ln
	pools   []*pool
	started bool
	closed  bool

	// Removed nodes and pools drain in the background (see Reload).
	background sync.WaitGroup
	drained    chan struct{}      // closed once Shutdown has drained the pools
	cancelBg   context.CancelFunc // cuts background drains short
	bgCtx      context.Context
}

// New starts the upstream connections of every pool in cfg; Start opens the
// listeners.
func New(cfg *config.Config, opts Options) (*Proxy, error) {
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	if opts.Metrics == nil {
		return nil, errors.New("proxy: no metrics")
	}
	rings := make([]*ring.Ring, len(cfg.Pools))
	tlsCfgs := make([]poolTLS, len(cfg.Pools))
	for i, pc := range cfg.Pools {
		r, err := PoolRing(pc)
		if err != nil {
			return nil, err
		}
		rings[i] = r
		if tlsCfgs[i], err = loadPoolTLS(pc); err != nil {
			return nil, err
		}
	}
	px := &Proxy{opts: opts, log: opts.Logger, drained: make(chan struct{})}
	px.bgCtx, px.cancelBg = context.WithCancel(context.Background())
	for i, pc := range cfg.Pools {
		px.pools = append(px.pools, px.newPool(pc, rings[i], tlsCfgs[i]))
	}
	return px, nil
}

// newPool starts a pool of px.
func (px *Proxy) newPool(pc config.Pool, full *ring.Ring, t poolTLS) *pool {
	var hot *hotkeys.Tracker
	if px.opts.HotKeys == config.HotKeysOn || px.opts.HotKeys == config.HotKeysHashed {
		hot = hotkeys.New(hotkeys.Options{})
	}
	return newPool(pc, full, t, px.log, px.opts.Metrics, newLocalStats(px.opts.Version), hot)
}

// Start listens on every pool's address and starts accepting clients. On
// error no listener is left open.
func (px *Proxy) Start() error {
	px.mu.Lock()
	defer px.mu.Unlock()
	if px.started || px.closed {
		return errors.New("proxy: already started")
	}
	lns := make([]net.Listener, 0, len(px.pools))
	for _, p := range px.pools {
		ln, err := listen(p.conf.Load().cfg)
		if err != nil {
			closeListeners(lns)
			return err
		}
		lns = append(lns, ln)
	}
	px.started = true
	for i, p := range px.pools {
		pc := p.conf.Load()
		p.log.Info("listening", zap.String("listen", lns[i].Addr().String()),
			zap.Int("servers", len(pc.nodes)), zap.String("distribution", pc.cfg.Distribution), zap.String("hash", pc.cfg.Hash))
		p.logServers()
		p.startServing(lns[i])
	}
	return nil
}

// Addr returns the address the named pool listens on, once started.
func (px *Proxy) Addr(pool string) net.Addr {
	px.mu.Lock()
	defer px.mu.Unlock()
	for _, p := range px.pools {
		if p.name == pool && p.ln != nil {
			return p.ln.Addr()
		}
	}
	return nil
}

// Ready returns nil when every pool has at least one reachable node, else
// the reason it is not ready.
func (px *Proxy) Ready() error {
	px.mu.Lock()
	pools := px.pools
	px.mu.Unlock()
	var errs []error
	for _, p := range pools {
		if err := p.ready(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Shutdown stops accepting clients, lets every client connection finish the
// requests it has sent and receive their replies, then closes them and the
// upstream connections; it also waits for what a reload left draining. When
// ctx ends first, the remaining client connections are closed at once. It
// returns ctx's error in that case.
func (px *Proxy) Shutdown(ctx context.Context) error {
	px.mu.Lock()
	if px.closed {
		px.mu.Unlock()
		return errors.New("proxy: already shut down")
	}
	px.closed = true
	pools := px.pools
	for _, p := range pools {
		if p.ln != nil {
			p.stopAccepting(p.ln)
		}
	}
	px.mu.Unlock()

	errs := make(chan error, len(pools))
	for _, p := range pools {
		go func() { errs <- p.drain(ctx) }()
	}
	var err error
	for range pools {
		if e := <-errs; e != nil {
			err = e
		}
	}
	close(px.drained)
	bg := make(chan struct{})
	go func() {
		px.background.Wait()
		close(bg)
	}()
	select {
	case <-bg:
	case <-ctx.Done():
		err = ctx.Err()
		px.cancelBg()
		<-bg
	}
	px.cancelBg()
	return err
}
