package proxy

import (
	"slices"
	"strconv"
	"time"

	"go.uber.org/zap"

	"hashproxy/internal/config"
)

// warmWindow is a pool's warm-up window: for warmup after a reload that
// changed the ring, a key's homes under the previous ring follow its new
// ones (see homes), so a key that moved is still read, and copied into its
// new home, from where it was. The nodes the reload removed stay open,
// read-only (plus delete and touch), until the window ends.
type warmWindow struct {
	prev    *routes // the routes in force just before the reload, without their own prev
	ends    time.Time
	removed []*node       // nodes the reload took out, closed when the window ends
	moved   float64       // the share of keys whose homes changed
	done    chan struct{} // closed when the window ends early: superseded, turned off, or its pool removed
}

// placementChanged reports whether b places keys differently from a: other
// servers (address, name or weight, or their order) or other placement
// options.
func placementChanged(a, b config.Pool) bool {
	return a.Hash != b.Hash || a.Distribution != b.Distribution || a.HashTag != b.HashTag ||
		a.Replicas != b.Replicas || a.ServerOrder != b.ServerOrder || a.ReplicationFactor != b.ReplicationFactor ||
		!slices.EqualFunc(a.Servers, b.Servers, func(x, y config.Server) bool {
			return x.Addr == y.Addr && x.Name == y.Name && x.Weight == y.Weight
		})
}

// movedSampleKeys is how many keys the share of keys whose homes changed
// is estimated from.
const movedSampleKeys = 10000

// movedShare estimates the share of keys whose replica homes differ
// between prev and next, from a sample of keys.
func movedShare(prev, next *routes) float64 {
	var a, b homes
	key := make([]byte, 0, 32)
	moved := 0
	for i := range movedSampleKeys {
		key = strconv.AppendInt(append(key[:0], "key:"...), int64(i), 10)
		prev.homesOf(&a, key)
		next.homesOf(&b, key)
		if !slices.Equal(a.nodes, b.nodes) {
			moved++
		}
	}
	return float64(moved) / movedSampleKeys
}

// openWindow starts a warm-up window after a reload to cfg that published
// next in place of prev and removed the nodes removed, ending the window
// already open, if any. It returns the new window, or nil when cfg's
// warmup is 0 or its placement is the same as before; the nodes removed
// are then the caller's to retire. The caller holds ejectM.
func (p *pool) openWindow(old, cfg config.Pool, prev, next *routes, removed []*node) *warmWindow {
	if cfg.Warmup <= 0 {
		p.endWindowEarly("warmup turned off")
		return nil
	}
	if !placementChanged(old, cfg) {
		return nil
	}
	p.endWindowEarly("superseded by a new ring change")
	before := *prev
	before.prev = nil
	w := &warmWindow{
		prev:    &before,
		ends:    time.Now().Add(cfg.Warmup),
		removed: removed,
		moved:   movedShare(&before, next),
		done:    make(chan struct{}),
	}
	p.warm = w
	p.m.SetWarmupEnd(w.ends)
	names := make([]string, len(removed))
	for i, n := range removed {
		names[i] = n.name
	}
	p.log.Info("warm-up window opened: keys are also read from their homes under the previous ring",
		zap.Duration("warmup", cfg.Warmup),
		zap.Float64("keys_moved_share", w.moved),
		zap.Strings("servers_kept_read_only", names))
	return w
}

// endWindowEarly ends the open warm-up window, if any, before its time;
// its goroutine then closes it and retires its nodes. The caller holds
// ejectM.
func (p *pool) endWindowEarly(why string) {
	if p.warm == nil {
		return
	}
	p.log.Info("warm-up window ends early", zap.String("reason", why))
	close(p.warm.done)
	p.warm = nil
	p.m.SetWarmupEnd(time.Time{})
	cur := *p.routes.Load()
	cur.prev = nil
	p.routes.Store(&cur)
}

// closeWindow ends w when its time is up, unless it was ended already:
// from then on keys are read from their homes under the current ring
// only.
func (p *pool) closeWindow(w *warmWindow) {
	p.ejectM.Lock()
	defer p.ejectM.Unlock()
	if p.warm != w {
		return
	}
	p.warm = nil
	p.m.SetWarmupEnd(time.Time{})
	cur := *p.routes.Load()
	cur.prev = nil
	p.routes.Store(&cur)
	p.log.Info("warm-up window closed: keys are read from their homes under the current ring only",
		zap.Float64("keys_moved_share", w.moved), zap.Int("servers_closed", len(w.removed)))
}
