package proxy

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"hashproxy/internal/testenv"
)

// Memory budgets of the abuse scenarios, for the hashproxy process's
// resident set (VmRSS, or VmHWM for a peak).
const (
	idleConns      = 10_000
	idleBudgetMiB  = 100 // issue 7's figure for 10,000 idle connections
	burstBudgetMiB = 100
	hogBudgetMiB   = 100
	// hogGrowthMiB is how much the resident set may still grow once the
	// client that never reads has filled its in-flight queue.
	hogGrowthMiB = 8
)

// TestMemoryUnderAbuse runs the hashproxy binary (built without the race
// detector) in front of one memcached and measures its resident memory
// under three kinds of abuse: many idle connections, many clients
// pipelining at once, and one client pipelining large gets without ever
// reading a reply. Run it with -v for the figures.
func TestMemoryUnderAbuse(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc/PID/status")
	}
	if testing.Short() {
		t.Skip("builds the binary and opens 10,000 connections")
	}
	raiseFileLimit(t, idleConns+1000)
	bin := testenv.Hashproxy(t, false) // without the race detector: memory as users get it
	mc := testenv.StartMemcached(t)
	// Each scenario gets a fresh process: memory freed by one is not
	// returned to the system at once and would count in the next.
	start := func(t *testing.T) *hashproxyProc {
		hp := startHashproxy(t, bin, mc.Addr, "client_connections: 20000")
		t.Logf("started: %s", hp.memory(t))
		return hp
	}

	t.Run("idle_connections", func(t *testing.T) {
		hp := start(t)
		conns := dialIdle(t, hp.addr, idleConns)
		rss := hp.memory(t)
		t.Logf("%d idle connections: %s", len(conns), rss)
		if rss.rss > idleBudgetMiB<<10 {
			t.Errorf("resident set %s over %d MiB", rss, idleBudgetMiB)
		}
	})

	t.Run("pipelining_clients", func(t *testing.T) {
		hp := start(t)
		pipelineBurst(t, hp.addr, 1000, 100)
		rss := hp.memory(t)
		t.Logf("1,000 clients pipelining 100 gets each: %s", rss)
		if rss.hwm > burstBudgetMiB<<10 {
			t.Errorf("peak resident set %s over %d MiB", rss, burstBudgetMiB)
		}
	})

	t.Run("client_never_reads", func(t *testing.T) {
		hp := start(t)
		first, last := hogNeverReads(t, hp)
		t.Logf("one client pipelining 100,000 gets of 100 KiB without reading: after 1s %s, after 4s %s", first, last)
		if last.hwm > hogBudgetMiB<<10 {
			t.Errorf("peak resident set %s over %d MiB", last, hogBudgetMiB)
		}
		if grew := last.rss - first.rss; grew > hogGrowthMiB<<10 {
			t.Errorf("resident set grew by %d KiB while the client was stalled", grew)
		}
	})
}

// raiseFileLimit raises this process's open-file limit to at least n, or
// skips the test.
func raiseFileLimit(t *testing.T, n uint64) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skipf("getrlimit: %v", err)
	}
	if lim.Cur >= n {
		return
	}
	if lim.Max < n {
		t.Skipf("needs %d open files, the hard limit is %d (raise it with ulimit -Hn)", n, lim.Max)
	}
	lim.Cur = n
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skipf("raising the open-file limit to %d: %v", n, err)
	}
}

// hashproxyProc is a hashproxy process started by a test.
type hashproxyProc struct {
	cmd    *exec.Cmd
	addr   string
	output bytes.Buffer
}

