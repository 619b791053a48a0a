package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"go.uber.org/zap"

	"hashproxy/internal/config"
	"hashproxy/internal/ring"
)

// removedNodeGrace is how long a node a reload took out keeps taking
// requests before it drains and closes: a request routed by the previous
// routing table an instant before the reload may still be on its way to it.
const removedNodeGrace = time.Second

// removedPoolDrain bounds how long the clients of a pool a reload took out
// have to finish the requests they have sent before they are disconnected.
const removedPoolDrain = 10 * time.Second

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
//     members, weights, hash, distribution) is published at once.
//   - A server taken out stops receiving requests at once; after a short
//     grace it drains what it has in flight, then its connections close.
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

// nodeKey identifies a server across configurations.
type nodeKey struct{ addr, name string }

// reconfigure gives the pool a new configuration and publishes its routes,
// keeping the nodes that stay (see Reload), and opens a warm-up window when
// the placement changed. It returns the nodes taken out, or the window
// that holds them, which the caller retires.
func (p *pool) reconfigure(cfg config.Pool, full *ring.Ring, sum *reloadSummary) retired {
	p.ejectM.Lock()
	defer p.ejectM.Unlock()
	old := p.conf.Load()
	reusable := make(map[nodeKey][]*node)
	if connSettingsOf(old.cfg) == connSettingsOf(cfg) {
		for _, n := range old.nodes {
			k := nodeKey{n.cfg.Addr, n.cfg.Name}
			reusable[k] = append(reusable[k], n)
		}
	}
	nodes := make([]*node, len(cfg.Servers))
	for i, sc := range cfg.Servers {
		k := nodeKey{sc.Addr, sc.Name}
		if same := reusable[k]; len(same) > 0 {
			n := same[0]
			reusable[k] = same[1:]
			// Only the weight can differ. Routes are built under ejectM,
			// which is held here, so the node can be updated in place.
			n.cfg = sc
			nodes[i] = n
			sum.serversKept++
			continue
		}
		nodes[i] = p.newNode(cfg, sc)
		sum.serversAdded = append(sum.serversAdded, p.name+"/"+nodes[i].name)
	}
	pc := newPoolConf(cfg, nodes)
	var removed []*node
	for _, n := range old.nodes {
		if !pc.has(n.srv) {
			removed = append(removed, n)
			sum.serversRemoved = append(sum.serversRemoved, p.name+"/"+n.name)
		}
	}
	p.conf.Store(pc)
	r, err := pc.liveRoutes()
	if err != nil {
		// Only leaving out the nodes that are down can fail here: the ring
		// over every node is built already.
		p.log.Error("building the ring without the servers that are down", zap.Error(err))
		r = newRoutes(cfg, full, nodes)
	}
	w := p.openWindow(old.cfg, cfg, p.routes.Load(), r, removed)
	p.publish(pc, r)
	return retired{nodes: removed, window: w}
}

// retired are the nodes a reload took out of a pool and, when it opened a
// warm-up window, that window: the nodes are then kept until it ends.
type retired struct {
	nodes  []*node
	window *warmWindow
}

// retire takes nodes that a reload removed from pool p out of the metrics,
// then, in the background and after a grace period, drains and closes
// them. When the reload opened a warm-up window, all this waits for the
// window to end: until then the nodes are read as warm-up homes. The
// caller holds px.mu.
func (px *Proxy) retire(p *pool, rt retired) {
	if rt.window == nil {
		if len(rt.nodes) == 0 {
			return
		}
		px.removeSeries(p, rt.nodes)
	}
	px.background.Add(1)
	go func() {
		defer px.background.Done()
		if w := rt.window; w != nil {
			t := time.NewTimer(time.Until(w.ends))
			select {
			case <-t.C:
			case <-w.done:
			case <-px.drained:
			}
			t.Stop()
			p.closeWindow(w)
			px.mu.Lock()
			px.removeSeries(p, rt.nodes)
			px.mu.Unlock()
		}
		t := time.NewTimer(removedNodeGrace)
		defer t.Stop()
		select {
		case <-t.C:
		case <-px.drained: // every client is gone: nothing can use them
		}
		for _, n := range rt.nodes {
			n.srv.Close()
		}
	}()
}

// removeSeries takes nodes a reload removed from pool p out of the
// metrics, but for those whose name a current node has. The caller holds
// px.mu.
func (px *Proxy) removeSeries(p *pool, removed []*node) {
	names := make(map[string]bool)
	for _, n := range p.conf.Load().nodes {
		names[n.name] = true
	}
	for _, n := range removed {
		if !names[n.name] { // a replaced node keeps its series
			px.opts.Metrics.RemoveServer(p.name, n.name)
		}
	}
}

// removePool stops a pool a reload took out: it closes its listener and
// series at once and drains it in the background. The caller holds px.mu.
func (px *Proxy) removePool(p *pool) {
	p.ejectM.Lock()
	p.endWindowEarly("pool removed")
	p.ejectM.Unlock()
	p.stopAccepting(p.ln)
	px.opts.Metrics.RemovePool(p.name)
	px.background.Add(1)
	go func() {
		defer px.background.Done()
		ctx, cancel := context.WithTimeout(px.bgCtx, removedPoolDrain)
		defer cancel()
		if err := p.drain(ctx); err != nil {
			p.log.Warn("removed pool: drain timeout, closed the remaining client connections", zap.Error(err))
		}
	}()
}
