package proxy

import (
	"bufio"
	"io"
	"net"
	"sync/atomic"
	"time"

	"hashproxy/internal/proto"
	"hashproxy/internal/upstream"
)

const clientWriteBufSize = 4 << 10

// replyKind says how a pending reply is produced.
type replyKind uint8

const (
	replyLocal     replyKind = iota // local holds the whole reply
	replySingle                     // op's reply, passed through
	replyMulti                      // a split retrieval, merged in key order
	replyBroadcast                  // flush_all sent to every node
	replyStats                      // the proxy's own stats
	replyClose                      // flush what is written, then close
)

// pending is one request's reply, queued in request order.
type pending struct {
	kind    replyKind
	noreply bool
	local   []byte
	op      *upstream.Op
	node    *node
	nkeys   int
	multi   *multiGet
}

// clientConn is one client connection. Its reader goroutine parses requests
// and dispatches them; its writer goroutine writes their replies in request
// order. The reader owns the request parser; the writer owns the buffered
// writer and, at the end, closes the connection. The bounded pending queue
// between them is the backpressure: a client that does not read its replies
// stops being read.
type clientConn struct {
	p        *pool
	nc       net.Conn
	rd       *proto.Reader
	bw       *bufio.Writer
	out      countingWriter
	req      proto.Request
	affinity uint32        // picks this client's connection to each node
	idle     time.Duration // idle_timeout when the connection was accepted
	pending  chan pending
	stopAt   atomic.Int64 // set by stopReading: when it was called, in Unix nanoseconds
	dead     bool         // writer only: a write failed or the client quit
}

func newClientConn(p *pool, nc net.Conn) *clientConn {
	pc := p.conf.Load() // a reload changes limits for later connections
	c := &clientConn{p: p, nc: nc, affinity: uint32(p.stats.totalConns.Load()), idle: pc.cfg.IdleTimeout}
	c.rd = proto.NewReader(countingReader{r: nc, p: p}, pc.limits)
	c.out.w = nc
	c.bw = bufio.NewWriterSize(&c.out, clientWriteBufSize)
	c.pending = make(chan pending, max(pc.cfg.MaxInflight, 1))
	return c
}

// Once the proxy shuts down (or a reload removes its pool), a client
// connection goes on reading while requests keep arriving without a pause
// of stopPause, for up to stopGrace: the requests the client had sent are
// answered even when the reader is still busy with earlier ones. Then it
// stops reading, writes the replies to what it has read, and closes.
const (
	stopPause = 10 * time.Millisecond
	stopGrace = time.Second
)

// stopReading makes the reader stop (see stopGrace); replies to what it has
// read are still written.
func (c *clientConn) stopReading() {
	now := time.Now()
	c.stopAt.Store(now.UnixNano())
	_ = c.nc.SetReadDeadline(now.Add(stopPause))
}

// stopping reports whether the reader must stop. While the connection
// drains, it also sets the read deadline that ends the next pause. It runs
// after the idle deadline is set, and stopReading sets its deadline after
// stopAt, so a stop always overrides an idle deadline.
func (c *clientConn) stopping() bool {
	at := c.stopAt.Load()
	if at == 0 {
		return false
	}
	now := time.Now()
	if now.Sub(time.Unix(0, at)) > stopGrace {
		return true
	}
	_ = c.nc.SetReadDeadline(now.Add(stopPause))
	return false
}

// readRequests is the reader goroutine: it parses requests and dispatches
// them until the client disconnects, quits, sends something that ends the
// connection, or the proxy shuts down. It closes pending, which ends the
// writer.
func (c *clientConn) readRequests() {
	defer c.p.wg.Done()
	defer close(c.pending)
	idle := c.idle
	for {
		if idle > 0 && c.rd.Buffered() == 0 {
			_ = c.nc.SetReadDeadline(time.Now().Add(idle))
		}
		if c.stopping() {
			return
		}
		err := c.rd.Read(&c.req)
		if err != nil {
			pe, ok := err.(*proto.Error)
			if !ok {
				return // EOF, reset, idle timeout or shutdown
			}
			c.pending <- pending{kind: replyLocal, local: pe.Reply}
			if pe.Invalidate && len(c.req.Keys) == 1 {
				c.invalidate(c.req.Keys[0])
			}
			if pe.Close {
				c.pending <- pending{kind: replyClose}
				return
			}
			continue
		}
		if !c.dispatch(&c.req) {
			return
		}
	}
}

// writeReplies is the writer goroutine: it writes each reply when it is
// ready, in request order, flushing whenever the next one is not ready yet.
// It ends when the reader has closed pending and every reply is written,
// then closes the connection.
func (c *clientConn) writeReplies() {
	defer c.p.wg.Done()
	for pr := range c.pending {
		c.write(&pr)
		if len(c.pending) == 0 {
			c.flush()
		}
	}
	c.flush()
	_ = c.nc.Close()
	c.p.forget(c)
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
// connection dead and closes it, which also stops the reader.
func (c *clientConn) flush() {
	if c.dead || c.bw.Buffered() == 0 {
		return
	}
	err := c.bw.Flush()
	c.p.m.BytesOut.Add(float64(c.out.n))
	c.out.n = 0
	if err != nil {
		c.kill()
	}
}

// kill stops writing to the connection and closes it; the writer still
// drains pending so that every op completes and is released.
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
		pr.node.observe(pr.op, pr.nkeys)
		if !pr.noreply {
			if pr.op.Err != nil {
				c.reply(pr.op.Err.Reply)
			} else {
				c.reply(pr.op.Reply)
			}
		}
		putOp(pr.op)
	case replyMulti:
		c.writeMulti(pr.multi)
		putMulti(pr.multi)
	case replyBroadcast:
		c.writeBroadcast(pr.multi, pr.noreply)
		putMulti(pr.multi)
	case replyStats:
		c.reply(c.p.statsReply())
	case replyClose:
		c.flush()
		if !c.dead {
			c.kill()
		}
	}
}

// countingWriter counts the bytes written to the client.
type countingWriter struct {
	w io.Writer
	n int
}

func (cw *countingWriter) Write(b []byte) (int, error) {
	n, err := cw.w.Write(b)
	cw.n += n
	return n, err
}

// countingReader counts the bytes read from a client into its pool's
// metrics.
type countingReader struct {
	r io.Reader
	p *pool
}

func (cr countingReader) Read(b []byte) (int, error) {
	n, err := cr.r.Read(b)
	if n > 0 {
		cr.p.m.BytesIn.Add(float64(n))
	}
	return n, err
}
