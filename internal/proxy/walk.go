package proxy

import (
	"sync"

	"hashproxy/internal/metrics"
	"hashproxy/internal/proto"
	"hashproxy/internal/upstream"
)

// walk is a one-key read (get, gets, gat, gats) of a key with several
// homes: it asks the first home, and on a miss or an error the next, until
// one has the key. Reads are never sent to several homes at once, so the
// load on the fleet does not multiply. Everything it holds is reused
// through a pool.
type walk struct {
	req      proto.Request // the client's request, its key copied into key
	key      []byte
	nodes    []*node // the key's homes, in order
	replicas int     // nodes[:replicas] are replica homes, the rest warm-up homes
	ops      []*upstream.Op
}

var walkPool = sync.Pool{New: func() any { return new(walk) }}

// startWalk reads req's one key from the first of its homes h, and owes
// the reply, which writeWalk completes.
func (c *clientConn) startWalk(req *proto.Request, h *homes) {
	w := walkPool.Get().(*walk)
	w.key = append(w.key[:0], req.Keys[0]...)
	w.req = proto.Request{Cmd: req.Cmd, Exptime: req.Exptime, Keys: append(w.req.Keys[:0], w.key)}
	w.nodes = append(w.nodes[:0], h.nodes...)
	w.replicas = h.replicas
	w.ops = append(w.ops[:0], w.send(0, c.affinity))
	c.owe(pending{kind: replyWalk, walk: w})
}

// putWalk releases w and its ops.
func putWalk(w *walk) {
	for _, op := range w.ops {
		putOp(op)
	}
	clear(w.nodes)
	w.nodes = w.nodes[:0]
	clear(w.ops)
	w.ops = w.ops[:0]
	walkPool.Put(w)
}

// send asks home i for the key.
func (w *walk) send(i int, affinity uint32) *upstream.Op {
	op := getOp()
	op.Cmd = w.req.Cmd
	op.Req = w.req.AppendUpstream(op.Req)
	op.SetKeys(w.req.Keys)
	w.nodes[i].srv.Do(op, affinity)
	return op
}

// writeWalk waits for the first home's reply and, while the key is not
// found, asks the next home; it writes the first hit. When no home has
// the key, the client gets a miss if any home answered, else the first
// home's error.
func (c *clientConn) writeWalk(w *walk) {
	for i, n := range w.nodes {
		if i > 0 {
			w.ops = append(w.ops, w.send(i, c.affinity))
		}
		op := w.ops[i]
		c.await(op)
		n.observe(op)
		if op.Err == nil && len(op.Values) > 0 {
			if i > 0 {
				reason := metrics.FallbackReplica
				if i >= w.replicas {
					reason = metrics.FallbackWarmup
				}
				n.m.Homes.FallbackHits[reason].Add(1)
			}
			c.reply(op.Reply)
			return
		}
	}
	for _, op := range w.ops {
		if op.Err == nil && op.Status == proto.StatusEnd {
			c.reply(proto.ReplyEnd)
			return
		}
	}
	if op := w.ops[0]; op.Err != nil {
		c.reply(op.Err.Reply)
	} else {
		c.reply(op.Reply)
	}
}
