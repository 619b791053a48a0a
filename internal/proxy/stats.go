package proxy

import (
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"

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
// format and with memcached's meanings: each counter memcached also keeps is
// the sum of the nodes' own for the traffic through this pool. Like
// memcached, it counts the keys of gat and gats as touches, not gets. The
// writer builds the reply when its turn comes, so it counts every request
// the client sent before it.
func (p *pool) statsReply() []byte {
	nodes := p.conf.Load().nodes
	var c statCounts
	for _, n := range nodes {
		c.add(n)
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
	b = proto.AppendStatUint(b, "rejected_connections", p.m.Rejected.Load())
	b = proto.AppendStatInt(b, "cmd_get", c.get)
	b = proto.AppendStatInt(b, "cmd_set", c.set)
	b = proto.AppendStatInt(b, "cmd_flush", c.flush)
	b = proto.AppendStatInt(b, "cmd_touch", c.touch)
	b = proto.AppendStatInt(b, "cmd_delete", c.del)
	b = proto.AppendStatInt(b, "cmd_incr", c.incr)
	b = proto.AppendStatInt(b, "cmd_decr", c.decr)
	b = proto.AppendStatInt(b, "get_hits", c.getHits)
	b = proto.AppendStatInt(b, "get_misses", c.getMisses)
	b = proto.AppendStatInt(b, "touch_hits", c.touchHits)
	b = proto.AppendStatInt(b, "touch_misses", c.touchMisses)
	b = proto.AppendStatUint(b, "bytes_read", p.m.BytesIn.Load())
	b = proto.AppendStatUint(b, "bytes_written", p.m.BytesOut.Load())
	b = proto.AppendStatInt(b, "servers", int64(len(nodes)))
	b = proto.AppendStatInt(b, "servers_up", int64(len(upNodes(nodes))))
	return append(b, proto.ReplyEnd...)
}

// statCounts are a pool's request counters, summed over its nodes.
type statCounts struct {
	get, set, touch, flush, del, incr, decr    int64
	getHits, getMisses, touchHits, touchMisses int64
}

// add adds node n's counters. Requests count keys for retrievals; gat and
// gats go to the touch counters, as memcached books them. mg counts as a
// get, ms as a set and md as a delete; ma and me are in no stat.
func (c *statCounts) add(n *node) {
	requests := func(cmds ...proto.Command) int64 {
		var sum uint64
		for _, cmd := range cmds {
			sum += n.m.Requests[commandIndex[cmd]].Load()
		}
		return int64(sum)
	}
	c.get += requests(proto.CmdGet, proto.CmdGets, proto.CmdMg)
	c.set += requests(proto.CmdSet, proto.CmdAdd, proto.CmdReplace, proto.CmdAppend, proto.CmdPrepend, proto.CmdCas, proto.CmdMs)
	c.touch += requests(proto.CmdTouch, proto.CmdGat, proto.CmdGats)
	c.flush += requests(proto.CmdFlushAll)
	c.del += requests(proto.CmdDelete, proto.CmdMd)
	c.incr += requests(proto.CmdIncr)
	c.decr += requests(proto.CmdDecr)
	t := &n.touch
	gatHits, gatMisses := int64(t.gatHits.Load()), int64(t.gatMisses.Load())
	c.getHits += int64(n.m.Hits.Load()) - gatHits
	c.getMisses += int64(n.m.Misses.Load()) - gatMisses
	c.touchHits += gatHits + int64(t.hits.Load())
	c.touchMisses += gatMisses + int64(t.misses.Load())
}
