package upstream

import (
	"bufio"
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"hashproxy/internal/proto"
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
}

func newConn(s *Server, id int) *conn {
	return &conn{
		s:        s,
		id:       id,
		queue:    make(chan *Op, s.opts.QueueLen),
		inflight: make(chan *Op, s.opts.QueueLen),
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
		nc, err := net.DialTimeout("tcp", c.s.opts.Addr, c.s.opts.Timeout)
		if err != nil {
			c.s.recordFailure(KindConnect)
			if !broken {
				c.s.log.Warn("connect failed", zap.Int("conn", c.id), zap.Error(err))
				broken = true
			}
			c.failFor(backoff, KindConnect)
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
// It returns early when the server is closed.
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
func (c *conn) serve(nc net.Conn) error {
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
	c.read(nc, dead, kill)
	<-writerDone
	kill(nil) // closes nc after a clean drain too
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
			return
		}
		for op != nil {
			if time.Now().After(op.Deadline) {
				// Waited out its time in the queue (a slow dial): never sent.
				op.fail(c.s.errs[KindTimeout])
			} else {
				select {
				case c.inflight <- op:
				case <-dead:
					op.fail(c.s.errs[KindClosed])
					return
				}
				_, _ = bw.Write(op.Req) // a write error is sticky: Flush reports it
			}
			select {
			case op = <-c.queue:
			default:
				op = nil
			}
		}
		if err := bw.Flush(); err != nil {
			kill(err)
			return
		}
	}
}

// read matches replies to sent requests in order, until the connection dies
// or the writer closes inflight after the final drain.
func (c *conn) read(nc net.Conn, dead chan struct{}, kill func(error)) {
	rr := proto.NewReplyReader(nc, c.s.opts.MaxItemSize)
	var deadline time.Time
	for {
		var op *Op
		var ok bool
		select {
		case op, ok = <-c.inflight:
			if !ok {
				return
			}
		case <-dead:
			return
		}
		if !op.Deadline.Equal(deadline) {
			deadline = op.Deadline
			_ = nc.SetReadDeadline(deadline)
		}
		var err error
		op.Reply, op.Values, err = rr.ReadReply(op.Reply[:0], op.Cmd)
		if err == nil && op.Values > 0 && !valuesAnswer(op.Cmd, op.Req, op.Reply) {
			err = errForeignValue
		}
		if err != nil {
			kind := classify(err)
			c.s.recordFailure(kind)
			op.fail(c.s.errs[kind])
			kill(err)
			return
		}
		c.s.recordSuccess()
		op.complete()
	}
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
