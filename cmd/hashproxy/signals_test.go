package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"hashproxy/internal/ring"
	"hashproxy/internal/testenv"
)

// configPath returns the configuration file a started binary runs with.
func configPath(t *testing.T, rp *runningProxy) string {
	t.Helper()
	for i, a := range rp.cmd.Args {
		if a == "--config" && i+1 < len(rp.cmd.Args) {
			return rp.cmd.Args[i+1]
		}
	}
	t.Fatal("no --config argument")
	return ""
}

// replaceFile rewrites path the way a ConfigMap update does: a new file
// renamed over the old one.
func replaceFile(t *testing.T, path string, body []byte) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), ".new")
	if err := os.WriteFile(tmp, body, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// waitMetric polls the admin endpoint until the sample named series (with
// its labels, as exposed) has value want.
func waitMetric(t *testing.T, admin, series string, want float64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	last := "absent"
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + admin + "/metrics")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			for _, line := range strings.Split(string(body), "\n") {
				if v, ok := strings.CutPrefix(line, series+" "); ok {
					last = v
					if f, err := strconv.ParseFloat(v, 64); err == nil && f == want {
						return
					}
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s = %s, want %v", series, last, want)
}

// checkPlacement sets keys through the proxy and checks each is on the
// node that a ring over servers (md5, ketama, weight 1) owns it by.
func checkPlacement(t *testing.T, proxyAddr, prefix string, servers []*testenv.Process) {
	t.Helper()
	rn := make([]ring.Node, len(servers))
	for i, s := range servers {
		rn[i] = ring.Node{Addr: s.Addr, Weight: 1}
	}
	r, err := ring.New(rn, ring.Options{Hash: "md5", Distribution: "ketama"})
	if err != nil {
		t.Fatal(err)
	}
	c := patientClient(proxyAddr)
	direct := make(map[string]*memcache.Client)
	for _, s := range servers {
		direct[s.Addr] = patientClient(s.Addr)
	}
	used := make(map[string]bool)
	for i := range 100 {
		k := prefix + strconv.Itoa(i)
		if err := c.Set(&memcache.Item{Key: k, Value: []byte(k)}); err != nil {
			t.Fatal(err)
		}
		owner := servers[r.Pick([]byte(k))].Addr
		used[owner] = true
		if it, err := direct[owner].Get(k); err != nil || string(it.Value) != k {
			t.Fatalf("%s is not on %s, its owner: %v", k, owner, err)
		}
	}
	if len(used) != len(servers) {
		t.Errorf("keys landed on %d of %d servers", len(used), len(servers))
	}
}

// patientClient returns a gomemcache client for addr whose timeout (5 s,
// not the default 500ms) outlasts a stall of a busy machine.
func patientClient(addr string) *memcache.Client {
	c := memcache.New(addr)
	c.Timeout = 5 * time.Second
	return c
}

func TestServeReloadsOnSIGHUP(t *testing.T) {
	a, b, c := testenv.StartMemcached(t), testenv.StartMemcached(t), testenv.StartMemcached(t)
	// A node timeout that outlasts a stall of a busy machine.
	rp := startBinary(t, []*testenv.Process{a, b}, "    hash: md5\n    timeout: 5s\n")
	path := configPath(t, rp)
	checkPlacement(t, rp.addr, "before:", []*testenv.Process{a, b})

	client, err := net.DialTimeout("tcp", rp.addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	br := bufio.NewReader(client)
	roundTrip := func(req, want string) {
		t.Helper()
		_ = client.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.WriteString(client, req); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, len(want))
		if _, err := io.ReadFull(br, got); err != nil || string(got) != want {
			t.Fatalf("%q: got %q (%v), want %q", req, got, err, want)
		}
	}
	roundTrip("set kept 0 0 1\r\nk\r\n", "STORED\r\n")

	// b out, c in.
	old, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	body := strings.Replace(string(old), b.Addr+":1", c.Addr+":1", 1)
	replaceFile(t, path, []byte(body))
	if err := rp.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitMetric(t, rp.admin, `hashproxy_config_reloads_total{result="success"}`, 1)
	roundTrip("version\r\n", "VERSION ") // the connection made before the reload is served on
	if _, err := br.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	checkPlacement(t, rp.addr, "after:", []*testenv.Process{a, c})

	// A broken file is rejected and the running ring stays.
	replaceFile(t, path, []byte("pools:\n  main:\n    listen: [\n"))
	if err := rp.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitMetric(t, rp.admin, `hashproxy_config_reloads_total{result="failure"}`, 1)
	checkPlacement(t, rp.addr, "broken:", []*testenv.Process{a, c})

	out, err := exec.Command(hashproxyBinary(t), "healthcheck", "--url", "http://"+rp.admin+"/healthz").CombinedOutput()
	if err != nil {
		t.Errorf("healthcheck against the running proxy: %v\n%s", err, out)
	}
	if err := rp.stop(t); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	logs := rp.output.String()
	for _, want := range []string{"configuration reloaded", "configuration reload rejected", path + ":3"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log does not mention %q", want)
		}
	}
}

func TestServeSIGHUPWithoutConfigFile(t *testing.T) {
	mc := testenv.StartMemcached(t)
	port := testenv.FreePort(t)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command(hashproxyBinary(t), "serve", "--listen", addr, "--server", mc.Addr+":1", "--admin-listen", "")
	var out safeBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	waitLog := func(want string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(out.String(), want) {
			if time.Now().After(deadline) {
				t.Fatalf("the log never said %q:\n%s", want, out.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitLog("hashproxy started")
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitLog("nothing to reload")
	if err := patientClient(addr).Set(&memcache.Item{Key: "k", Value: []byte("v")}); err != nil {
		t.Errorf("after SIGHUP: %v", err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		exited <- err
		if err != nil {
			t.Errorf("exit: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no exit after SIGTERM")
	}
}

// safeBuffer is an output buffer a test can read while a process writes to
// it.
type safeBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestServeSIGTERMAnswersEverySentRequest(t *testing.T) {
	nodes := []*testenv.Process{testenv.StartMemcached(t), testenv.StartMemcached(t)}
	// A generous node timeout: on a busy machine a burst of 8,000 requests
	// can take memcached longer than the default 400ms, and that would be
	// a timeout, not the drain this test is about.
	rp := startBinary(t, nodes, "    hash: md5\n    timeout: 5s\n")
	const conns, pairs = 4, 1000

	var written, done sync.WaitGroup
	errs := make(chan error, conns)
	answered := make([]int, conns)
	for id := range conns {
		nc, err := net.DialTimeout("tcp", rp.addr, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		_ = nc.SetDeadline(time.Now().Add(20 * time.Second))
		var req []byte
		for i := range pairs {
			k := fmt.Sprintf("term:%d:%d", id, i)
			req = fmt.Appendf(req, "set %s 0 0 %d\r\n%s\r\nget %s\r\n", k, len(k), k, k)
		}
		written.Add(1)
		done.Add(2)
		go func() {
			defer done.Done()
			defer written.Done()
			if _, err := nc.Write(req); err != nil {
				errs <- fmt.Errorf("connection %d: write: %w", id, err)
			}
		}()
		go func() {
			defer done.Done()
			br := bufio.NewReader(nc)
			for i := range pairs {
				k := fmt.Sprintf("term:%d:%d", id, i)
				want := fmt.Sprintf("STORED\r\nVALUE %s 0 %d\r\n%s\r\nEND\r\n", k, len(k), k)
				got := make([]byte, len(want))
				if _, err := io.ReadFull(br, got); err != nil || string(got) != want {
					errs <- fmt.Errorf("connection %d, pair %d: got %q (%v), want %q", id, i, got, err, want)
					return
				}
				answered[id]++
			}
			// Then the proxy closes the connection.
			if n, err := br.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
				errs <- fmt.Errorf("connection %d after its replies: read %d bytes, %v; want EOF", id, n, err)
			}
		}()
	}
	written.Wait()
	if err := rp.stop(t); err != nil {
		t.Errorf("exit after SIGTERM: %v", err)
	}
	done.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	t.Logf("replies read per connection: %v", answered)
}
