package proxy

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"hashproxy/internal/testenv"
)

// startNodes starts n memcached processes and returns them with their
// addresses.
func startNodes(t *testing.T, n int) ([]*testenv.Process, []string) {
	t.Helper()
	var procs []*testenv.Process
	var addrs []string
	for i := 0; i < n; i++ {
		mc := testenv.StartMemcached(t)
		procs = append(procs, mc)
		addrs = append(addrs, mc.Addr)
	}
	return procs, addrs
}

// signal sends sig to a memcached this test started. For SIGSTOP it also
// waits until every thread of the process has stopped: on a busy machine
// that can take a while, and the test times its window from then.
func signal(t *testing.T, p *testenv.Process, sig syscall.Signal) {
	t.Helper()
	if err := syscall.Kill(p.PID(), sig); err != nil {
		t.Fatalf("signal %v to memcached %d: %v", sig, p.PID(), err)
	}
	if sig != syscall.SIGSTOP {
		return
	}
	deadline := time.Now().Add(5 * time.Second)
	for !allThreadsStopped(p.PID()) {
		if time.Now().After(deadline) {
			t.Fatalf("memcached %d not stopped 5s after SIGSTOP", p.PID())
		}
		time.Sleep(time.Millisecond)
	}
}

// allThreadsStopped reports whether every thread of pid is in state T
// (stopped), from /proc/PID/task/*/stat.
func allThreadsStopped(pid int) bool {
	stats, err := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/stat")
	if err != nil || len(stats) == 0 {
		return false
	}
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			return false
		}
		// The state follows the command name, which is in parentheses.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 || i+2 >= len(b) || (b[i+2] != 'T' && b[i+2] != 't') {
			return false
		}
	}
	return true
}

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

// TestKilledNodeComesBack kills a node (SIGKILL) and starts a new memcached
// on its port: the node is marked down (hashproxy_server_up 0, one log
// line), its requests fail fast, and it serves again within 2s of the
// restart (server_up 1, one log line).
func TestKilledNodeComesBack(t *testing.T) {
	procs, addrs := startNodes(t, 3)
	pc := faultPool(addrs...)
	core, logs := observer.New(zap.InfoLevel)
	tp := startPool(t, pc, zap.New(core))
	const victim = 1
	keys := keysOn(t, pc, pc.Servers, victim, 10, "k")
	mc := dialRaw(t, tp.addr)
	for _, k := range keys {
		if line, err := mc.set(k, "v"); err != nil || line != "STORED" {
			t.Fatalf("set %s: %q %v", k, line, err)
		}
	}

	procs[victim].Stop()
	waitFor(t, 3*time.Second, "server_up 0", func() bool { return serverGauge(t, tp, "hashproxy_server_up", addrs[victim]) == 0 })
	start := time.Now()
	line, err := mc.set(keys[0], "v")
	if err != nil || line != "SERVER_ERROR "+addrs[victim]+" server is down" {
		t.Fatalf("set on a down node: %q %v", line, err)
	}
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Errorf("a request to a down node took %v, want it to fail fast", d)
	}
	if n := gathered(t, tp.reg, "hashproxy_upstream_errors_total", map[string]string{"server": addrs[victim], "kind": "down"}); n < 1 {
		t.Errorf("upstream_errors_total{kind=down} = %v, want at least 1", n)
	}

	testenv.RestartMemcached(t, procs[victim])
	back := waitFor(t, 2*time.Second, "serving after restart", func() bool {
		line, err := mc.set(keys[0], "again")
		return err == nil && line == "STORED"
	})
	t.Logf("node serving %v after its restart", back)
	for _, k := range keys {
		if line, err := mc.set(k, "again"); err != nil || line != "STORED" {
			t.Fatalf("set %s after restart: %q %v", k, line, err)
		}
	}
	if up := serverGauge(t, tp, "hashproxy_server_up", addrs[victim]); up != 1 {
		t.Errorf("server_up = %v after the node came back", up)
	}
	for _, msg := range []string{"server down", "server up"} {
		if n := logs.FilterMessage(msg).FilterField(zap.String("server", addrs[victim])).Len(); n != 1 {
			t.Errorf("%d %q log lines, want 1", n, msg)
		}
	}
}

