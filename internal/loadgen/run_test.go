package loadgen

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"hashproxy/internal/testenv"
)

// quick returns options for a short run against addr.
func quick(addr string) Options {
	o := DefaultOptions()
	o.Target = addr
	o.Conns = 4
	o.Keys = 500
	o.Duration = 300 * time.Millisecond
	return o
}

func TestRunAgainstMemcached(t *testing.T) {
	mc := testenv.StartMemcached(t)
	for _, c := range []struct {
		name string
		edit func(*Options)
	}{
		{"request-reply", func(*Options) {}},
		{"pipelined", func(o *Options) { o.Pipeline = 16 }},
		{"multiget", func(o *Options) { o.MultiGet = 10; o.Pipeline = 4 }},
		{"large values", func(o *Options) { o.ValueSize = 4096; o.GetRatio = 0.5 }},
		{"tiny values", func(o *Options) { o.ValueSize = 1 }},
		{"sets only", func(o *Options) { o.GetRatio = 0; o.Warmup = false }},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := quick(mc.Addr)
			o.KeyPrefix = strings.ReplaceAll(c.name, " ", "-") + ":"
			// Bounded by a count, not by time: how many requests a busy
			// machine answers in a given time is anyone's guess.
			o.Duration = 0
			o.Requests = 400
			c.edit(&o)
			r, err := Run(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			if r.Errors != 0 || r.WarmupErrors != 0 || r.Reconnects != 0 {
				t.Fatalf("errors %d, warm-up errors %d, reconnects %d: %s", r.Errors, r.WarmupErrors, r.Reconnects, r.FirstError)
			}
			if r.Requests != o.Requests || r.Requests != r.Gets+r.Sets {
				t.Fatalf("requests %d, gets %d, sets %d", r.Requests, r.Gets, r.Sets)
			}
			if r.Misses != 0 || r.Hits != r.Gets*int64(o.MultiGet) {
				t.Fatalf("after warm-up: %d hits, %d misses for %d gets of %d keys", r.Hits, r.Misses, r.Gets, o.MultiGet)
			}
			if o.GetRatio == 0 && r.Gets != 0 {
				t.Fatalf("%d gets with get ratio 0", r.Gets)
			}
			if r.OpsPerSec <= 0 || r.Latency.P50 <= 0 || r.Latency.P50 > r.Latency.P99 || r.Latency.P99 > r.Latency.Max {
				t.Fatalf("implausible figures: %+v", r)
			}
		})
	}
}

func TestRunWithoutWarmupMisses(t *testing.T) {
	mc := testenv.StartMemcached(t)
	o := quick(mc.Addr)
	o.Warmup = false
	o.GetRatio = 1
	o.KeyPrefix = "never-set:"
	r, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if r.Hits != 0 || r.Misses != r.Requests || r.Errors != 0 {
		t.Fatalf("hits %d misses %d errors %d of %d requests", r.Hits, r.Misses, r.Errors, r.Requests)
	}
}

func TestRunStopsAtRequestCount(t *testing.T) {
	mc := testenv.StartMemcached(t)
	o := quick(mc.Addr)
	o.Duration = 0
	o.Requests = 1001
	o.Conns = 3
	o.Pipeline = 8
	r, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests != 1001 || r.Gets+r.Sets != 1001 || r.Errors != 0 {
		t.Fatalf("requests %d (gets %d sets %d, errors %d), want exactly 1001", r.Requests, r.Gets, r.Sets, r.Errors)
	}
}

func TestRunAtFixedRate(t *testing.T) {
	mc := testenv.StartMemcached(t)
	o := quick(mc.Addr)
	o.Conns = 20
	o.Rate = 2000
	o.Duration = time.Second
	r, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	// The schedule caps the count; a busy machine may fall short of it.
	if r.Requests < 1000 || r.Requests > 2020 || r.Errors != 0 {
		t.Fatalf("%d requests (errors %d) in 1s at 2000/s", r.Requests, r.Errors)
	}
	if r.Seconds > 1.5 {
		t.Fatalf("a 1s run took %.2fs", r.Seconds)
	}
}

func TestRunReportsProgressAndStopsOnCancel(t *testing.T) {
	mc := testenv.StartMemcached(t)
	o := quick(mc.Addr)
	o.Duration = time.Minute
	o.ProgressInterval = 50 * time.Millisecond
	var calls atomic.Int64
	var lastRequests atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	o.Progress = func(p Progress) {
		if calls.Add(1) == 4 {
			cancel()
		}
		lastRequests.Store(p.Requests)
	}
	start := time.Now()
	r, err := Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("cancelled run took %v", took)
	}
	if calls.Load() < 4 || lastRequests.Load() == 0 || r.Requests < lastRequests.Load() || r.Errors != 0 {
		t.Fatalf("progress calls %d, last requests %d, result requests %d errors %d", calls.Load(), lastRequests.Load(), r.Requests, r.Errors)
	}
}

