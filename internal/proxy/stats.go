package proxy

import (
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"hashproxy/internal/proto"
)

// localStats is what the proxy itself answers about a pool.
type localStats struct {
	start        time.Time
	version      string
	versionReply []byte
	totalConns   atomic.Uint64
}

func newLocalStats(version string) *localStats {
	return &localStats{
		start:        time.Now(),
		version:      version,
		versionReply: proto.AppendVersion(nil, version),
	}
}

// statsReply answers "stats" with the pool's counters, in memcached's
// format. The writer builds it when its turn comes, so it counts every
// request the client sent before it.
func (p *pool) statsReply() []byte {
	nodes := p.conf.Load().nodes
	var get, set, touch, flush, hits, misses, del, incr, decr float64
	for _, n := range nodes {
		get += counterValue(n.m.ByCommand[commandIndex(proto.CmdGet)]) +
			counterValue(n.m.ByCommand[commandIndex(proto.CmdGets)]) +
			counterValue(n.m.ByCommand[commandIndex(proto.CmdGat)]) +
			counterValue(n.m.ByCommand[commandIndex(proto.CmdGats)])
		for _, c := range []proto.Command{proto.CmdSet, proto.CmdAdd, proto.CmdReplace, proto.CmdAppend, proto.CmdPrepend, proto.CmdCas} {
			set += counterValue(n.m.ByCommand[commandIndex(c)])
		}
		touch += counterValue(n.m.ByCommand[commandIndex(proto.CmdTouch)])
		flush += counterValue(n.m.ByCommand[commandIndex(proto.CmdFlushAll)])
		del += counterValue(n.m.ByCommand[commandIndex(proto.CmdDelete)])
		incr += counterValue(n.m.ByCommand[commandIndex(proto.CmdIncr)])
		decr += counterValue(n.m.ByCommand[commandIndex(proto.CmdDecr)])
		hits += counterValue(n.m.Hits)
		misses += counterValue(n.m.Misses)
	}
	now := time.Now()
	st := p.stats
	b := make([]byte, 0, 1024)
	b = proto.AppendStatInt(b, "pid", int64(os.Getpid()))
	b = proto.AppendStatInt(b, "uptime", int64(now.Sub(st.start).Seconds()))
	b = proto.AppendStatInt(b, "time", now.Unix())
	b = proto.AppendStat(b, "version", st.version)
	b = proto.AppendStatInt(b, "pointer_size", int64(strconv.IntSize))
	b = proto.AppendStatInt(b, "threads", int64(runtime.GOMAXPROCS(0)))
	b = proto.AppendStatInt(b, "curr_connections", p.nclients.Load())
	b = proto.AppendStatInt(b, "total_connections", int64(st.totalConns.Load()))
	b = proto.AppendStatInt(b, "rejected_connections", int64(counterValue(p.m.Rejected)))
	b = proto.AppendStatInt(b, "cmd_get", int64(get))
	b = proto.AppendStatInt(b, "cmd_set", int64(set))
	b = proto.AppendStatInt(b, "cmd_flush", int64(flush))
	b = proto.AppendStatInt(b, "cmd_touch", int64(touch))
	b = proto.AppendStatInt(b, "cmd_delete", int64(del))
	b = proto.AppendStatInt(b, "cmd_incr", int64(incr))
	b = proto.AppendStatInt(b, "cmd_decr", int64(decr))
	b = proto.AppendStatInt(b, "get_hits", int64(hits))
	b = proto.AppendStatInt(b, "get_misses", int64(misses))
	b = proto.AppendStatInt(b, "bytes_read", int64(counterValue(p.m.BytesIn)))
	b = proto.AppendStatInt(b, "bytes_written", int64(counterValue(p.m.BytesOut)))
	b = proto.AppendStatInt(b, "servers", int64(len(nodes)))
	b = proto.AppendStatInt(b, "servers_up", int64(len(upNodes(nodes))))
	return append(b, proto.ReplyEnd...)
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

// counterValue reads a counter's current value.
func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil || m.Counter == nil {
		return 0
	}
	return m.Counter.GetValue()
}
