package loadgen

import (
	"fmt"
	"io"
	"time"
)

// Result is the outcome of a run; its JSON form is what `hashproxy bench
// --json` prints.
type Result struct {
	Target    string  `json:"target"`
	Conns     int     `json:"conns"`
	Pipeline  int     `json:"pipeline"`
	GetRatio  float64 `json:"get_ratio"`
	Keys      int     `json:"keys"`
	ValueSize int     `json:"value_size"`
	MultiGet  int     `json:"multiget"`
	// Rate is the fixed total rate asked for; 0 is closed loop.
	Rate float64 `json:"rate"`
	// Seconds is the measured run's length, including waiting for the
	// last replies.
	Seconds float64 `json:"seconds"`
	// Requests counts requests answered or failed; Gets and Sets split
	// them by kind.
	Requests int64 `json:"requests"`
	Gets     int64 `json:"gets"`
	Sets     int64 `json:"sets"`
	// Hits and Misses count keys asked for by gets that were answered
	// with the right value, and that were absent.
	Hits   int64 `json:"hits"`
	Misses int64 `json:"misses"`
	// Errors counts requests that failed (timeout, closed connection) or
	// were answered wrongly (wrong value, flags or key, an error reply,
	// a reply out of step).
	Errors int64 `json:"errors"`
	// WarmupErrors counts warm-up sets not answered STORED.
	WarmupErrors int64 `json:"warmup_errors"`
	// Reconnects counts connections dialled again after a failure.
	Reconnects int64 `json:"reconnects"`
	// FirstError describes the first error, if any.
	FirstError string  `json:"first_error,omitempty"`
	OpsPerSec  float64 `json:"ops_per_sec"`
	// Latency is in microseconds: from the send, or at a fixed rate from
	// the scheduled send, to the end of the reply.
	Latency Latency `json:"latency_us"`
}

// Latency summarises a latency distribution, in microseconds.
type Latency struct {
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p99_9"`
	Max  float64 `json:"max"`
}

// collect merges the workers' counts after they have stopped.
func collect(o *Options, workers []*worker, elapsed time.Duration) *Result {
	r := &Result{
		Target: o.Target, Conns: o.Conns, Pipeline: o.Pipeline, GetRatio: o.GetRatio,
		Keys: o.Keys, ValueSize: o.ValueSize, MultiGet: o.MultiGet, Rate: o.Rate,
		Seconds: elapsed.Seconds(),
	}
	var h Histogram
	for _, w := range workers {
		h.Merge(&w.hist)
		r.Requests += w.requests.Load()
		r.Errors += w.errors.Load()
		r.Gets += w.gets
		r.Sets += w.sets
		r.Hits += w.hits
		r.Misses += w.misses
		r.Reconnects += w.reconnects
		if r.FirstError == "" {
			r.FirstError = w.firstErr
		}
	}
	if r.Seconds > 0 {
		r.OpsPerSec = float64(r.Requests) / r.Seconds
	}
	us := func(ns int64) float64 { return float64(ns) / 1e3 }
	r.Latency = Latency{
		Mean: h.Mean() / 1e3,
		P50:  us(h.Quantile(0.50)),
		P90:  us(h.Quantile(0.90)),
		P99:  us(h.Quantile(0.99)),
		P999: us(h.Quantile(0.999)),
		Max:  us(h.Max()),
	}
	return r
}

// WriteText writes the result for people to read.
func (r *Result) WriteText(w io.Writer) error {
	mode := "closed loop"
	if r.Rate > 0 {
		mode = fmt.Sprintf("fixed rate %.0f/s", r.Rate)
	}
	_, err := fmt.Fprintf(w, `target      %s
load        %d conns x %d in flight, %.0f%% gets, %d keys, %d-byte values, %d keys per get, %s
requests    %d in %.2fs (%d gets, %d sets)
throughput  %.0f ops/s
latency     p50 %.0fus  p90 %.0fus  p99 %.0fus  p99.9 %.0fus  max %.0fus  mean %.0fus
keys        %d hits, %d misses
errors      %d (warm-up %d, reconnects %d)
`,
		r.Target,
		r.Conns, r.Pipeline, r.GetRatio*100, r.Keys, r.ValueSize, r.MultiGet, mode,
		r.Requests, r.Seconds, r.Gets, r.Sets,
		r.OpsPerSec,
		r.Latency.P50, r.Latency.P90, r.Latency.P99, r.Latency.P999, r.Latency.Max, r.Latency.Mean,
		r.Hits, r.Misses,
		r.Errors, r.WarmupErrors, r.Reconnects)
	if err == nil && r.FirstError != "" {
		_, err = fmt.Fprintf(w, "first error %s\n", r.FirstError)
	}
	return err
}
