package discovery

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"hashproxy/internal/config"
	"hashproxy/internal/metrics"
)

// watcher asks one pool's lookups every interval and hands a changed list
// to its Source once two rounds in a row have found it.
type watcher struct {
	src      *Source
	gen      uint64
	pool     string
	interval time.Duration
	resolve  func(context.Context) ([]config.Server, error)
	log      *zap.Logger
	met      *metrics.Metrics

	current []config.Server // the nodes applied
	pending []config.Server // a different list the last round found, or nil
}

// run asks the lookups every interval until ctx ends.
func (w *watcher) run(ctx context.Context) {
	t := time.NewTicker(w.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !w.round(ctx) {
			return
		}
	}
}

// round asks the lookups once and acts on the answer: a failure keeps the
// current list, the current list again clears a pending change, a pending
// change seen again is applied, and any other list becomes the pending
// one. It returns false when the watcher is stale and should stop.
func (w *watcher) round(ctx context.Context) bool {
	found, err := w.resolve(ctx)
	if ctx.Err() != nil {
		return false // stopped during the lookup: not a failure
	}
	if err != nil {
		w.met.DiscoveryError(w.pool, kindOf(err))
		w.log.Warn("discovery failed, keeping the last good list of nodes",
			zap.String("kind", kindOf(err)), zap.Int("servers", len(w.current)), zap.Error(err))
		w.pending = nil
		return true
	}
	switch {
	case slices.Equal(found, w.current):
		w.pending = nil
	case w.pending == nil || !slices.Equal(found, w.pending):
		w.pending = found
		w.log.Debug("discovery found a different list of nodes; applying it if the next round finds it too",
			zap.Int("servers", len(found)))
	default:
		w.pending = nil
		err := w.src.change(w.gen, w.pool, found)
		if errors.Is(err, errStale) {
			return false
		}
		if err != nil {
			w.log.Error("discovered nodes rejected, the running list stays", zap.Error(err))
			return true
		}
		added, removed := diff(w.current, found)
		w.log.Info("discovered nodes changed",
			zap.Strings("added", added), zap.Strings("removed", removed), zap.Int("servers", len(found)))
		w.met.RecordEvent(metrics.Event{Kind: metrics.EventDiscovery, Pool: w.pool, Message: changeMessage(added, removed, len(found))})
		w.current = found
	}
	return true
}

// changeMessage says what a change of discovered nodes did, for the
// status page's events.
func changeMessage(added, removed []string, servers int) string {
	var parts []string
	if len(added) > 0 {
		parts = append(parts, "added "+strings.Join(added, ", "))
	}
	if len(removed) > 0 {
		parts = append(parts, "removed "+strings.Join(removed, ", "))
	}
	return strings.Join(append(parts, strconv.Itoa(servers)+" servers"), "; ")
}

// diff names the nodes in after but not before, and in before but not
// after.
func diff(before, after []config.Server) (added, removed []string) {
	for _, s := range after {
		if !slices.Contains(before, s) {
			added = append(added, describe(s))
		}
	}
	for _, s := range before {
		if !slices.Contains(after, s) {
			removed = append(removed, describe(s))
		}
	}
	return added, removed
}

// describe names a node for a log line: "name (addr)" or "addr".
func describe(s config.Server) string {
	if s.Name == "" {
		return s.Addr
	}
	return s.Name + " (" + s.Addr + ")"
}