// pipelined writes all of reqs at once and reads one reply per request:
// a line, or VALUE blocks up to END for the gets.
func pipelined(t *testing.T, c net.Conn, br *bufio.Reader, reqs ...string) []string {
	t.Helper()
	if _, err := io.WriteString(c, strings.Join(reqs, "")); err != nil {
		t.Fatal(err)
	}
	replies := make([]string, len(reqs))
	for i, r := range reqs {
		var sb strings.Builder
		for {
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			l, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("reply %d to %q: %v (so far %q)", i, r, err, sb.String())
			}
			sb.WriteString(l)
			if !strings.HasPrefix(r, "get ") || !strings.HasPrefix(l, "VALUE ") {
				break
			}
			data, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("reply %d to %q: %v", i, r, err)
			}
			sb.WriteString(data)
		}
		replies[i] = sb.String()
	}
	return replies
}

// TestMisbehavingNode puts a node that never answers, one that closes in
// the middle of a reply, and one that answers garbage behind a proxy with
// two real nodes: its requests fail with SERVER_ERROR within the timeout,
// the other nodes' requests are served at once, and the client connection
// stays usable.
func TestMisbehavingNode(t *testing.T) {
	for _, tc := range []struct {
		name   string
		behave func(net.Conn)
	}{
		{"never answers", fakeSilent},
		{"closes mid reply", fakeHalfReply},
		{"answers garbage", fakeGarbage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, addrs := startNodes(t, 2)
			fake := startFake(t, tc.behave)
			pc := faultPool(append(addrs, fake.Addr)...)
			tp := startPool(t, pc, nil)
			g0 := keysOn(t, pc, pc.Servers, 0, 1, "g")[0]
			g1 := keysOn(t, pc, pc.Servers, 1, 1, "g")[0]
			bad := keysOn(t, pc, pc.Servers, 2, 2, "b")

			// A client of the healthy nodes only, meanwhile.
			var slowest atomic.Int64
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(1)
			other := dialRaw(t, tp.addr)
			go func() {
				defer wg.Done()
				for i := 0; i < 100_000; i++ {
					select {
					case <-stop:
						return
					default:
					}
					start := time.Now()
					if line, err := other.set(g1, "x"); err != nil || line != "STORED" {
						t.Errorf("healthy node's key: %q %v", line, err)
						return
					}
					slowest.Store(max(slowest.Load(), int64(time.Since(start))))
				}
			}()

			c, err := net.DialTimeout("tcp", tp.addr, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			br := bufio.NewReader(c)
			start := time.Now()
			got := pipelined(t, c, br,
				"set "+g0+" 0 0 2\r\nv0\r\n",
				"get "+bad[0]+"\r\n",
				"set "+bad[1]+" 0 0 1\r\nx\r\n",
				"get "+g0+"\r\n",
				"get "+bad[0]+" "+g0+" "+bad[1]+"\r\n",
			)
			took := time.Since(start)
			close(stop)
			wg.Wait()
			failure := "SERVER_ERROR " + fake.Addr + " "
			want := []string{"STORED\r\n", failure, failure, "VALUE " + g0 + " 0 2\r\nv0\r\nEND\r\n", "VALUE " + g0 + " 0 2\r\nv0\r\nEND\r\n"}
			for i := range want {
				if got[i] != want[i] && !(want[i] == failure && strings.HasPrefix(got[i], failure) && strings.HasSuffix(got[i], "\r\n")) {
					t.Errorf("reply %d = %q, want %q", i, got[i], want[i])
				}
			}
			if limit := 3*pc.Timeout + 300*time.Millisecond; took > limit {
				t.Errorf("pipeline took %v, want within %v", took, limit)
			}
			if d := time.Duration(slowest.Load()); d > 100*time.Millisecond {
				t.Errorf("a healthy node's request took %v meanwhile", d)
			}
			if got := pipelined(t, c, br, "version\r\n", "get "+g0+"\r\n"); got[0] != "VERSION test\r\n" || !strings.HasPrefix(got[1], "VALUE "+g0) {
				t.Errorf("connection after the failures: %q", got)
			}
		})
	}
}

