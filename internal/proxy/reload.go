package proxy

import (
	"errors"
	"fmt"
	"net"

	"go.uber.org/zap"

	"hashproxy/internal/config"
	"hashproxy/internal/ring"
)

// Reload applies a new configuration without closing client connections or
// failing requests in flight. Everything that can fail is checked first (the
// configuration, every pool's ring, every new listener), so a rejected
// configuration changes nothing. Then, pool by pool (matched by name):
//
//   - A server with the same address and name, while the pool's connection
//     settings (server_connections, timeout, max_item_size,
//     server_failure_limit, health_check_interval, and server_retry_timeout
//     with auto_eject_hosts) are unchanged, keeps its
//     connections; a new server gets new ones. The new routing table (new
//     members, weights, hash, distribution, replication_factor) is
//     published at once.
//   - When that changes where keys live and the pool's warmup is not 0, a
//     warm-up window opens: for that long, each key's homes under the
//     previous ring are read after its new homes (and delete and touch go
//     to them too), so moved keys are found and copied to their new homes.
//   - A server taken out stops being a key's first home at once. During a
//     warm-up window it stays a warm-up home (reads, delete and touch)
//     until the window ends; otherwise, after a short grace, it drains what
//     it has in flight. Then its connections close.
//   - Client limits (max_inflight, max_line_length, max_item_size,
//     max_keys, idle_timeout) apply to connections accepted from then on;
//     client_connections applies at once.
//   - A changed listen address opens the new listener and closes the old
//     one; connected clients stay connected.
//   - A new pool starts; a removed pool stops accepting, and its clients
//     finish the requests they have sent (for up to 10s), then are
//     disconnected.
//
// The admin listener and logging are not the proxy's: the caller handles
// them. Reload counts itself in hashproxy_config_reloads_total and logs a
// summary when it succeeds; on failure it returns the reason, to be logged
// by the caller.
func (px *Proxy) Reload(cfg *config.Config) error {
	sum, err := px.reload(cfg)
	px.opts.Metrics.ConfigReload(err)
	if err != nil {
		return err
	}
	px.log.Info("configuration reloaded",
		zap.Strings("pools_added", sum.poolsAdded),
		zap.Strings("pools_removed", sum.poolsRemoved),
		zap.Strings("listeners_moved", sum.listenersMoved),
		zap.Strings("servers_added", sum.serversAdded),
		zap.Strings("servers_removed", sum.serversRemoved),
		zap.Int("servers_kept", sum.serversKept))
	return nil
}

// reloadSummary is what a reload changed; servers are named "pool/server".
type reloadSummary struct {
	poolsAdded, poolsRemoved     []string
	listenersMoved               []string
	serversAdded, serversRemoved []string
	serversKept                  int
}

// poolPlan is one pool of a new configuration, checked and ready to apply.
type poolPlan struct {
	cfg  config.Pool
	full *ring.Ring   // over every server of cfg, in order
	tls  poolTLS      // read afresh from the files
	old  *pool        // the running pool of that name, or nil
	ln   net.Listener // a new listener, or nil to keep the old one
}

// reload checks cfg, then applies it.
func (px *Proxy) reload(cfg *config.Config) (reloadSummary, error) {
	var sum reloadSummary
	if err := cfg.Validate(); err != nil {
		return sum, err
	}
	px.mu.Lock()
	defer px.mu.Unlock()
	if !px.started || px.closed {
		return sum, errors.New("proxy: reload: the proxy is not running")
	}
	plans, err := px.plan(cfg)
	if err != nil {
		return sum, err
	}
	// From here on nothing fails.
	pools := make([]*pool, 0, len(plans))
	stays := make(map[*pool]bool, len(plans))
	for _, pl := range plans {
		p := pl.old
		if p == nil {
			p = px.newPool(pl.cfg, pl.full, pl.tls)
			sum.poolsAdded = append(sum.poolsAdded, p.name)
			for _, n := range p.conf.Load().nodes {
				sum.serversAdded = append(sum.serversAdded, p.name+"/"+n.name)
			}
		} else {
			stays[p] = true
			p.setTLS(pl.tls)
			px.retire(p, p.reconfigure(pl.cfg, pl.full, &sum))
		}
		if pl.ln != nil {
			old := p.ln
			p.startServing(pl.ln)
			if old != nil {
				p.stopAccepting(old)
				sum.listenersMoved = append(sum.listenersMoved, p.name)
			}
			p.log.Info("listening", zap.String("listen", pl.ln.Addr().String()))
		}
		pools = append(pools, p)
	}
	for _, p := range px.pools {
		if !stays[p] {
			px.removePool(p)
			sum.poolsRemoved = append(sum.poolsRemoved, p.name)
		}
	}
	px.pools = pools
	return sum, nil
}

// plan builds the ring of every pool of cfg and opens the listeners that
// are new. On error it leaves nothing open. The caller holds px.mu.
func (px *Proxy) plan(cfg *config.Config) ([]poolPlan, error) {
	running := make(map[string]*pool, len(px.pools))
	for _, p := range px.pools {
		running[p.name] = p
	}
	plans := make([]poolPlan, len(cfg.Pools))
	for i, pc := range cfg.Pools {
		full, err := PoolRing(pc)
		if err != nil {
			return nil, err
		}
		t, err := loadPoolTLS(pc)
		if err != nil {
			return nil, err
		}
		plans[i] = poolPlan{cfg: pc, full: full, tls: t, old: running[pc.Name]}
	}
	for i := range plans {
		pl := &plans[i]
		if pl.old != nil && pl.old.conf.Load().cfg.Listen == pl.cfg.Listen {
			continue
		}
		if pl.old != nil && sameSocket(pl.old.conf.Load().cfg.Listen, pl.cfg.Listen) {
			// Only the mode changed: the listener stays.
			la, _ := config.ParseListen(pl.cfg.Listen)
			if err := chmodSocket(la); err != nil {
				closePlanned(plans[:i])
				return nil, fmt.Errorf("proxy: pool %q: %w", pl.cfg.Name, err)
			}
			continue
		}
		ln, err := listen(pl.cfg)
		if err != nil {
			closePlanned(plans[:i])
			return nil, err
		}
		pl.ln = ln
	}
	return plans, nil
}

// closePlanned closes the listeners plan opened for plans.
func closePlanned(plans []poolPlan) {
	for _, q := range plans {
		if q.ln != nil {
			_ = q.ln.Close()
		}
	}
}