// startHashproxy runs bin serving one pool over server, with extra pool
// settings (YAML lines).
func startHashproxy(t *testing.T, bin, server string, extra ...string) *hashproxyProc {
	t.Helper()
	dir := t.TempDir()
	port := testenv.FreePort(t)
	hp := &hashproxyProc{addr: "127.0.0.1:" + strconv.Itoa(port)}
	cfg := "admin:\n  listen: \"\"\npools:\n  main:\n    listen: " + hp.addr + "\n"
	for _, e := range extra {
		cfg += "    " + e + "\n"
	}
	cfg += "    servers:\n      - " + server + ":1\n"
	path := filepath.Join(dir, "hashproxy.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	hp.cmd = exec.Command(bin, "serve", "--config", path, "--admin-listen", "", "--log-level", "warn")
	hp.cmd.Stdout, hp.cmd.Stderr = &hp.output, &hp.output
	if err := hp.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = hp.cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = hp.cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("hashproxy output:\n%s", hp.output.String())
		}
	})
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.DialTimeout("tcp", hp.addr, 100*time.Millisecond); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("hashproxy not listening on %s", hp.addr)
		}
	}
	return hp
}

// memStatus is a process's current and peak resident set, in KiB.
type memStatus struct{ rss, hwm int }

func (m memStatus) String() string {
	return fmt.Sprintf("VmRSS %.1f MiB, VmHWM %.1f MiB", float64(m.rss)/1024, float64(m.hwm)/1024)
}

// memory reads the process's resident set from /proc.
func (hp *hashproxyProc) memory(t *testing.T) memStatus {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(hp.cmd.Process.Pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	var m memStatus
	for _, line := range strings.Split(string(b), "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(value), " kB"))
		switch name {
		case "VmRSS":
			m.rss = kb
		case "VmHWM":
			m.hwm = kb
		}
	}
	if m.rss == 0 {
		t.Fatalf("no VmRSS in /proc status:\n%s", b)
	}
	return m
}

// clients returns the proxy's curr_connections, counting the connection
// that asks.
func (hp *hashproxyProc) clients(t *testing.T) int {
	t.Helper()
	c := dialRaw(t, hp.addr)
	defer c.c.Close()
	c.send("stats\r\n")
	n := -1
	for range 100 {
		l := c.line()
		if l == "END" {
			return n
		}
		if v, ok := strings.CutPrefix(l, "STAT curr_connections "); ok {
			n, _ = strconv.Atoi(v)
		}
	}
	t.Fatal("stats: no END")
	return n
}

// waitClients waits until the proxy has n client connections besides the
// one asking.
func (hp *hashproxyProc) waitClients(t *testing.T, n int) {
	t.Helper()
	var got int
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if got = hp.clients(t) - 1; got == n {
			return
		}
	}
	t.Fatalf("proxy has %d client connections, want %d", got, n)
}

