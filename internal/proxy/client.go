package proxy

import (
	"bufio"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"hashproxy/internal/proto"
	"hashproxy/internal/sockio"
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
	replyCopies                     // a write sent to several homes of its key
	replyWalk                       // a read walking its key's homes
	replyMetaWalk                   // an mg walking its key's homes
	replyStats                      // the proxy's own stats
	replyClose                      // flush what is written, then close
)

// pending is one request's reply, owed in request order.
type pending struct {
	kind     replyKind
	noreply  bool
	quiet    proto.Quiet   // what a quiet meta request's reply hides
	cmd      proto.Command // the client's command, for metrics
	local    []byte
	op       *upstream.Op
	node     *node
	multi    *multiGet
	walk     *walk
	metaWalk *metaWalk
}

// clientConn is one client connection, served by one goroutine (serve):
// it reads and dispatches every request the client has sent, up to
// max_inflight, then writes their replies in request order as each becomes
// ready, flushing whenever the next one is not ready yet, and reads again.
// Not reading while replies are owed is the backpressure: a client that
// does not read its replies stops being read.
type clientConn struct {
	p           *pool
	nc          *sockio.Conn // the client's connection, read and written with raw system calls
	rd          *proto.Reader
	in          countingReader
	bw          *bufio.Writer // taken from writerPool while replies are written
	out         countingWriter
	req         proto.Request
	homes       homes         // scratch for the homes of the request being dispatched
	affinity    uint32        // picks this client's connection to each node
	idle        time.Duration // idle_timeout when the connection was accepted
	maxInflight int
	owed        []pending    // replies owed, in request order
	stopAt      atomic.Int64 // set by stopReading: when it was called, in Unix nanoseconds
	// sentBefore is, once the reader has seen stopAt, how many bytes of
	// the stream had arrived by then (read or waiting in the socket); -1
	// before.
	sentBefore int64
	dead       bool // a write failed or the client quit
}

func newClientConn(p *pool, nc net.Conn) *clientConn {
	pc := p.conf.Load() // a reload changes limits for later connections
	c := &clientConn{
		p:           p,
		nc:          sockio.New(nc),
		affinity:    uint32(p.stats.totalConns.Load()),
		idle:        pc.cfg.IdleTimeout,
		maxInflight: max(pc.cfg.MaxInflight, 1),
		sentBefore:  -1,
	}
	c.in = countingReader{r: c.nc, p: p, drained: true}
	c.rd = proto.NewReader(&c.in, pc.limits)
	c.out.w = c.nc
	return c
}

// owe queues the reply to a dispatched request.
func (c *clientConn) owe(pr pending) { c.owed = append(c.owed, pr) }

// serve is the connection's goroutine. It ends when the client
// disconnects, quits, sends something that ends the connection, a write
// fails, or the proxy shuts down; then it closes the connection.
func (c *clientConn) serve() {
	defer c.p.wg.Done()
	for {
		more := c.readBatch()
		c.writeOwed()
		if !more || c.dead {
			break
		}
	}
	_ = c.nc.Close()
	c.p.forget(c)
}

// readBatch reads and dispatches requests until none is left buffered or
// max_inflight replies are owed. It returns false when reading must end.
func (c *clientConn) readBatch() bool {
	for {
		if c.idle > 0 && c.rd.Buffered() == 0 {
			_ = c.nc.SetReadDeadline(time.Now().Add(c.idle))
		}
		if c.stopping() {
			return false
		}
		if err := c.waitIdle(); err != nil {
			return false // idle timeout, shutdown, reset
		}
		err := c.rd.Read(&c.req)
		if err != nil {
			pe, ok := err.(*proto.Error)
			if !ok {
				return false // EOF, reset, idle timeout or shutdown
			}
			c.owe(pending{kind: replyLocal, local: pe.Reply})
			if pe.Invalidate && len(c.req.Keys) == 1 {
				c.invalidate(&c.req)
			}
			if pe.Close {
				c.owe(pending{kind: replyClose})
				return false
			}
		} else if !c.dispatch(&c.req) {
			return false
		}
		if c.rd.Buffered() == 0 || len(c.owed) >= c.maxInflight {
			return true
		}
	}
}

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

// countingReader counts the bytes read from a client, for the connection
// (n) and into its pool's metrics.
type countingReader struct {
	r io.Reader
	p *pool
	n int64 // bytes read
	// drained says the last read returned less than asked for: it emptied
	// the socket, so new data will wake the poller.
	drained bool
}

func (cr *countingReader) Read(b []byte) (int, error) {
	n, err := cr.r.Read(b)
	cr.drained = n < len(b)
	cr.n += int64(n)
	if n > 0 {
		cr.p.m.BytesIn.Add(uint64(n))
	}
	return n, err
}
