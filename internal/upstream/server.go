// Package upstream talks to memcached nodes: per node, a small set of
// persistent connections, each pipelining many requests (a writer batches
// queued requests into one write, a reader matches replies to requests first
// in, first out), with deadlines on every request, reconnection with backoff,
// and health state (marked down after consecutive failures, probed until it
// answers again).
package upstream

import (
	"crypto/tls"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"hashproxy/internal/proto"
)

// Defaults of Options' zero fields.
const (
	// DefaultTimeout bounds a request and a dial: long enough for a loaded
	// node across a data centre, short enough that a stalled node does not
	// stall its clients.
	DefaultTimeout = 400 * time.Millisecond
	// DefaultProbeInterval is how often a down node is probed: often
	// enough that a node that answers again serves again within a fraction
	// of a second.
	DefaultProbeInterval = 200 * time.Millisecond
)

// Options configure a Server. Zero values take the defaults noted.
type Options struct {
	// Addr is the node's "host:port", or its Unix socket's path.
	Addr string
	// Conns is the number of persistent connections; 0 means 1.
	Conns int
	// Timeout bounds each request from submission to reply, and each dial;
	// 0 means DefaultTimeout.
	Timeout time.Duration
	// QueueLen bounds the requests waiting to be written on one connection
	// (and those written and awaiting replies); 0 means 4096. A request
	// beyond it waits for room, and fails with KindQueueFull if none comes
	// by its deadline.
	QueueLen int
	// MaxItemSize bounds a value in a reply; 0 means
	// proto.DefaultMaxItemSize.
	MaxItemSize int
	// FailureLimit is the number of consecutive failures that mark the node
	// down; 0 or less never marks it down.
	FailureLimit int
	// ProbeInterval is how often a down node is probed with "version"; it is
	// marked up as soon as a probe succeeds, and never sooner than one
	// interval after it went down. 0 means DefaultProbeInterval.
	ProbeInterval time.Duration
	// RetryAfter, when more than 0, marks a down node up again after this
	// long even if no probe succeeded, so that live requests try it (the
	// meaning of twemproxy's server_retry_timeout with auto_eject_hosts);
	// if they fail it goes down again. 0 waits for a probe.
	RetryAfter time.Duration
	// OnState, if set, is called on every up/down transition, in order,
	// from the goroutine that made it; it must not block.
	OnState func(up bool)
	// TLS, if set, returns the TLS configuration of each new connection
	// (and health probe) to the node, or nil for plain TCP. A
	// configuration without ServerName gets the node's host.
	TLS func() *tls.Config
	// Logger receives connection and health events; nil means none.
	Logger *zap.Logger
}

func (o *Options) setDefaults() {
	if o.Conns <= 0 {
		o.Conns = 1
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.QueueLen <= 0 {
		o.QueueLen = 4096
	}
	if o.MaxItemSize <= 0 {
		o.MaxItemSize = proto.DefaultMaxItemSize
	}
	if o.ProbeInterval <= 0 {
		o.ProbeInterval = DefaultProbeInterval
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
}

// Server is one memcached node. It is safe for concurrent use.
type Server struct {
	opts  Options
	log   *zap.Logger
	errs  [numKinds]*Error
	conns []*conn

	up       atomic.Bool
	failures atomic.Int32 // consecutive failures
	probing  atomic.Bool  // a prober goroutine is running
	// stateMu serialises the up/down transitions, so that OnState sees them
	// in the order they happened.
	stateMu sync.Mutex

	// mu guards closed; Do holds it shared while enqueueing so that Close,
	// holding it exclusively, knows no enqueue races with the final drain.
	mu     sync.RWMutex
	closed bool
	stop   chan struct{} // closed by Close
	wg     sync.WaitGroup
}

// New starts a Server: its connections dial in the background at once.
func New(opts Options) *Server {
	opts.setDefaults()
	s := &Server{
		opts: opts,
		log:  opts.Logger.With(zap.String("server", opts.Addr)),
		errs: newErrors(opts.Addr),
		stop: make(chan struct{}),
	}
	s.up.Store(true)
	s.conns = make([]*conn, opts.Conns)
	for i := range s.conns {
		c := newConn(s, i)
		s.conns[i] = c
		s.wg.Add(1)
		go c.run()
	}
	return s
}

// Do submits op, whose Cmd and Req are set, on the connection that affinity
// selects (or, while that one is broken, the next connected one). Requests
// with the same affinity go over the same connection, in submission order,
// so one client's requests to a node are answered in the order it sent
// them (a get sees the set before it). Do returns once
// the op is queued (waiting, while the connection's queue is full, until
// the op's deadline at most); the op completes later (see Op.Wait), with a
// reply or with an Error, by its deadline.
func (s *Server) Do(op *Op, affinity uint32) {
	op.Start = time.Now()
	op.Deadline = op.Start.Add(s.opts.Timeout)
	if !s.up.Load() {
		op.fail(s.errs[KindDown])
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		op.fail(s.errs[KindClosed])
		return
	}
	c := s.pickConn(affinity)
	select {
	case c.queue <- op:
	default:
		s.waitForRoom(c, op)
	}
}

// waitForRoom queues op on c once the queue has room, blocking the caller
// (the client connection, which then reads no more requests: backpressure)
// until then, or failing op with KindQueueFull at its deadline. The caller
// holds s.mu shared, so Close waits at most until that deadline.
func (s *Server) waitForRoom(c *conn, op *Op) {
	t := time.NewTimer(time.Until(op.Deadline))
	defer t.Stop()
	select {
	case c.queue <- op:
	case <-t.C:
		op.fail(s.errs[KindQueueFull])
	}
}

// pickConn returns the connection for affinity, or, while that one is
// broken, the next one that is connected.
func (s *Server) pickConn(affinity uint32) *conn {
	n := uint32(len(s.conns))
	for i := uint32(0); i < n; i++ {
		if c := s.conns[(affinity+i)%n]; c.connected.Load() {
			return c
		}
	}
	return s.conns[affinity%n]
}

// Up reports whether the node is serving (not marked down).
func (s *Server) Up() bool { return s.up.Load() }

// Stat is a snapshot of a Server's state, for metrics.
type Stat struct {
	Up          bool
	Connections int // connections currently established
}

// Stat returns a snapshot of the server's state.
func (s *Server) Stat() Stat {
	st := Stat{Up: s.up.Load()}
	for _, c := range s.conns {
		if c.connected.Load() {
			st.Connections++
		}
	}
	return st
}

// Close stops accepting requests, lets those already submitted finish (each
// within its deadline), closes the connections and waits for every
// goroutine of the server to end.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.mu.Unlock()
	close(s.stop)
	s.wg.Wait()
}

// stopping reports whether Close has been called.
func (s *Server) stopping() bool {
	select {
	case <-s.stop:
		return true
	default:
		return false
	}
}
