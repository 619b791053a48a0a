package proxy

import (
	"time"

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
	if retrieval {
		n.m.Hits.Add(float64(op.Values))
		n.m.Misses.Add(float64(nkeys - op.Values))
	}
}
