package loadgen

import (
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Progress is a snapshot of a run, passed to Options.Progress.
type Progress struct {
	// Elapsed is the time since the measured run started.
	Elapsed time.Duration
	// Requests is the number of requests answered or failed so far.
	Requests int64
	// Errors is the number of those that failed or were answered wrongly.
	Errors int64
	// OpsPerSec is the request rate since the previous snapshot.
	OpsPerSec float64
}

// Run dials o.Conns connections to o.Target, warms the key space up when
// o.Warmup is set, and runs the load until o.Duration has passed, o.Requests
// requests are done, or ctx is cancelled; requests in flight at the end are
// waited for (within o.Timeout). It returns an error only when the run
// cannot start: invalid options, a failed dial, or a failed warm-up. Errors
// during the run are counted in the result.
func Run(ctx context.Context, o Options) (*Result, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	ks := newKeyspace(o.KeyPrefix, o.Keys, o.ValueSize)
	workers, err := dialAll(ctx, &o, ks)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, w := range workers {
			if w.conn != nil {
				_ = w.conn.Close()
			}
		}
	}()
	var warmupWrong int64
	if o.Warmup {
		if warmupWrong, err = warmup(ctx, workers, o.Keys); err != nil {
			return nil, err
		}
	}

	var stop atomic.Bool
	start := time.Now()
	for i, w := range workers {
		w.prepare(start, &stop, i)
	}
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.run()
		}()
	}
	done := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		watch(ctx, &o, workers, start, &stop, done)
	}()
	wg.Wait()
	elapsed := time.Since(start)
	close(done)
	<-watched
	res := collect(&o, workers, elapsed)
	res.WarmupErrors = warmupWrong
	return res, nil
}

// dialAll opens the connections; on failure it closes those it opened.
func dialAll(ctx context.Context, o *Options, ks *keyspace) ([]*worker, error) {
	d := net.Dialer{Timeout: o.Timeout}
	workers := make([]*worker, 0, o.Conns)
	for i := 0; i < o.Conns; i++ {
		conn, err := d.DialContext(ctx, o.network(), o.Target)
		if err != nil {
			for _, w := range workers {
				_ = w.conn.Close()
			}
			return nil, fmt.Errorf("loadgen: connection %d: %w", i+1, err)
		}
		workers = append(workers, newWorker(o, ks, conn, i))
	}
	return workers, nil
}

// watch sets stop when ctx is cancelled and calls o.Progress every interval,
// until done is closed.
func watch(ctx context.Context, o *Options, workers []*worker, start time.Time, stop *atomic.Bool, done <-chan struct{}) {
	var tick <-chan time.Time
	if o.Progress != nil {
		interval := o.ProgressInterval
		if interval == 0 {
			interval = time.Second
		}
		t := time.NewTicker(interval)
		defer t.Stop()
		tick = t.C
	}
	cancelled := ctx.Done()
	var last Progress
	for {
		select {
		case <-done:
			return
		case <-cancelled:
			stop.Store(true)
			cancelled = nil
		case <-tick:
			p := Progress{Elapsed: time.Since(start)}
			for _, w := range workers {
				p.Requests += w.requests.Load()
				p.Errors += w.errors.Load()
			}
			if dt := (p.Elapsed - last.Elapsed).Seconds(); dt > 0 {
				p.OpsPerSec = float64(p.Requests-last.Requests) / dt
			}
			o.Progress(p)
			last = p
		}
	}
}
