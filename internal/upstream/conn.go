package upstream

import (
	"bufio"
	"errors"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"hashproxy/internal/proto"
	"hashproxy/internal/sockio"
)

const (
	minBackoff   = 25 * time.Millisecond
	maxBackoff   = 500 * time.Millisecond
	writeBufSize = 16 << 10
)

// conn is one persistent, pipelined connection to the node, re-dialled
// with backoff whenever it breaks. Requests wait in queue until its writer
// sends them; sent requests wait in inflight, in send order, for the reader
// to match their replies.
type conn struct {
	s         *Server
	id        int
	queue     chan *Op
	inflight  chan *Op
	connected atomic.Bool
	// redial, signalled when the node is marked up, cuts a reconnect
	// backoff short: the node answers again, so the next dial is now.
	redial chan struct{}

	// idleMu guards idling and draining, which let the writer wake a
	// reader waiting on an idle connection when the server is closed.
	idleMu   sync.Mutex
	idling   bool // the reader waits for bytes with nothing in flight
	draining bool // the writer has closed inflight
}

func newConn(s *Server, id int) *conn {
	return &conn{
		s:        s,
		id:       id,
		queue:    make(chan *Op, s.opts.QueueLen),
		inflight: make(chan *Op, s.opts.QueueLen),
		redial:   make(chan struct{}, 1),
	}
}

// wakeDialer ends a reconnect backoff in progress, or the next one, at once.
func (c *conn) wakeDialer() {
	select {
	case c.redial <- struct{}{}:
	default:
	}
}

// run dials and serves the connection until the server is closed and every
// request queued on it has completed.
func (c *conn) run() {
	defer c.s.wg.Done()
	backoff := minBackoff
	broken := false
	for {
		if c.s.stopping() {
			c.failQueued(KindClosed)
			return
		}
		nc, err := c.s.dial()
		if err != nil {
			kind, msg := KindConnect, "connect failed"
			var he *HandshakeError
			if errors.As(err, &he) {
				kind, msg = KindTLS, "TLS handshake failed"
			}
			c.s.recordFailure(kind)
			if !broken {
				c.s.log.Warn(msg, zap.Int("conn", c.id), zap.Error(err))
				broken = true
			}
			c.failFor(backoff, kind)
			backoff = min(2*backoff, maxBackoff)
			continue
		}
		if broken {
			c.s.log.Info("reconnected", zap.Int("conn", c.id))
			broken = false
		}
		backoff = minBackoff
		if err := c.serve(nc); err != nil {
			c.s.log.Warn("connection lost", zap.Int("conn", c.id), zap.Error(err))
			broken = true
		}
	}
}

// failFor waits d before the next dial, failing every request queued
// meanwhile with kind so that none waits on a node that cannot be reached.
// It returns early when the server is closed or the node is marked up.
func (c *conn) failFor(d time.Duration, kind Kind) {
	c.failQueued(kind)
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case op := <-c.queue:
			op.fail(c.s.errs[kind])
		case <-t.C:
			return
		case <-c.redial:
			return
		case <-c.s.stop:
			return
		}
	}
}

// failQueued fails every request waiting in the queue.
func (c *conn) failQueued(kind Kind) {
	for {
		select {
		case op := <-c.queue:
			op.fail(c.s.errs[kind])
		default:
			return
		}
	}
}

// serve runs the writer and reader on an established connection until it
// breaks (returning why) or the server is closed and drained (returning
// nil). Requests sent but not answered when it breaks fail with the reason.
func (c *conn) serve(tcp net.Conn) error {
	nc := sockio.New(tcp) // one reader and one writer share it
	c.idleMu.Lock()
	c.idling, c.draining = false, false
	c.idleMu.Unlock()
	c.connected.Store(true)
	defer c.connected.Store(false)
	var (
		dead     = make(chan struct{})
		killOnce sync.Once
		cause    error
	)
	kill := func(err error) {
		killOnce.Do(func() {
			cause = err
			close(dead)
			_ = nc.Close()
		})
	}
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		c.write(nc, dead, kill)
	}()
	failed, kind := c.read(nc, dead, kill)
	<-writerDone
	kill(nil) // closes nc after a clean drain too
	// Only now, with the writer gone, can a request that failed while its
	// bytes may still have been in the writer's hands be handed back.
	if failed != nil {
		failed.fail(c.s.errs[kind])
	}
	// Whatever was sent and not answered fails now.
	for {
		select {
		case op, ok := <-c.inflight:
			if !ok { // closed by the writer after the final drain
				return cause
			}
			op.fail(c.s.errs[KindClosed])
		default:
			return cause
		}
	}
}

// write sends queued requests, batching all that are ready into one write,
// until the connection dies or the server is closed with an empty queue.
func (c *conn) write(nc net.Conn, dead chan struct{}, kill func(error)) {
	bw := bufio.NewWriterSize(nc, writeBufSize)
	for {
		var op *Op
		select {
		case op = <-c.queue:
		case <-dead:
			return
		case <-c.s.stop:
			if len(c.queue) > 0 {
				continue
			}
			close(c.inflight)
			c.idleMu.Lock()
			c.draining = true
			if c.idling {
				_ = nc.SetReadDeadline(time.Now()) // wake it to see inflight closed
			}
			c.idleMu.Unlock()
			return
		}
		yielded := false
		for op != nil {
			if time.Now().After(op.Deadline) {
				// Waited out its time in the queue (a slow dial): never sent.
				op.fail(c.s.errs[KindTimeout])
			} else {
				if !c.pushInflight(op, bw, dead, kill) {
					return
				}
				_, _ = bw.Write(op.Req) // a write error is sticky: Flush reports it
			}
			select {
			case op = <-c.queue:
			default:
				op = nil
			}
			if op == nil && !yielded {
				// Let the clients that are about to queue requests run
				// first, so that one write carries them all: on loopback
				// each write costs about as much as the node's work.
				yielded = true
				runtime.Gosched()
				select {
				case op = <-c.queue:
				default:
				}
			}
		}
		if err := bw.Flush(); err != nil {
			kill(err)
			return
		}
	}
}

