package loadgen

import (
	"bufio"
	"math"
	"math/rand/v2"
	"net"
	"strconv"
	"sync/atomic"
	"time"
)

// slot is one request in flight.
type slot struct {
	// at is when the request was sent or, at a fixed rate, scheduled, in
	// nanoseconds since the run started.
	at  int64
	get bool
	// keys are the keys a get asked for, in order; a set's key is keys[0].
	keys []uint32
}

// worker drives one connection. Its fields are its own while it runs,
// except the atomic counters, which progress reports read.
type worker struct {
	opts   *Options
	ks     *keyspace
	dialer net.Dialer
	conn   net.Conn // nil after a failure, until dialled again
	r      *bufio.Reader
	w      *bufio.Writer
	rng    *rand.Rand
	buf    []byte // request line being built

	start time.Time    // when the measured run started
	stop  *atomic.Bool // set when the run is cancelled

	slots    []slot // ring of Pipeline slots; head is the oldest in flight
	head     int
	inflight int

	quota    int64 // requests this worker may send
	sent     int64
	end      int64 // nanoseconds since start after which nothing is sent
	interval int64 // nanoseconds between scheduled sends; 0 is closed loop
	due      int64 // when the next request may be sent
	timeout  int64
	deadline int64 // the connection's current deadline, since start

	hist       Histogram
	requests   atomic.Int64 // requests answered or failed
	errors     atomic.Int64 // requests failed or answered wrongly
	gets, sets int64
	hits       int64
	misses     int64
	reconnects int64
	firstErr   string
}

// newWorker returns a worker for conn; after this call the worker owns conn.
func newWorker(o *Options, ks *keyspace, conn net.Conn, id int) *worker {
	w := &worker{
		opts:    o,
		ks:      ks,
		dialer:  net.Dialer{Timeout: o.Timeout},
		conn:    conn,
		r:       bufio.NewReaderSize(conn, max(16<<10, ks.size+maxKeyLength+64)),
		w:       bufio.NewWriterSize(conn, 16<<10),
		rng:     rand.New(rand.NewPCG(o.Seed, uint64(id))),
		buf:     make([]byte, 0, 64+o.MultiGet*(len(ks.prefix)+12)),
		slots:   make([]slot, o.Pipeline),
		timeout: int64(o.Timeout),
	}
	for i := range w.slots {
		w.slots[i].keys = make([]uint32, 0, o.MultiGet)
	}
	return w
}

// prepare sets the worker's share of the run: worker id of the
// o.Conns workers, timed from start.
func (w *worker) prepare(start time.Time, stop *atomic.Bool, id int) {
	o := w.opts
	w.start, w.stop = start, stop
	w.quota = math.MaxInt64
	if o.Requests > 0 {
		n := int64(o.Conns)
		w.quota = o.Requests / n
		if int64(id) < o.Requests%n {
			w.quota++
		}
	}
	w.end = math.MaxInt64
	if o.Duration > 0 {
		w.end = int64(o.Duration)
	}
	if o.Rate > 0 {
		w.interval = max(int64(float64(o.Conns)/o.Rate*1e9), 1)
		w.due = w.interval * int64(id) / int64(o.Conns)
	}
	w.deadline = 0
}

// now returns the nanoseconds since the run started.
func (w *worker) now() int64 { return int64(time.Since(w.start)) }

// run sends and receives until the run ends, then waits for the replies in
// flight (each within the timeout) and returns.
func (w *worker) run() {
	for {
		now := w.now()
		stopping := now >= w.end || w.sent >= w.quota || w.stop.Load()
		if stopping && w.inflight == 0 {
			return
		}
		if w.conn == nil {
			w.redial(now)
			continue
		}
		if !stopping {
			w.refreshDeadline(now)
			if w.inflight < len(w.slots) && w.due <= now {
				w.sendDue(now)
				if err := w.w.Flush(); err != nil {
					w.fail(err)
					continue
				}
			}
		}
		if w.inflight == 0 {
			w.sleep(min(w.due, w.end) - now)
			continue
		}
		if err := w.receive(); err != nil {
			w.fail(err)
		}
	}
}

// refreshDeadline moves the connection's deadline to now+timeout once a
// quarter of the timeout has passed, so it costs little per request.
func (w *worker) refreshDeadline(now int64) {
	if w.deadline-now >= w.timeout*3/4 {
		return
	}
	w.deadline = now + w.timeout
	_ = w.conn.SetDeadline(w.start.Add(time.Duration(w.deadline)))
}

