package proxy

import (
	"sync"

	"hashproxy/internal/proto"
	"hashproxy/internal/upstream"
)

// dispatch routes one parsed request and queues its pending reply. It
// returns false when the connection must stop reading (quit).
func (c *clientConn) dispatch(req *proto.Request) bool {
	if hot := c.p.hot; hot != nil {
		for _, k := range req.Keys {
			hot.Sample(k)
		}
	}
	switch req.Cmd {
	case proto.CmdGet, proto.CmdGets, proto.CmdGat, proto.CmdGats:
		c.retrieve(req)
	case proto.CmdFlushAll:
		c.broadcast(req)
	case proto.CmdVersion:
		c.owe(pending{kind: replyLocal, local: c.p.stats.versionReply})
	case proto.CmdVerbosity:
		c.owe(pending{kind: replyLocal, local: proto.ReplyOK, noreply: req.NoReply})
	case proto.CmdStats:
		// Sub-commands ("stats items", "stats slabs", ...) describe one
		// node's memory: the proxy answers them with ERROR, as memcached
		// answers one it does not know; ask the nodes directly.
		if len(req.Args) > 0 {
			c.owe(pending{kind: replyLocal, local: proto.ReplyError})
		} else {
			c.owe(pending{kind: replyStats})
		}
	case proto.CmdQuit:
		c.owe(pending{kind: replyClose})
		return false
	case proto.CmdMn:
		// Replies are written in request order, so MN follows every reply
		// owed before it: the end of a pipeline of quiet meta requests,
		// whichever nodes they went to.
		c.owe(pending{kind: replyLocal, local: proto.ReplyMN})
	case proto.CmdMg:
		// mg walks its key's homes as get does (see metaWalk), but for one
		// that creates the item on a miss: that goes to the first home.
		r := c.p.routes.Load()
		if !r.single() && walksHomes(req) {
			r.homesOf(&c.homes, req.Keys[0])
			if len(c.homes.nodes) > 1 {
				c.startMetaWalk(req, &c.homes)
				break
			}
		}
		c.forward(req, r.pick(req.Keys[0]))
	default:
		r := c.p.routes.Load()
		if req.Cmd.MetaRead() {
			// me (a dump of one node's item) goes to the key's first
			// home, the ring owner.
			c.forward(req, r.pick(req.Keys[0]))
		} else {
			c.writeHomes(req, r)
		}
	}
	return true
}

// forward sends req unchanged (but for noreply) to node n. A meta request
// with the q flag goes as req.AppendUpstream sends it, and the client sees
// only what req.QuietMode leaves of the reply.
func (c *clientConn) forward(req *proto.Request, n *node) {
	op := getOp()
	op.Cmd = req.ReplyCommand()
	op.Req = req.AppendUpstream(op.Req)
	if req.Cmd.Retrieval() {
		op.SetKeys(req.Keys)
	}
	n.srv.Do(op, c.affinity)
	c.owe(pending{kind: replySingle, cmd: req.Cmd, op: op, node: n, noreply: req.NoReply, quiet: req.QuietMode()})
}

// invalidate deletes the key of req, a set or ms refused as too large, on
// every one of its homes, dropping the replies, as memcached drops the old
// value of an item it refused as too large.
func (c *clientConn) invalidate(req *proto.Request) {
	c.p.routes.Load().homesOf(&c.homes, req.Keys[0])
	for _, n := range c.homes.nodes {
		op := getOp()
		op.Req, op.Cmd = req.AppendInvalidate(op.Req)
		n.srv.Do(op, c.affinity)
		c.owe(pending{kind: replySingle, cmd: op.Cmd, op: op, node: n, noreply: true})
	}
}

// retrieve handles get, gets, gat and gats. When keys have several homes
// it walks them (see walk). Otherwise keys on one node go there as they
// are; keys on several nodes are split into one request per node and
// merged back in the client's key order.
func (c *clientConn) retrieve(req *proto.Request) {
	r := c.p.routes.Load()
	if !r.single() {
		c.startWalk(req, r)
		return
	}
	if len(req.Keys) == 1 {
		c.forward(req, r.pick(req.Keys[0]))
		return
	}
	m := getMulti()
	if m.split(r, req) == 1 {
		n := m.nodes[0]
		putMulti(m)
		c.forward(req, n)
		return
	}
	m.send(req, c.affinity)
	c.owe(pending{kind: replyMulti, multi: m})
}

// broadcast sends flush_all to every node of the ring and, during a
// warm-up window, to the nodes of the previous ring too, so that no
// backfill brings back a flushed value.
func (c *clientConn) broadcast(req *proto.Request) {
	r := c.p.routes.Load()
	m := getMulti()
	send := func(n *node) {
		op := getOp()
		op.Cmd = req.Cmd
		op.Req = req.AppendUpstream(op.Req)
		m.ops = append(m.ops, op)
		m.nodes = append(m.nodes, n)
		n.srv.Do(op, c.affinity)
	}
	for _, n := range r.nodes {
		send(n)
	}
	if r.prev != nil {
		for _, n := range r.prev.nodes {
			if !containsNode(r.nodes, n) {
				send(n)
			}
		}
	}
	c.owe(pending{kind: replyBroadcast, multi: m, noreply: req.NoReply})
}

// writeBroadcast writes "OK" when every node answered "OK", else the first
// other answer.
func (c *clientConn) writeBroadcast(m *multiGet, noreply bool) {
	var failure []byte
	for i, op := range m.ops {
		c.await(op)
		m.nodes[i].observe(op.Cmd, op)
		switch {
		case failure != nil:
		case op.Err != nil:
			failure = op.Err.Reply
		case op.Status != proto.StatusOK:
			failure = op.Reply
		}
	}
	if noreply {
		return
	}
	if failure != nil {
		c.reply(failure)
		return
	}
	c.reply(proto.ReplyOK)
}

// maxPooledBuf is the largest buffer an op keeps when returned to the pool;
// larger ones (big values) are left to the garbage collector.
const maxPooledBuf = 64 << 10

var opPool = sync.Pool{New: func() any { return upstream.NewOp() }}

// getOp returns an empty op from the pool.
func getOp() *upstream.Op { return opPool.Get().(*upstream.Op) }

// putOp returns a completed op to the pool.
func putOp(op *upstream.Op) {
	op.Reset()
	if cap(op.Reply) > maxPooledBuf {
		op.Reply = nil
	}
	if cap(op.Req) > maxPooledBuf {
		op.Req = nil
	}
	opPool.Put(op)
}
