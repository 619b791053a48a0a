package proxy

import (
	"bufio"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"hashproxy/internal/testenv"
)

// victimSample is one request for a key of the node the test stops.
type victimSample struct {
	start, end time.Time
	ok         bool
	reply      string
}

// pipeliningClient sends batches of pipelined requests, half of them for
// the victim node's keys, until done is set, and records each victim
// request; a reply that is wrong for its request fails the test.
func pipeliningClient(t *testing.T, addr string, id int, healthy, victim []string, done *atomic.Bool, out *[]victimSample) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Error(err)
		return
	}
	defer c.Close()
	br := bufio.NewReader(c)
	const batch = 8
	var req strings.Builder
	keys := make([]string, batch)
	for round := 0; !done.Load() && round < 1_000_000; round++ {
		req.Reset()
		for i := range keys {
			n := id*131 + round*batch + i
			if i%2 == 0 {
				keys[i] = victim[n%len(victim)]
			} else {
				keys[i] = healthy[n%len(healthy)]
			}
			if round%2 == 0 {
				req.WriteString("set " + keys[i] + " 0 0 1\r\nv\r\n")
			} else {
				req.WriteString("get " + keys[i] + "\r\n")
			}
		}
		start := time.Now()
		_ = c.SetDeadline(start.Add(5 * time.Second))
		if _, err := io.WriteString(c, req.String()); err != nil {
			t.Errorf("client %d: write: %v", id, err)
			return
		}
		for i, k := range keys {
			reply, err := readReply(br)
			if err != nil {
				t.Errorf("client %d: reply to %s: %v", id, k, err)
				return
			}
			var ok bool
			if round%2 == 0 {
				ok = reply == "STORED\r\n"
			} else {
				ok = reply == "END\r\n" || reply == "VALUE "+k+" 0 1\r\nv\r\nEND\r\n"
			}
			if !ok && !strings.HasPrefix(reply, "SERVER_ERROR ") {
				t.Errorf("client %d: %q answered %q", id, k, reply)
				return
			}
			if i%2 == 1 {
				if !ok {
					t.Errorf("client %d: healthy key %s answered %q", id, k, reply)
					return
				}
				continue
			}
			*out = append(*out, victimSample{start: start, end: time.Now(), ok: ok, reply: reply})
		}
	}
}

// readReply reads one reply: a line, or VALUE blocks up to END.
func readReply(br *bufio.Reader) (string, error) {
	var sb strings.Builder
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			return sb.String(), err
		}
		sb.WriteString(l)
		if !strings.HasPrefix(l, "VALUE ") {
			return sb.String(), nil
		}
		data, err := br.ReadString('\n')
		if err != nil {
			return sb.String(), err
		}
		sb.WriteString(data)
	}
}

// backWithin checks the victim's requests around an event at `at` (a
// SIGCONT or a restart): every request sent more than limit after it
// succeeded. It returns when the last one that failed was sent, which is
// how long the node took to be back.
func backWithin(t *testing.T, what string, samples []victimSample, at, until time.Time, limit time.Duration) time.Duration {
	t.Helper()
	first, lastFail := time.Duration(-1), time.Duration(0)
	late := 0
	for _, s := range samples {
		if s.start.Before(at) || !s.end.Before(until) {
			continue
		}
		if s.ok {
			if d := s.end.Sub(at); first < 0 || d < first {
				first = d
			}
			continue
		}
		lastFail = max(lastFail, s.start.Sub(at))
		if s.start.Sub(at) > limit {
			if late == 0 {
				t.Errorf("%s: a request sent %v after it failed: %q", what, s.start.Sub(at), s.reply)
			}
			late++
		}
	}
	if late > 0 {
		t.Errorf("%s: %d requests sent more than %v after it failed", what, late, limit)
	}
	if first < 0 {
		t.Errorf("%s: no request succeeded", what)
	}
	return lastFail
}

// TestRecoveredNodeBackWithinASecond stops a node (SIGSTOP, then SIGCONT),
// then kills it and starts a new memcached on its port, under load from 32
// pipelining connections, with a twemproxy-style server_retry_timeout of
// 10s and 30s: each time, the node's keys succeed again within a second
// of it answering, because health_check_interval, not
// server_retry_timeout, paces the probe.
func TestRecoveredNodeBackWithinASecond(t *testing.T) {
	if testing.Short() {
		t.Skip("three memcached, 32 clients and 6s of load per case")
	}
	for _, retry := range []time.Duration{10 * time.Second, 30 * time.Second} {
		t.Run("server_retry_timeout="+retry.String(), func(t *testing.T) {
			procs, addrs := startNodes(t, 3)
			pc := faultPool(addrs...)
			pc.ServerRetryTimeout = retry
			pc.HealthCheckInterval = 200 * time.Millisecond // the default, stated
			pc.ServerFailureLimit = 2
			pc.AutoEjectHosts = false
			pc.Timeout = 600 * time.Millisecond // healthy nodes must not time out on a busy machine
			tp := startPool(t, pc, nil)
			const victimNode = 1
			victim := keysOn(t, pc, pc.Servers, victimNode, 50, "key:")
			var healthy []string
			for i := range pc.Servers {
				if i != victimNode {
					healthy = append(healthy, keysOn(t, pc, pc.Servers, i, 50, "key:")...)
				}
			}

			const clients = 32
			var done atomic.Bool
			samples := make([][]victimSample, clients)
			var wg sync.WaitGroup
			for c := 0; c < clients; c++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					pipeliningClient(t, tp.addr, c, healthy, victim, &done, &samples[c])
				}()
			}

			time.Sleep(time.Second)
			signal(t, procs[victimNode], syscall.SIGSTOP)
			time.Sleep(2500 * time.Millisecond) // two timeouts and more: the node is marked down
			contAt := time.Now()
			signal(t, procs[victimNode], syscall.SIGCONT)
			time.Sleep(1500 * time.Millisecond)
			procs[victimNode].Stop()
			time.Sleep(1500 * time.Millisecond)
			restartAt := time.Now()
			testenv.RestartMemcached(t, procs[victimNode])
			time.Sleep(1500 * time.Millisecond)
			done.Store(true)
			wg.Wait()

			var all []victimSample
			for _, s := range samples {
				all = append(all, s...)
			}
			for _, at := range []time.Time{contAt, restartAt} {
				down := 0
				for _, s := range all {
					if s.end.Before(at) && strings.HasSuffix(s.reply, " server is down\r\n") {
						down++
					}
				}
				if down == 0 {
					t.Fatalf("the node was never marked down before %v: the test proves nothing", at)
				}
			}
			afterCont := backWithin(t, "SIGCONT", all, contAt, contAt.Add(1500*time.Millisecond), time.Second)
			afterRestart := backWithin(t, "restart", all, restartAt, time.Now(), time.Second)
			t.Logf("%d victim-node requests; last failure sent %v after SIGCONT, %v after the restart", len(all), afterCont, afterRestart)
		})
	}
}
