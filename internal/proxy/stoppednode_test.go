package proxy

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// percentile returns the p-th percentile (0 < p <= 1) of ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

// loadSample is one request of the load in TestStoppedNodeUnderLoad.
type loadSample struct {
	start   time.Time
	took    time.Duration
	sick    bool // for a key of the stopped node
	ok      bool // answered as memcached would
	failure string
}

// TestStoppedNodeUnderLoad stops one of three nodes (SIGSTOP) under load
// from many connections: the other nodes' keys keep being served at the
// same latency, the stopped node's keys fail with SERVER_ERROR within the
// timeout, and after SIGCONT the node serves again within a second.
func TestStoppedNodeUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("a fault script: a node stopped for seconds under load")
	}
	procs, addrs := startNodes(t, 3)
	pc := faultPool(addrs...)
	tp := startPool(t, pc, nil)
	const stopped = 2
	var healthy []string
	for i := 0; i < 3; i++ {
		if i != stopped {
			healthy = append(healthy, keysOn(t, pc, pc.Servers, i, 20, "k")...)
		}
	}
	sick := keysOn(t, pc, pc.Servers, stopped, 20, "k")

	const clients = 20
	var done atomic.Bool
	samples := make([][]loadSample, clients)
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		mc := dialRaw(t, tp.addr)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !done.Load() && i < 1_000_000; i++ {
				s := loadSample{sick: i%4 == 3}
				key := healthy[(c*7+i)%len(healthy)]
				if s.sick {
					key = sick[(c+i)%len(sick)]
				}
				s.start = time.Now()
				var err error
				if i%2 == 0 {
					var line string
					line, err = mc.set(key, key+"-v")
					s.ok, s.failure = line == "STORED", line
				} else {
					var hits map[string]string
					var last string
					hits, last, err = mc.get(key)
					v, hit := hits[key]
					s.ok, s.failure = last == "END" && len(hits) == boolInt(hit) && (!hit || v == key+"-v"), last
				}
				s.took = time.Since(s.start)
				if err != nil {
					s.ok, s.failure = false, "connection: "+err.Error()
					samples[c] = append(samples[c], s)
					return
				}
				samples[c] = append(samples[c], s)
			}
		}()
	}

	time.Sleep(time.Second)
	signal(t, procs[stopped], syscall.SIGSTOP)
	stopAt := time.Now()
	time.Sleep(1500 * time.Millisecond)
	contAt := time.Now() // before the signal: whatever completes before it completed while stopped
	signal(t, procs[stopped], syscall.SIGCONT)
	time.Sleep(1500 * time.Millisecond)
	done.Store(true)
	wg.Wait()

	var before, during []time.Duration
	firstBack := time.Duration(-1)
	sickFailures := 0
	for c, ss := range samples {
		for _, s := range ss {
			if strings.HasPrefix(s.failure, "connection: ") {
				t.Fatalf("client %d lost its connection: %s", c, s.failure)
			}
			switch {
			case !s.sick:
				if !s.ok {
					t.Fatalf("client %d: healthy key failed at %v: %q", c, s.start.Sub(stopAt), s.failure)
				}
				if s.start.Before(stopAt) {
					before = append(before, s.took)
				} else if s.start.Before(contAt) {
					during = append(during, s.took)
				}
			case s.start.After(stopAt.Add(10*time.Millisecond)) && s.start.Add(s.took).Before(contAt):
				if s.ok || !strings.HasPrefix(s.failure, "SERVER_ERROR "+addrs[stopped]+" ") {
					t.Fatalf("client %d: stopped node's key answered %q (ok %v)", c, s.failure, s.ok)
				}
				if s.took > pc.Timeout+200*time.Millisecond {
					t.Errorf("client %d: stopped node's key failed after %v, want within the timeout %v", c, s.took, pc.Timeout)
				}
				sickFailures++
			case s.start.After(contAt) && s.ok:
				if back := s.start.Add(s.took).Sub(contAt); firstBack < 0 || back < firstBack {
					firstBack = back
				}
			case s.start.After(contAt.Add(time.Second)):
				t.Errorf("client %d: stopped node's key still failing %v after SIGCONT: %q", c, s.start.Sub(contAt), s.failure)
			}
		}
	}
	p99Before, p99During := percentile(before, 0.99), percentile(during, 0.99)
	t.Logf("healthy keys: p99 %v over %d requests before SIGSTOP, %v over %d during; p50 %v, %v; %d stopped-node requests failed; serving again %v after SIGCONT",
		p99Before, len(before), p99During, len(during), percentile(before, 0.5), percentile(during, 0.5), sickFailures, firstBack)
	if len(before) < 100 || len(during) < 100 || sickFailures == 0 {
		t.Fatalf("too little load: %d before, %d during, %d failures", len(before), len(during), sickFailures)
	}
	if limit := 3*p99Before + 20*time.Millisecond; p99During > limit {
		t.Errorf("healthy p99 rose from %v to %v while a node was stopped (limit %v)", p99Before, p99During, limit)
	}
	if firstBack < 0 || firstBack > time.Second {
		t.Errorf("stopped node serving again %v after SIGCONT, want within 1s", firstBack)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
