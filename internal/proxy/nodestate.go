package proxy

import (
	"errors"

	"go.uber.org/zap"

	"hashproxy/internal/metrics"
)

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
	ev := metrics.Event{Kind: metrics.EventNodeDown, Pool: p.name, Server: n.name}
	if up {
		n.m.Up.Set(1)
		ev.Kind = metrics.EventNodeUp
	} else {
		n.m.Up.Set(0)
	}
	if pc.cfg.AutoEjectHosts {
		ev.Message = "ejected from the ring"
		if up {
			ev.Message = "back in the ring"
		}
	}
	p.met.RecordEvent(ev)
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

// ready returns an error when no node of the pool is reachable.
func (p *pool) ready() error {
	for _, n := range p.conf.Load().nodes {
		if st := n.srv.Stat(); st.Up && st.Connections > 0 {
			return nil
		}
	}
	return errors.New("pool " + p.name + ": no memcached node is reachable")
}

// upNodes returns the nodes that are not marked down.
func upNodes(nodes []*node) []*node {
	var up []*node
	for _, n := range nodes {
		if n.srv.Up() {
			up = append(up, n)
		}
	}
	return up
}
