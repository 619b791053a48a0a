package proxy

import (
	"bytes"
	"time"

	"go.uber.org/zap"

	"hashproxy/internal/proto"
	"hashproxy/internal/upstream"
)

// writeHomes sends a write (storage, cas, delete, touch, incr, decr, ms,
// md, ma) to its key's homes: every replica home, and for delete, md and
// touch the warm-up homes too, so that a backfill cannot bring back what was deleted. The
// client gets the first home's reply. A write with a CAS unique (cas, and
// ms, md or ma with C: see proto's FirstHomeOnly) goes to the first home
// only; when that carried it out, its copy without the CAS goes to the
// others (a cas's is a set).
func (c *clientConn) writeHomes(req *proto.Request, r *routes) {
	if r.single() {
		c.forward(req, r.pick(req.Keys[0]))
		return
	}
	r.homesOf(&c.homes, req.Keys[0])
	targets := c.homes.nodes[:c.homes.replicas]
	if req.Cmd == proto.CmdDelete || req.Cmd == proto.CmdTouch || req.Cmd == proto.CmdMd {
		targets = c.homes.nodes
	}
	if len(targets) == 1 {
		c.forward(req, targets[0])
		return
	}
	m := getMulti()
	m.replicas = c.homes.replicas
	m.firstOnly = req.FirstHomeOnly()
	for j, n := range targets {
		op := getOp()
		m.ops = append(m.ops, op)
		m.nodes = append(m.nodes, n)
		if m.firstOnly && j > 0 {
			// Sent by writeCopies once the first home has carried it out.
			op.Cmd = req.CopyCommand()
			op.Req = req.AppendCopy(op.Req)
			continue
		}
		op.Cmd = req.ReplyCommand()
		op.Req = req.AppendUpstream(op.Req)
		n.srv.Do(op, c.affinity)
	}
	c.owe(pending{kind: replyCopies, cmd: req.Cmd, multi: m, noreply: req.NoReply, quiet: req.QuietMode()})
}

// writeCopies writes the first home's reply to a write sent to several
// homes, then waits for the others, counting and logging the failures of
// the replica homes. A delete or touch that the first home answers
// NOT_FOUND gets another home's DELETED or TOUCHED instead: during a
// warm-up window the key may still be at its old home, where reads find
// it; so does an md answered NF, with another home's HD. A quiet meta
// write shows what pr.quiet leaves of the reply.
func (c *clientConn) writeCopies(pr *pending) {
	m := pr.multi
	first := m.ops[0]
	c.await(first)
	sent := len(m.ops)
	if m.firstOnly {
		if first.Err != nil || !proto.Applied(first.Status, first.Reply) {
			sent = 1
		} else {
			for j := 1; j < sent; j++ {
				m.nodes[j].srv.Do(m.ops[j], c.affinity)
			}
		}
	}
	reply, awaited := first, 1
	deleteOrTouch := first.Cmd == proto.CmdDelete || first.Cmd == proto.CmdTouch
	if first.Err == nil && (deleteOrTouch && first.Status == proto.StatusNotFound || first.Cmd == proto.CmdMd && first.Status == proto.StatusNF) {
		for ; awaited < sent; awaited++ {
			c.await(m.ops[awaited])
		}
		for _, op := range m.ops[1:sent] {
			if op.Err == nil && (op.Status == proto.StatusDeleted || op.Status == proto.StatusTouched || op.Cmd == proto.CmdMd && op.Status == proto.StatusHD) {
				reply = op
				break
			}
		}
	}
	if !pr.noreply {
		if reply.Err != nil {
			c.reply(reply.Err.Reply)
		} else {
			c.reply(pr.quiet.Visible(reply.Status, reply.Reply))
		}
	}
	m.nodes[0].observe(pr.cmd, first)
	for j := 1; j < sent; j++ {
		op := m.ops[j]
		if j >= awaited {
			c.await(op)
		}
		n := m.nodes[j]
		cmd := pr.cmd
		if cmd == proto.CmdCas {
			cmd = proto.CmdSet // a cas's copies are sets
		}
		n.observe(cmd, op)
		if j < m.replicas && (op.Err != nil || op.Status.IsError()) {
			n.m.Homes.ReplicaWriteFailures.Add(1)
			n.logCopyFailure(c.p.log, op)
		}
	}
}

// copyLogInterval is the least time between two logs of failed copies on
// one node: a node that is down fails every write.
const copyLogInterval = 10 * time.Second

// logCopyFailure logs a failed write to a replica home, at most once per
// copyLogInterval per node.
func (n *node) logCopyFailure(log *zap.Logger, op *upstream.Op) {
	now := time.Now().UnixNano()
	last := n.lastCopyLog.Load()
	if now-last < int64(copyLogInterval) || !n.lastCopyLog.CompareAndSwap(last, now) {
		return
	}
	reply := op.Reply
	if op.Err != nil {
		reply = op.Err.Reply
	}
	log.Warn("write to a replica home failed; the client got the first home's reply",
		zap.String("server", n.name), zap.Stringer("command", op.Cmd),
		zap.ByteString("reply", bytes.TrimSpace(reply)), zap.Duration("next_log_in", copyLogInterval))
}