// dialIdle opens n connections that each exchange one request and then
// stay idle.
func dialIdle(t *testing.T, addr string, n int) []net.Conn {
	t.Helper()
	conns := make([]net.Conn, n)
	errs := make(chan error, 50)
	var wg sync.WaitGroup
	for w := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 64)
			for i := w; i < n; i += 50 {
				c, err := net.DialTimeout("tcp", addr, 5*time.Second)
				if err != nil {
					errs <- err
					return
				}
				conns[i] = c
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				if _, err := io.WriteString(c, "get idle\r\n"); err != nil {
					errs <- err
					return
				}
				if _, err := io.ReadFull(c, buf[:5]); err != nil || string(buf[:5]) != "END\r\n" {
					errs <- fmt.Errorf("connection %d: %q, %v", i, buf[:5], err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	t.Cleanup(func() { closeAll(conns) })
	for err := range errs {
		t.Fatal(err)
	}
	return conns
}

func closeAll(conns []net.Conn) {
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
}

// pipelineBurst stores a few small values, then has clients connect at
// once, each write perGet pipelined gets in one write and check every
// reply.
func pipelineBurst(t *testing.T, addr string, clients, perClient int) {
	t.Helper()
	mc := memcache.New(addr)
	defer mc.Close()
	value := bytes.Repeat([]byte("v"), 100)
	for i := range 50 {
		if err := mc.Set(&memcache.Item{Key: "burst" + strconv.Itoa(i), Value: value}); err != nil {
			t.Fatal(err)
		}
	}
	var req []byte
	var want []string
	for i := range perClient {
		k := "burst" + strconv.Itoa(i%50)
		req = append(req, "get "+k+"\r\n"...)
		want = append(want, "VALUE "+k+" 0 100\r\n"+string(value)+"\r\nEND\r\n")
	}
	var failed burstFailures
	errs := make(chan error, clients)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs <- pipelineOnce(addr, req, want, &failed)
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := failed.n.Load(); n > 0 {
		t.Logf("%d of %d gets failed, the first with %q", n, clients*perClient, failed.first.Load())
	}
}

// burstFailures counts the SERVER_ERROR replies of a burst.
type burstFailures struct {
	n     atomic.Int64
	first atomic.Value // the first reply line
}

// pipelineOnce sends req in one write on a new connection and checks that
// each reply is the one wanted or, counted in failed, a SERVER_ERROR.
func pipelineOnce(addr string, req []byte, want []string, failed *burstFailures) error {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := c.Write(req); err != nil {
		return err
	}
	br := bufio.NewReader(c)
	for i, w := range want {
		line, err := br.ReadString('\n')
		if err != nil {
			return fmt.Errorf("reply %d: %w", i, err)
		}
		if strings.HasPrefix(line, "SERVER_ERROR ") {
			failed.n.Add(1)
			failed.first.CompareAndSwap(nil, line)
			continue
		}
		rest := make([]byte, len(w)-len(line))
		if _, err := io.ReadFull(br, rest); err != nil {
			return fmt.Errorf("reply %d: %w", i, err)
		}
		if got := line + string(rest); got != w {
			return fmt.Errorf("reply %d is %q, want %q", i, got, w)
		}
	}
	return nil
}

// hogNeverReads stores a 100 KiB value and has one client pipeline 100,000
// gets of it without reading a reply, while another client keeps working.
// It returns the proxy's memory 1s and 4s into the stall, and checks that
// the other client was served throughout and that the proxy lets go of the
// hog when it hangs up.
func hogNeverReads(t *testing.T, hp *hashproxyProc) (first, last memStatus) {
	t.Helper()
	mc := memcache.New(hp.addr)
	mc.Timeout = 2 * time.Second
	defer mc.Close()
	big := bytes.Repeat([]byte("b"), 100<<10)
	if err := mc.Set(&memcache.Item{Key: "big", Value: big}); err != nil {
		t.Fatal(err)
	}
	hog, err := net.DialTimeout("tcp", hp.addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer hog.Close()
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		_ = hog.SetWriteDeadline(time.Now().Add(10 * time.Second))
		w := bufio.NewWriterSize(hog, 64<<10)
		for range 100_000 {
			if _, err := w.WriteString("get big\r\n"); err != nil {
				return
			}
		}
		_ = w.Flush()
	}()

	var lat []time.Duration
	deadline := time.Now().Add(4 * time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		k := "other" + strconv.Itoa(i%20)
		t0 := time.Now()
		if err := mc.Set(&memcache.Item{Key: k, Value: []byte(k)}); err != nil {
			t.Fatalf("other client's set: %v", err)
		}
		it, err := mc.Get(k)
		if err != nil || string(it.Value) != k {
			t.Fatalf("other client's get %s: %v", k, err)
		}
		lat = append(lat, time.Since(t0))
		if first.rss == 0 && time.Until(deadline) < 3*time.Second {
			first = hp.memory(t)
		}
		time.Sleep(5 * time.Millisecond)
	}
	last = hp.memory(t)
	slices.Sort(lat)
	t.Logf("other client: %d set+get pairs, median %v, max %v", len(lat), lat[len(lat)/2], lat[len(lat)-1])
	if worst := lat[len(lat)-1]; worst > time.Second {
		t.Errorf("other client's slowest set+get took %v", worst)
	}
	hog.Close()
	<-wrote
	_ = mc.Close()
	hp.waitClients(t, 0)
	return first, last
}
