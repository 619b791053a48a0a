// Package loadgen generates memcached text-protocol load against a server or
// a proxy and validates every reply. Each value is derived from its key and
// the value size, so a wrong, truncated or misplaced value, or a reply to
// another request, counts as an error and never as a hit.
//
// Each connection is driven by one goroutine that keeps up to Pipeline
// requests in flight: it writes what it may send in one flush, then reads the
// replies that have arrived. Latency is recorded into a log-bucketed
// histogram without allocating per request. With a fixed Rate, sends follow
// a schedule and latency is measured from the scheduled time, so a slow
// server cannot hide its stalls by delaying the requests that would have
// observed them (coordinated omission).
package loadgen

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Limits on Options, to keep one run's memory and key lines bounded.
const (
	MaxConns     = 100000
	MaxPipeline  = 4096
	MaxMultiGet  = 1000
	MaxValueSize = 1 << 20
	MaxKeys      = 1 << 31
	maxKeyLength = 250
)

// Options configure one run. Run uses them as given; DefaultOptions returns
// a usable starting point.
type Options struct {
	// Target is the "host:port" of the memcached server or proxy, or the
	// path of its Unix socket.
	Target string
	// Conns is the number of client connections, at least 1.
	Conns int
	// Pipeline is the most requests in flight per connection, at least 1
	// (1 is request-reply with no pipelining).
	Pipeline int
	// GetRatio is the share of requests that are gets, from 0 to 1; the
	// others are sets.
	GetRatio float64
	// Keys is the size of the key space; keys are chosen uniformly.
	Keys int
	// ValueSize is the length of every value, in bytes.
	ValueSize int
	// MultiGet is the number of keys per get, at least 1.
	MultiGet int
	// Duration ends the run after this long; 0 means no time limit, and
	// then Requests must be set.
	Duration time.Duration
	// Requests ends the run after this many requests (counted over all
	// connections); 0 means no count limit, and then Duration must be set.
	Requests int64
	// Rate is a fixed total request rate per second, spread over the
	// connections; 0 sends as fast as replies allow (closed loop).
	Rate float64
	// Warmup sets every key once before the measured run, so gets hit.
	Warmup bool
	// KeyPrefix starts every key; the key's number follows it.
	KeyPrefix string
	// Timeout bounds a dial and the wait for each reply; a reply that does
	// not come in time fails the connection's requests in flight, and the
	// connection is dialled again.
	Timeout time.Duration
	// Seed makes key and operation choices reproducible.
	Seed uint64
	// Progress, when set, is called from another goroutine every
	// ProgressInterval while the measured run lasts.
	Progress func(Progress)
	// ProgressInterval is the time between Progress calls; 0 means 1s.
	ProgressInterval time.Duration
}

// DefaultOptions returns the options of `hashproxy bench` without flags.
func DefaultOptions() Options {
	return Options{
		Target:    "127.0.0.1:22122",
		Conns:     50,
		Pipeline:  1,
		GetRatio:  0.9,
		Keys:      10000,
		ValueSize: 100,
		MultiGet:  1,
		Duration:  10 * time.Second,
		Warmup:    true,
		KeyPrefix: "bench:",
		Timeout:   2 * time.Second,
		Seed:      1,
	}
}

// Validate reports every invalid option at once.
func (o *Options) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("loadgen: "+format, args...))
	}
	if o.Target == "" {
		bad("target is empty")
	}
	if o.Conns < 1 || o.Conns > MaxConns {
		bad("conns %d is not between 1 and %d", o.Conns, MaxConns)
	}
	if o.Pipeline < 1 || o.Pipeline > MaxPipeline {
		bad("pipeline %d is not between 1 and %d", o.Pipeline, MaxPipeline)
	}
	if !(o.GetRatio >= 0 && o.GetRatio <= 1) {
		bad("get ratio %v is not between 0 and 1", o.GetRatio)
	}
	if o.Keys < 1 || o.Keys > MaxKeys {
		bad("keys %d is not between 1 and %d", o.Keys, MaxKeys)
	}
	if o.ValueSize < 1 || o.ValueSize > MaxValueSize {
		bad("value size %d is not between 1 and %d", o.ValueSize, MaxValueSize)
	}
	if o.MultiGet < 1 || o.MultiGet > MaxMultiGet {
		bad("multiget %d is not between 1 and %d", o.MultiGet, MaxMultiGet)
	}
	if o.Duration < 0 {
		bad("duration %v is negative", o.Duration)
	}
	if o.Requests < 0 {
		bad("requests %d is negative", o.Requests)
	}
	if o.Duration == 0 && o.Requests == 0 {
		bad("give a duration or a request count, so the run ends")
	}
	if !(o.Rate >= 0) || o.Rate > 1e9 {
		bad("rate %v is not between 0 and 1e9", o.Rate)
	}
	if o.Timeout <= 0 {
		bad("timeout %v is not positive", o.Timeout)
	}
	if o.ProgressInterval < 0 {
		bad("progress interval %v is negative", o.ProgressInterval)
	}
	if len(o.KeyPrefix)+10 > maxKeyLength {
		bad("key prefix is %d bytes; keys would exceed %d bytes", len(o.KeyPrefix), maxKeyLength)
	}
	for i := 0; i < len(o.KeyPrefix); i++ {
		if c := o.KeyPrefix[i]; c <= ' ' || c == 0x7f {
			bad("key prefix has a space or control character at byte %d", i)
			break
		}
	}
	return errors.Join(errs...)
}

// network is the network of Target: "unix" for a socket's path (it starts
// with '/'), else "tcp".
func (o *Options) network() string {
	if strings.HasPrefix(o.Target, "/") {
		return "unix"
	}
	return "tcp"
}
