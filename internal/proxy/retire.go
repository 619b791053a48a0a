package proxy

import (
	"context"
	"time"

	"go.uber.org/zap"
)

// removedNodeGrace is how long a node a reload took out keeps taking
// requests before it drains and closes: a request routed by the previous
// routing table an instant before the reload may still be on its way to it.
const removedNodeGrace = time.Second

// removedPoolDrain bounds how long the clients of a pool a reload took out
// have to finish the requests they have sent before they are disconnected.
const removedPoolDrain = 10 * time.Second

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
