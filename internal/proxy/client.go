package proxy

import (
	"bufio"
	"net"
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