// TestAutoEject shows where a down node's keys go, and where they go once
// it is back, with auto_eject_hosts on (to the survivors, by the ring
// rebuilt without it) and off (nowhere: they fail fast).
func TestAutoEject(t *testing.T) {
	for _, eject := range []bool{true, false} {
		name := map[bool]string{true: "on", false: "off"}[eject]
		t.Run(name, func(t *testing.T) {
			procs, addrs := startNodes(t, 3)
			pc := faultPool(addrs...)
			pc.AutoEjectHosts = eject
			tp := startPool(t, pc, nil)
			const victim = 2
			keys := keysOn(t, pc, pc.Servers, victim, 10, "k")
			others := keysOn(t, pc, pc.Servers, 0, 5, "o")
			mc := dialRaw(t, tp.addr)

			procs[victim].Stop()
			waitFor(t, 3*time.Second, "server_up 0", func() bool { return serverGauge(t, tp, "hashproxy_server_up", addrs[victim]) == 0 })
			survivors := without(pc.Servers, victim)
			for _, k := range keys {
				line, err := mc.set(k, "while-down")
				if err != nil {
					t.Fatal(err)
				}
				if !eject {
					if line != "SERVER_ERROR "+addrs[victim]+" server is down" {
						t.Fatalf("set %s with the owner down: %q", k, line)
					}
					continue
				}
				if line != "STORED" {
					t.Fatalf("set %s with the owner ejected: %q", k, line)
				}
				owner := survivors[placement(t, pc, survivors).Pick([]byte(k))]
				if hits, _, err := dialRaw(t, owner.Addr).get(k); err != nil || hits[k] != "while-down" {
					t.Fatalf("%s not stored on %s, its owner in the ring without %s: %v %v", k, owner.Addr, addrs[victim], hits, err)
				}
			}
			for _, k := range others {
				if line, err := mc.set(k, "o"); err != nil || line != "STORED" {
					t.Fatalf("set %s on a live node: %q %v", k, line, err)
				}
				if hits, _, err := dialRaw(t, addrs[0]).get(k); err != nil || hits[k] != "o" {
					t.Fatalf("%s moved off its live owner: %v %v", k, hits, err)
				}
			}

			testenv.RestartMemcached(t, procs[victim])
			waitFor(t, 2*time.Second, "server_up 1", func() bool { return serverGauge(t, tp, "hashproxy_server_up", addrs[victim]) == 1 })
			waitFor(t, 2*time.Second, "serving after restart", func() bool {
				line, err := mc.set(keys[0], "back")
				return err == nil && line == "STORED"
			})
			direct := dialRaw(t, addrs[victim])
			for _, k := range keys {
				if line, err := mc.set(k, "back"); err != nil || line != "STORED" {
					t.Fatalf("set %s after the owner came back: %q %v", k, line, err)
				}
				if hits, _, err := direct.get(k); err != nil || hits[k] != "back" {
					t.Fatalf("%s not back on its owner: %v %v", k, hits, err)
				}
			}
		})
	}
}

// TestMultiGetWithNodesDown: a multi-key get returns the hits of the nodes
// that answer, in the client's key order, and counts the keys of a failed
// node as misses; when every node fails, the client gets the first failure.
func TestMultiGetWithNodesDown(t *testing.T) {
	procs, addrs := startNodes(t, 3)
	pc := faultPool(addrs...)
	tp := startPool(t, pc, nil)
	var keys []string
	var want strings.Builder
	mc := dialRaw(t, tp.addr)
	for i := 0; i < 2; i++ { // interleave the nodes' keys
		for n := 0; n < 3; n++ {
			k := keysOn(t, pc, pc.Servers, n, 2, "m")[i]
			keys = append(keys, k)
			if line, err := mc.set(k, k+"!"); err != nil || line != "STORED" {
				t.Fatalf("set %s: %q %v", k, line, err)
			}
			if n != 1 {
				want.WriteString("VALUE " + k + " 0 " + strconv.Itoa(len(k)+1) + "\r\n" + k + "!\r\n")
			}
		}
	}
	want.WriteString("END\r\n")
	get := "get " + strings.Join(keys, " ") + "\r\n"

	procs[1].Stop()
	c, err := net.DialTimeout("tcp", tp.addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	for round := 0; round < 3; round++ { // failing on the connection, then marked down
		if got := pipelined(t, c, br, get)[0]; got != want.String() {
			t.Fatalf("round %d with %s down:\n got %q\nwant %q", round, addrs[1], got, want.String())
		}
	}
	if errs := gathered(t, tp.reg, "hashproxy_upstream_errors_total", map[string]string{"server": addrs[1]}); errs < 3 {
		t.Errorf("upstream_errors_total of the down node = %v, want 3", errs)
	}

	procs[0].Stop()
	procs[2].Stop()
	got := pipelined(t, c, br, get)[0]
	if !strings.HasPrefix(got, "SERVER_ERROR "+addrs[0]+" ") || strings.Count(got, "\n") != 1 {
		t.Errorf("all nodes down: %q, want the SERVER_ERROR of the first key's node %s", got, addrs[0])
	}
}
