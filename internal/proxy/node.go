package proxy

import (
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"hashproxy/internal/config"
	"hashproxy/internal/metrics"
	"hashproxy/internal/proto"
	"hashproxy/internal/upstream"
)

// node is one memcached server of a pool: its connections and its counters.
type node struct {
	// name is the server's name in logs and metrics: its alias, else
	// host:port.
	name string
	cfg  config.Server
	srv  *upstream.Server
	m    *metrics.Server
	// touch holds what only the stats command reports.
	touch touchCounts
	// lastCopyLog is when a failed write to the node as a replica home was
	// last logged, in Unix nanoseconds.
	lastCopyLog atomic.Int64
}

// touchCounts are counts memcached keeps apart from its gets, for a stats
// reply that adds up like the nodes' own: memcached books the keys of gat
// and gats under touch_hits and touch_misses, not get_hits and get_misses.
// Prometheus has none of them: its hits and misses cover every retrieval.
type touchCounts struct {
	// gatHits and gatMisses count keys of gat and gats the node found and
	// did not find; the node's Hits and Misses include them.
	gatHits, gatMisses atomic.Uint64
	// hits and misses count touch commands answered TOUCHED and NOT_FOUND.
	hits, misses atomic.Uint64
}

// serverName is the name a server goes by in logs and metrics.
func serverName(s config.Server) string {
	if s.Name != "" {
		return s.Name
	}
	return s.Addr
}

// connections returns the number of open connections to the node, for
// hashproxy_upstream_connections at scrape time.
func (n *node) connections() int { return n.srv.Stat().Connections }

// observe records a completed request of command cmd in the node's
// metrics: a retrieval counts once per key asked, and its hits and misses
// from its parsed reply. cmd is the client's command, which is op.Cmd but
// for a quiet ma, read as an mn's reply. An mg counts as a get: a hit when
// the node found the item (VA or HD), a miss when not (EN), even when the q
// flag hid the miss from the client.
func (n *node) observe(cmd proto.Command, op *upstream.Op) {
	retrieval := cmd.Retrieval()
	if retrieval {
		n.m.Requests[commandIndex[cmd]].Add(uint64(len(op.Keys)))
	} else {
		n.m.Requests[commandIndex[cmd]].Add(1)
	}
	if op.Err != nil {
		n.m.Errors[op.Err.Kind].Add(1)
		return
	}
	n.m.Duration(commandIndex[cmd]).Observe(time.Since(op.Start).Seconds())
	switch {
	case retrieval:
		if op.Status != proto.StatusEnd {
			return // an error line: the node looked nothing up
		}
		hits, misses := uint64(len(op.Values)), uint64(len(op.Keys)-len(op.Values))
		n.m.Hits.Add(hits)
		n.m.Misses.Add(misses)
		if cmd == proto.CmdGat || cmd == proto.CmdGats {
			n.touch.gatHits.Add(hits)
			n.touch.gatMisses.Add(misses)
		}
	case cmd == proto.CmdMg:
		switch op.Status {
		case proto.StatusVA, proto.StatusHD:
			n.m.Hits.Add(1)
		case proto.StatusEN:
			n.m.Misses.Add(1)
		}
	case cmd == proto.CmdTouch:
		switch op.Status {
		case proto.StatusTouched:
			n.touch.hits.Add(1)
		case proto.StatusNotFound:
			n.touch.misses.Add(1)
		}
	}
}

// logServers logs, at start-up, each server of the pool with its placement.
func (p *pool) logServers() {
	r := p.routes.Load()
	shares := r.ring.Shares()
	for i, n := range r.nodes {
		p.log.Info("server",
			zap.String("server", n.name),
			zap.String("addr", n.cfg.Addr),
			zap.Int("weight", n.cfg.Weight),
			zap.Float64("ring_share", shares[i]))
	}
}