// sendDue buffers every request that is due, up to the pipeline depth.
func (w *worker) sendDue(now int64) {
	for w.inflight < len(w.slots) && w.sent < w.quota && w.due <= now {
		at := now
		if w.interval > 0 {
			at = w.due
			w.due += w.interval
		}
		w.send(at)
	}
}

// send buffers one request scheduled or sent at at.
func (w *worker) send(at int64) {
	i := w.head + w.inflight
	if i >= len(w.slots) {
		i -= len(w.slots)
	}
	s := &w.slots[i]
	s.at = at
	s.keys = s.keys[:0]
	ks := w.ks
	b := w.buf[:0]
	if w.rng.Float64() < w.opts.GetRatio {
		s.get = true
		b = append(b, "get"...)
		for range w.opts.MultiGet {
			k := w.rng.Uint32N(ks.keys)
			s.keys = append(s.keys, k)
			b = append(b, ' ')
			b = ks.appendKey(b, k)
		}
		b = append(b, "\r\n"...)
		_, _ = w.w.Write(b)
		w.gets++
	} else {
		s.get = false
		k := w.rng.Uint32N(ks.keys)
		s.keys = append(s.keys, k)
		var h int
		b, h = appendSetHead(b, ks, k)
		_, _ = w.w.Write(b)
		_, _ = w.w.Write(ks.tail(k, h))
		_, _ = w.w.WriteString("\r\n")
		w.sets++
	}
	w.buf = b
	w.inflight++
	w.sent++
}

// appendSetHead appends a set command line for key k and the head of its
// value to b, and returns the length of that head.
func appendSetHead(b []byte, ks *keyspace, k uint32) ([]byte, int) {
	b = append(b, "set "...)
	keyStart := len(b)
	b = ks.appendKey(b, k)
	key := b[keyStart:]
	h := ks.headLen(len(key))
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(ks.flags(k)), 10)
	b = append(b, " 0 "...)
	b = strconv.AppendInt(b, int64(ks.size), 10)
	b = append(b, "\r\n"...)
	return append(b, b[keyStart:keyStart+h]...), h
}

// receive reads the oldest reply in flight, then every further reply
// already buffered. An error means the connection is unusable.
func (w *worker) receive() error {
	var now int64
	for first := true; ; first = false {
		s := &w.slots[w.head]
		problem, err := w.readReply(s)
		if err != nil {
			return err
		}
		if first {
			now = w.now()
		}
		w.hist.Record(now - s.at)
		if problem != problemNone {
			w.noteError(problem)
			w.errors.Add(1)
		}
		w.requests.Add(1)
		w.inflight--
		if w.head++; w.head == len(w.slots) {
			w.head = 0
		}
		if w.inflight == 0 || w.r.Buffered() == 0 {
			return nil
		}
	}
}

// readReply reads the reply to s and counts its hits and misses.
func (w *worker) readReply(s *slot) (string, error) {
	if !s.get {
		return readSetReply(w.r)
	}
	hits, problem, err := readGetReply(w.r, w.ks, s.keys)
	if err != nil {
		return problem, err
	}
	w.hits += int64(hits)
	if problem == problemNone {
		w.misses += int64(len(s.keys) - hits)
	}
	return problem, nil
}

// fail closes the connection after err and counts the requests in flight
// as failed.
func (w *worker) fail(err error) {
	w.noteError(err.Error())
	n := int64(w.inflight)
	w.errors.Add(n)
	w.requests.Add(n)
	w.inflight, w.head = 0, 0
	_ = w.conn.Close()
	w.conn = nil
}

// redial dials the target again. A failed dial counts as one failed
// request, so a run bounded by a request count ends even when the target
// is gone; it is retried after a pause.
func (w *worker) redial(now int64) {
	conn, err := w.dialer.Dial(w.opts.network(), w.opts.Target)
	if err != nil {
		w.noteError(err.Error())
		w.sent++
		w.requests.Add(1)
		w.errors.Add(1)
		if w.interval > 0 {
			w.due += w.interval
		}
		w.sleep(min(100*time.Millisecond.Nanoseconds(), w.end-now))
		return
	}
	w.conn = conn
	w.r.Reset(conn)
	w.w.Reset(conn)
	w.deadline = 0
	w.reconnects++
}

// sleep pauses for up to d nanoseconds, at most 100ms at a time so that a
// cancelled run stops soon.
func (w *worker) sleep(d int64) {
	if d > 0 {
		time.Sleep(time.Duration(min(d, 100*time.Millisecond.Nanoseconds())))
	}
}

// noteError keeps the first error's description.
func (w *worker) noteError(desc string) {
	if w.firstErr == "" {
		w.firstErr = desc
	}
}
