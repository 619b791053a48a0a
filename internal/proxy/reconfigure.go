package proxy

import (
	"go.uber.org/zap"

	"hashproxy/internal/config"
	"hashproxy/internal/ring"
)

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
