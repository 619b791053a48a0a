// Package proxy serves the memcached text protocol to clients and routes
// each request to the memcached node that owns its key: a listener per
// pool, a reader and a writer goroutine per client connection, multi-key
// retrievals split per node and merged in key order, flush_all broadcast,
// and version, verbosity, stats and quit answered locally.
package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"

	"go.uber.org/zap"

	"hashproxy/internal/config"
	"hashproxy/internal/metrics"
)

// Options are what a Proxy needs besides its configuration.
type Options struct {
	// Version is answered to "version" and reported by "stats".
	Version string
	// Logger receives the proxy's logs; nil means none.
	Logger *zap.Logger
	// Metrics receives per-pool and per-node metrics; required.
	Metrics *metrics.Metrics
}

// Proxy serves every pool of a configuration.
type Proxy struct {
	opts  Options
	log   *zap.Logger
	pools []*pool
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
	px := &Proxy{opts: opts, log: opts.Logger}
	for _, pc := range cfg.Pools {
		p, err := newPool(pc, px.log, opts.Metrics, newLocalStats(opts.Version))
		if err != nil {
			px.closeNodes()
			return nil, err
		}
		px.pools = append(px.pools, p)
	}
	return px, nil
}

// Start listens on every pool's address and starts accepting clients. On
// error no listener is left open.
func (px *Proxy) Start() error {
	for _, p := range px.pools {
		lc := net.ListenConfig{}
		ln, err := lc.Listen(context.Background(), "tcp", p.cfg.Listen)
		if err != nil {
			for _, q := range px.pools {
				if q.ln != nil {
					_ = q.ln.Close()
				}
			}
			return fmt.Errorf("proxy: pool %q: %w", p.cfg.Name, err)
		}
		p.ln = ln
	}
	for _, p := range px.pools {
		p.log.Info("listening", zap.String("listen", p.ln.Addr().String()),
			zap.Int("servers", len(p.nodes)), zap.String("distribution", p.cfg.Distribution), zap.String("hash", p.cfg.Hash))
		p.wg.Add(1)
		go p.serve()
	}
	return nil
}

// Addr returns the address the named pool listens on, once started.
func (px *Proxy) Addr(pool string) net.Addr {
	for _, p := range px.pools {
		if p.cfg.Name == pool && p.ln != nil {
			return p.ln.Addr()
		}
	}
	return nil
}

// Ready returns nil when every pool has at least one reachable node, else
// the reason it is not ready.
func (px *Proxy) Ready() error {
	var errs []error
	for _, p := range px.pools {
		if err := p.ready(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Shutdown stops accepting clients, lets every client connection finish the
// requests it has sent and receive their replies, then closes them and the
// upstream connections. When ctx ends first, the remaining client
// connections are closed at once. It returns ctx's error in that case.
func (px *Proxy) Shutdown(ctx context.Context) error {
	for _, p := range px.pools {
		if p.ln != nil {
			_ = p.ln.Close()
		}
		p.stopReading()
	}
	done := make(chan struct{})
	go func() {
		for _, p := range px.pools {
			p.wg.Wait()
		}
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
		for _, p := range px.pools {
			p.closeClients()
		}
		<-done
	}
	px.closeNodes()
	return err
}

// closeNodes closes every pool's upstream servers.
func (px *Proxy) closeNodes() {
	for _, p := range px.pools {
		p.closeNodes()
	}
}
