package proxy

import (
	"bufio"
	"sync"

	"hashproxy/internal/upstream"
)

// writerPool holds the buffered writers of connections that are writing
// replies; an idle connection holds none.
var writerPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, clientWriteBufSize) }}

// writeOwed writes every owed reply, in order, and flushes.
func (c *clientConn) writeOwed() {
	if len(c.owed) == 0 {
		return
	}
	c.bw = writerPool.Get().(*bufio.Writer)
	c.bw.Reset(&c.out)
	for i := range c.owed {
		c.write(&c.owed[i])
		c.owed[i] = pending{}
	}
	c.owed = c.owed[:0]
	c.flush()
	c.bw.Reset(nil)
	writerPool.Put(c.bw)
	c.bw = nil
}

// await waits for op, flushing what is written first if it must wait.
func (c *clientConn) await(op *upstream.Op) {
	if op.Ready() {
		return
	}
	c.flush()
	op.Wait()
}

// flush writes out the buffered replies. A failed write marks the
// connection dead and closes it.
func (c *clientConn) flush() {
	if c.dead {
		return
	}
	// Flush also reports an earlier failed write that bypassed the buffer
	// (a reply larger than it), even with nothing buffered.
	err := c.bw.Flush()
	if c.out.n > 0 {
		c.p.m.BytesOut.Add(uint64(c.out.n))
		c.out.n = 0
	}
	if err != nil {
		c.kill()
	}
}

// kill stops writing to the connection and closes it; owed replies are
// still waited for, so that every op completes and is released.
func (c *clientConn) kill() {
	c.dead = true
	_ = c.nc.Close()
}

// reply buffers b for the client unless the connection is dead.
func (c *clientConn) reply(b []byte) {
	if !c.dead {
		_, _ = c.bw.Write(b) // errors are sticky; flush reports them
	}
}

// write waits for one pending reply and buffers it.
func (c *clientConn) write(pr *pending) {
	switch pr.kind {
	case replyLocal:
		if !pr.noreply {
			c.reply(pr.local)
		}
	case replySingle:
		c.await(pr.op)
		pr.node.observe(pr.cmd, pr.op)
		if !pr.noreply {
			if pr.op.Err != nil {
				c.reply(pr.op.Err.Reply)
			} else {
				c.reply(pr.quiet.Visible(pr.op.Status, pr.op.Reply))
			}
		}
		putOp(pr.op)
	case replyMulti:
		c.writeMulti(pr.multi)
		putMulti(pr.multi)
	case replyBroadcast:
		c.writeBroadcast(pr.multi, pr.noreply)
		putMulti(pr.multi)
	case replyCopies:
		c.writeCopies(pr)
		putMulti(pr.multi)
	case replyWalk:
		c.writeWalk(pr.walk)
		putWalk(pr.walk)
	case replyMetaWalk:
		c.writeMetaWalk(pr.metaWalk)
		putMetaWalk(pr.metaWalk)
	case replyStats:
		c.reply(c.p.statsReply())
	case replyClose:
		c.flush()
		if !c.dead {
			c.kill()
		}
	}
}
