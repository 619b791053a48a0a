package proxy

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"os"
	"path/filepath"
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
