package upstream

import (
	"bufio"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"hashproxy/internal/proto"
	"hashproxy/internal/testenv"
)

// transition is one up/down change of a Server, with when it happened.
type transition struct {
	up bool
	at time.Time
}

// stateLog records a Server's transitions through Options.OnState.
type stateLog struct {
	mu  sync.Mutex
	got []transition
}

func (l *stateLog) onState(up bool) {
	l.mu.Lock()
	l.got = append(l.got, transition{up, time.Now()})
	l.mu.Unlock()
}

func (l *stateLog) snapshot() []transition {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]transition(nil), l.got...)
}

// load sends a get every few milliseconds for d, so that a node marked up
// meets requests at once.
func load(s *Server, d time.Duration) {
	for end := time.Now().Add(d); time.Now().Before(end); {
		do(s, proto.CmdGet, "get k\r\n")
		time.Sleep(5 * time.Millisecond)
	}
}

// downTimes checks that transitions alternate down, up, down... and
// returns how long each down lasted before the up that ended it.
func downTimes(t *testing.T, ts []transition) []time.Duration {
	t.Helper()
	var out []time.Duration
	for i, tr := range ts {
		if tr.up != (i%2 == 1) {
			t.Fatalf("transition %d is up=%v, want alternating down, up: %v", i, tr.up, ts)
		}
		if tr.up {
			out = append(out, tr.at.Sub(ts[i-1].at))
		}
	}
	return out
}

// TestAnsweringButFailingNodeNotFlapped: a node that answers the probe's
// "version" but never a get goes down and is restored again and again, but
// never sooner than one probe interval after it went down.
func TestAnsweringButFailingNodeNotFlapped(t *testing.T) {
	t.Parallel()
	addr := fakeServer(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			if line == "version\r\n" {
				_, _ = c.Write([]byte("VERSION 1.6.0\r\n"))
			}
		}
	})
	const interval = 150 * time.Millisecond
	var states stateLog
	s := New(Options{Addr: addr, Timeout: 30 * time.Millisecond, FailureLimit: 1, ProbeInterval: interval, OnState: states.onState})
	defer s.Close()
	load(s, 1500*time.Millisecond)

	downs := downTimes(t, states.snapshot())
	if len(downs) < 2 {
		t.Fatalf("restored %d times in 1.5s with a %v probe interval, want at least 2", len(downs), interval)
	}
	for i, d := range downs {
		if d < interval {
			t.Errorf("restore %d came %v after the node went down, sooner than the probe interval %v", i, d, interval)
		}
	}
}

// TestRetryAfterWithoutAnswer: with RetryAfter (server_retry_timeout under
// auto_eject_hosts) a node that never answers is marked up for live
// requests once it has been down that long, not sooner, and goes down again
// when they fail; without it, the node stays down.
func TestRetryAfterWithoutAnswer(t *testing.T) {
	t.Parallel()
	addr := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t)) // nothing listens
	for _, retry := range []time.Duration{0, 300 * time.Millisecond} {
		t.Run("retry_after="+retry.String(), func(t *testing.T) {
			var states stateLog
			s := New(Options{Addr: addr, Timeout: 100 * time.Millisecond, FailureLimit: 1,
				ProbeInterval: 50 * time.Millisecond, RetryAfter: retry, OnState: states.onState})
			defer s.Close()
			load(s, 1200*time.Millisecond)

			ts := states.snapshot()
			downs := downTimes(t, ts)
			if len(ts) == 0 {
				t.Fatal("never marked down")
			}
			if retry == 0 {
				if len(downs) != 0 {
					t.Fatalf("a node that never answered was restored: %v", ts)
				}
				return
			}
			if len(downs) < 2 {
				t.Fatalf("retried %d times in 1.2s with RetryAfter %v, want at least 2: %v", len(downs), retry, ts)
			}
			for i, d := range downs {
				if d < retry {
					t.Errorf("retry %d came %v after the node went down, sooner than %v", i, d, retry)
				}
			}
		})
	}
}

// TestRestoredNodeRedialsAtOnce: a node restarted on its port serves the
// first request after the probe restores it, though its connection was
// waiting out a reconnect backoff.
func TestRestoredNodeRedialsAtOnce(t *testing.T) {
	mc := testenv.StartMemcached(t)
	s := New(Options{Addr: mc.Addr, Timeout: 200 * time.Millisecond, FailureLimit: 1, ProbeInterval: 20 * time.Millisecond})
	defer s.Close()
	if op := do(s, proto.CmdGet, "get k\r\n"); op.Err != nil {
		t.Fatal(op.Err)
	}
	mc.Stop()
	// Let the connection's backoff grow to its ceiling.
	deadline := time.Now().Add(3 * time.Second)
	for s.Up() && time.Now().Before(deadline) {
		do(s, proto.CmdGet, "get k\r\n")
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(4 * maxBackoff)
	testenv.RestartMemcached(t, mc)
	for !s.Up() && time.Now().Before(deadline.Add(3*time.Second)) {
		time.Sleep(time.Millisecond)
	}
	if !s.Up() {
		t.Fatal("not restored after the restart")
	}
	op := do(s, proto.CmdGet, "get k\r\n")
	if op.Err != nil {
		t.Fatalf("first request after the restore: %v", op.Err)
	}
}
