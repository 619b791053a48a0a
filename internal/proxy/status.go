package proxy

import (
	"math"
	"time"

	"hashproxy/internal/config"
	"hashproxy/internal/hotkeys"
	"hashproxy/internal/metrics"
)

// StatusPools implements metrics.StatusSource: every pool and its nodes,
// their states, ring shares and the ring's arcs.
func (px *Proxy) StatusPools() []metrics.PoolStatus {
	px.mu.Lock()
	pools := px.pools
	listen := make([]string, len(pools))
	for i, p := range pools {
		if p.ln != nil {
			listen[i] = p.ln.Addr().String()
		}
	}
	px.mu.Unlock()
	out := make([]metrics.PoolStatus, len(pools))
	for i, p := range pools {
		out[i] = p.status(listen[i])
	}
	return out
}

// status describes the pool for the status page.
func (p *pool) status(listen string) metrics.PoolStatus {
	pc := p.conf.Load()
	r := p.routes.Load()
	ps := metrics.PoolStatus{
		Name:              p.name,
		Listen:            listen,
		Distribution:      pc.cfg.Distribution,
		ClientConnections: p.nclients.Load(),
		Nodes:             make([]metrics.NodeStatus, len(pc.nodes)),
	}
	index := make(map[*node]int, len(pc.nodes))
	for i, n := range pc.nodes {
		index[n] = i
		state := metrics.StateUp
		if !n.srv.Up() {
			state = metrics.StateDown
			if pc.cfg.AutoEjectHosts {
				state = metrics.StateEjected
			}
		}
		ps.Nodes[i] = metrics.NodeStatus{Name: n.name, Address: n.cfg.Addr, State: state}
	}
	// ring indexes r.nodes; a node a reload just removed may still be in r
	// for an instant, and is left out.
	for i, share := range r.ring.Shares() {
		if j, ok := index[r.nodes[i]]; ok {
			ps.Nodes[j].RingShare = share
		}
	}
	ps.ReplicationFactor = r.copies
	p.ejectM.Lock()
	if w := p.warm; w != nil {
		left := math.Round(max(time.Until(w.ends).Seconds(), 0)*10) / 10
		ps.Warmup = &metrics.WarmupStatus{
			Ends:             w.ends.UTC(),
			RemainingSeconds: left,
			KeysMovedShare:   math.Round(w.moved*1e4) / 1e4,
		}
		// The nodes the reload removed are still read until the window
		// ends; they own no part of the ring.
		for _, n := range w.removed {
			ps.Nodes = append(ps.Nodes, metrics.NodeStatus{
				Name: n.name, Address: n.cfg.Addr, State: metrics.StateWarmup, WarmupRemainingSeconds: &left,
			})
		}
	}
	p.ejectM.Unlock()
	for _, a := range r.ring.Arcs() {
		if j, ok := index[r.nodes[a.Node]]; ok {
			ps.Arcs = append(ps.Arcs, metrics.Arc{Start: a.Start, End: a.End, Node: j})
		}
	}
	return ps
}

// HotKeys implements metrics.StatusSource: the named pool's hot keys, each
// with the node that owns it now.
func (px *Proxy) HotKeys(name string, n int) (metrics.HotKeys, error) {
	px.mu.Lock()
	var p *pool
	for _, q := range px.pools {
		if q.name == name {
			p = q
		}
	}
	px.mu.Unlock()
	if p == nil {
		return metrics.HotKeys{}, metrics.ErrNoPool
	}
	if p.hot == nil {
		return metrics.HotKeys{}, metrics.ErrHotKeysOff
	}
	top := p.hot.Top(n)
	r := p.routes.Load()
	hk := metrics.HotKeys{
		Pool:          name,
		WindowSeconds: int(top.Window.Seconds() + 0.5),
		Keys:          make([]metrics.HotKey, len(top.Keys)),
	}
	for i, k := range top.Keys {
		key := string(k.Key)
		if px.opts.HotKeys == config.HotKeysHashed {
			key = hotkeys.Hashed(k.Key)
		}
		hk.Keys[i] = metrics.HotKey{Key: key, Server: r.pick(k.Key).name, Count: k.Count, Share: k.Share}
	}
	return hk, nil
}