func TestRunFailsToStart(t *testing.T) {
	o := quick("127.0.0.1:" + strconv.Itoa(testenv.FreePort(t)))
	if _, err := Run(context.Background(), o); err == nil || !strings.Contains(err.Error(), "loadgen: connection 1") {
		t.Errorf("nothing listening: err = %v", err)
	}
	o.Conns = 0
	o.Duration = 0
	if _, err := Run(context.Background(), o); err == nil || !strings.Contains(err.Error(), "conns 0") || !strings.Contains(err.Error(), "duration or a request count") {
		t.Errorf("bad options: err = %v", err)
	}
}

func TestOptionsValidate(t *testing.T) {
	good := DefaultOptions()
	if err := good.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for _, c := range []struct {
		name string
		edit func(*Options)
		want string
	}{
		{"target", func(o *Options) { o.Target = "" }, "target is empty"},
		{"pipeline", func(o *Options) { o.Pipeline = MaxPipeline + 1 }, "pipeline 4097"},
		{"ratio", func(o *Options) { o.GetRatio = 1.5 }, "get ratio 1.5"},
		{"keys", func(o *Options) { o.Keys = 0 }, "keys 0"},
		{"value", func(o *Options) { o.ValueSize = MaxValueSize + 1 }, "value size"},
		{"multiget", func(o *Options) { o.MultiGet = 0 }, "multiget 0"},
		{"negative duration", func(o *Options) { o.Duration = -1 }, "duration -1ns"},
		{"rate", func(o *Options) { o.Rate = -1 }, "rate -1"},
		{"timeout", func(o *Options) { o.Timeout = 0 }, "timeout 0s"},
		{"prefix space", func(o *Options) { o.KeyPrefix = "a b" }, "space or control"},
		{"prefix long", func(o *Options) { o.KeyPrefix = strings.Repeat("k", 241) }, "exceed 250"},
	} {
		o := good
		c.edit(&o)
		if err := o.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
	}
}

func TestResultOutputs(t *testing.T) {
	r := &Result{Target: "t:1", Conns: 2, Pipeline: 1, Requests: 10, Errors: 1, FirstError: "wrong value", OpsPerSec: 5}
	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"target      t:1", "throughput  5 ops/s", "errors      1", "first error wrong value"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text output lacks %q:\n%s", want, b.String())
		}
	}
	js, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"ops_per_sec":5`, `"latency_us":{`, `"p99_9":0`, `"errors":1`} {
		if !strings.Contains(string(js), want) {
			t.Errorf("JSON lacks %s: %s", want, js)
		}
	}
}

func TestWorkerDoesNotAllocatePerRequest(t *testing.T) {
	mc := testenv.StartMemcached(t)
	o := quick(mc.Addr)
	o.Pipeline = 4
	o.MultiGet = 3
	o.GetRatio = 0.7
	o.Duration = time.Hour
	ks := newKeyspace(o.KeyPrefix, o.Keys, o.ValueSize)
	workers, err := dialAll(context.Background(), &o, ks)
	if err != nil {
		t.Fatal(err)
	}
	w := workers[0]
	defer w.conn.Close()
	if _, err := w.warmup(context.Background(), 0, uint32(o.Keys)); err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	w.prepare(time.Now(), &stop, 0)
	step := func() {
		w.sendDue(w.now())
		if err := w.w.Flush(); err != nil {
			t.Fatal(err)
		}
		for w.inflight > 0 {
			if err := w.receive(); err != nil {
				t.Fatal(err)
			}
		}
	}
	step()
	if n := testing.AllocsPerRun(200, step); n != 0 {
		t.Errorf("%v allocations per %d pipelined requests", n, o.Pipeline)
	}
	if w.errors.Load() != 0 || w.hits == 0 || w.misses != 0 {
		t.Errorf("errors %d hits %d misses %d: %s", w.errors.Load(), w.hits, w.misses, w.firstErr)
	}
}

// TestRunOverUnixSocket: a target that is a path is reached over its Unix
// socket.
func TestRunOverUnixSocket(t *testing.T) {
	mc := testenv.StartMemcachedSocket(t)
	o := quick(mc.Addr)
	o.Duration = 0
	o.Requests = 400
	r, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if r.Errors != 0 || r.Requests < 400 || r.Hits == 0 {
		t.Fatalf("requests %d, hits %d, errors %d: %s", r.Requests, r.Hits, r.Errors, r.FirstError)
	}
}
