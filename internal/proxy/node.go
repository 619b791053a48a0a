package proxy

import (
	"bytes"
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
}

// serverName is the name a server goes by in logs and metrics.
func serverName(s config.Server) string {
	if s.Name != "" {
		return s.Name
	}
	return s.Addr
}

// commandIndex maps a forwarded command to its index in metrics.Commands,
// which lists them in proto's order, from CmdGet to CmdFlushAll.
func commandIndex(c proto.Command) int { return int(c - proto.CmdGet) }

// connections returns the number of open connections to the node, for
// hashproxy_upstream_connections at scrape time.
func (n *node) connections() int { return n.srv.Stat().Connections }

// observe records a completed request in the node's metrics. nkeys is the
// number of keys a retrieval asked this node for.
func (n *node) observe(op *upstream.Op, nkeys int) {
	retrieval := op.Cmd.Retrieval()
	if retrieval {
		n.m.ByCommand[commandIndex(op.Cmd)].Add(float64(nkeys))
	} else {
		n.m.ByCommand[commandIndex(op.Cmd)].Inc()
	}
	if op.Err != nil {
		n.m.ByKind[op.Err.Kind].Inc()
		return
	}
	n.m.Duration.Observe(time.Since(op.Start).Seconds())
	switch {
	case retrieval:
		if !bytes.HasSuffix(op.Reply, proto.ReplyEnd) {
			return // an error line: the node looked nothing up
		}
		hits, misses := int64(op.Values), int64(nkeys-op.Values)
		n.m.Hits.Add(float64(hits))
		n.m.Misses.Add(float64(misses))
		if op.Cmd == proto.CmdGat || op.Cmd == proto.CmdGats {
			n.m.Touch.GatHits.Add(hits)
			n.m.Touch.GatMisses.Add(misses)
		}
	case op.Cmd == proto.CmdTouch:
		switch {
		case bytes.Equal(op.Reply, proto.ReplyTouched):
			n.m.Touch.Hits.Add(1)
		case bytes.Equal(op.Reply, proto.ReplyNotFound):
			n.m.Touch.Misses.Add(1)
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
