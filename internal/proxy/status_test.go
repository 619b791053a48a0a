package proxy

import (
	"encoding/json"
	"testing"
	"time"

	"hashproxy/internal/metrics"
)

// TestStatusWarmupNode removes a node with a warm-up window open: until the
// window ends, the status lists it after the configured nodes as a warm-up
// node with its name, address and the window's remaining seconds, no ring
// share and no arcs; then it is gone.
func TestStatusWarmupNode(t *testing.T) {
	t.Parallel()
	_, addrs := startNodes(t, 3)
	pc := faultPool(addrs...)
	pc.Timeout = 2 * time.Second
	pc.Warmup = 2 * time.Second
	tp := startPool(t, pc, nil)
	shrunk := pc
	shrunk.Servers = pc.Servers[:2]
	if err := tp.px.Reload(reloadConfig(shrunk)); err != nil {
		t.Fatal(err)
	}
	m := tp.px.opts.Metrics
	p := m.Status(tp.px).Pools[0]
	if len(p.Nodes) != 3 {
		t.Fatalf("%d nodes during the window, want the 2 configured and the removed one: %+v", len(p.Nodes), p.Nodes)
	}
	var share float64
	for i, n := range p.Nodes[:2] {
		if n.Address != addrs[i] || n.State != metrics.StateUp || n.WarmupRemainingSeconds != nil {
			t.Errorf("node %d: %+v, want %s up with no warm-up time", i, n, addrs[i])
		}
		share += n.RingShare
	}
	if share < 0.999 || share > 1.001 {
		t.Errorf("configured nodes' ring shares add up to %v, want 1", share)
	}
	w := p.Nodes[2]
	if w.Name != addrs[2] || w.Address != addrs[2] || w.State != metrics.StateWarmup || w.RingShare != 0 ||
		w.WarmupRemainingSeconds == nil || *w.WarmupRemainingSeconds <= 0 || *w.WarmupRemainingSeconds > 2 ||
		p.Warmup == nil || *w.WarmupRemainingSeconds != p.Warmup.RemainingSeconds {
		t.Errorf("removed node during the window: %+v (window %+v), want %s in state %q with the window's remaining seconds and no ring share",
			w, p.Warmup, addrs[2], metrics.StateWarmup)
	}
	for _, a := range p.Arcs {
		if a.Node == 2 {
			t.Errorf("arc %+v of the warm-up node", a)
		}
	}
	raw, err := json.Marshal(p.Nodes[2])
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if doc["state"] != "warmup" || doc["warmup_remaining_seconds"] == nil {
		t.Errorf("warm-up node as JSON: %s", raw)
	}

	waitFor(t, 10*time.Second, "the window ended", func() bool { return m.Status(tp.px).Pools[0].Warmup == nil })
	p = m.Status(tp.px).Pools[0]
	if len(p.Nodes) != 2 {
		t.Errorf("%d nodes after the window, want the 2 configured: %+v", len(p.Nodes), p.Nodes)
	}
}