// pushInflight hands op to the reader. When as many requests as inflight
// holds await replies, it first sends what is buffered, or their replies
// would never come. It fails op and returns false when the connection
// dies.
func (c *conn) pushInflight(op *Op, bw *bufio.Writer, dead chan struct{}, kill func(error)) bool {
	select {
	case c.inflight <- op:
		return true
	default:
	}
	if err := bw.Flush(); err != nil {
		kill(err)
		op.fail(c.s.errs[KindClosed])
		return false
	}
	select {
	case c.inflight <- op:
		return true
	case <-dead:
		op.fail(c.s.errs[KindClosed])
		return false
	}
}

// read matches replies to sent requests in order, until the connection dies
// or the writer closes inflight after the final drain. Bytes from the node
// beyond the replies to the requests in flight close the connection: they
// would otherwise be taken for the next request's reply. A request whose
// reply could not be read is returned, with why, for serve to fail once the
// writer has let go of it.
func (c *conn) read(nc *sockio.Conn, dead chan struct{}, kill func(error)) (failed *Op, why Kind) {
	sr := &socketReader{sock: nc}
	rr := proto.NewReplyReader(sr, c.s.opts.MaxItemSize)
	var consumed int64 // reply bytes matched to requests: ReadReply returns them unchanged, so len(op.Reply)
	var deadline time.Time
	for {
		op, waited, err := c.next(nc, sr, dead, kill, consumed)
		if op == nil {
			if err != nil {
				c.s.recordFailure(KindProtocol)
				kill(err)
			}
			return nil, 0
		}
		if waited || !op.Deadline.Equal(deadline) {
			deadline = op.Deadline
			_ = nc.SetReadDeadline(deadline)
		}
		op.Reply, err = rr.ReadReply(op.Reply[:0], op.Cmd, op.Keys, &op.Result)
		if err != nil {
			kind := classify(err)
			c.s.recordFailure(kind)
			kill(err)
			return op, kind
		}
		consumed += int64(len(op.Reply))
		c.s.recordSuccess()
		op.complete()
	}
}

// next returns the next request in flight. While there is none it waits,
// watching the connection, so that a node that closes an idle connection is
// noticed at once and re-dialled before a request is lost on it. It returns
// nil when the reader must stop: err is then bytes the node sent unasked,
// or nil (the connection died, or inflight was closed after the final
// drain). waited reports that the read deadline was changed meanwhile.
func (c *conn) next(nc *sockio.Conn, sr *socketReader, dead chan struct{}, kill func(error), consumed int64) (op *Op, waited bool, err error) {
	readable := false // the last wait ended: the node sent bytes or closed, or it woke early
	for {
		if op, got := c.takeInflight(dead, false); got {
			return op, waited, nil
		}
		if sr.unread(consumed) > 0 {
			return nil, waited, errUnsolicited
		}
		if readable {
			// Nothing was in flight when the wait ended, and a request goes
			// in flight before it is sent, so nothing waiting is a reply.
			readable = false
			data, err := sr.peek()
			switch {
			case data:
				return nil, waited, errUnsolicited
			case err != nil:
				kill(err) // the node closed the idle connection
				return nil, waited, nil
			}
			// The wait ended early: wait again.
		}
		c.idleMu.Lock()
		if c.draining {
			c.idleMu.Unlock()
			op, _ := c.takeInflight(dead, true)
			return op, waited, nil
		}
		c.idling = true
		// A request sent from now on has a later deadline than this, so
		// waking here and then reading with its deadline enforces it.
		_ = nc.SetReadDeadline(time.Now().Add(c.s.opts.Timeout))
		c.idleMu.Unlock()
		waited = true
		werr := sr.wait()
		c.idleMu.Lock()
		c.idling = false
		c.idleMu.Unlock()
		switch {
		case werr == nil:
			readable = true
		case errors.Is(werr, os.ErrDeadlineExceeded):
			// Idle for a timeout, or woken to see inflight closed.
		case len(c.inflight) == 0:
			kill(werr) // the connection was closed
			return nil, waited, nil
		}
		// Otherwise the error is the reply's to the request now in flight.
	}
}

// takeInflight takes the next request in flight. It reports got when the
// reader is done waiting: with the request, or with nil when inflight is
// closed or the connection died. Without block it returns at once, got
// false, when nothing is in flight.
func (c *conn) takeInflight(dead chan struct{}, block bool) (op *Op, got bool) {
	if block {
		select {
		case op = <-c.inflight: // nil once closed
		case <-dead:
		}
		return op, true
	}
	select {
	case op = <-c.inflight:
	case <-dead:
	default:
		return nil, false
	}
	return op, true
}

// classify maps a read error to a failure kind.
func classify(err error) Kind {
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return KindTimeout
	case errors.Is(err, proto.ErrMalformedReply):
		return KindProtocol
	default:
		return KindClosed
	}
}
