package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"hashproxy/internal/testenv"
)

// hashproxyBinary returns the hashproxy binary, built once per test run,
// with the race detector when the tests run with it.
func hashproxyBinary(t *testing.T) string { return testenv.Hashproxy(t, testenv.Race) }

// runningProxy is a hashproxy process started by a test.
type runningProxy struct {
	cmd    *exec.Cmd
	addr   string
	admin  string
	output *outputBuffer
	exited chan error
}

// outputBuffer collects a process's output. A test may read it while the
// process is still writing.
type outputBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *outputBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *outputBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startBinary writes a native config with one pool over the given memcached
// nodes (extra lines are added to the pool) and runs `hashproxy serve` with
// it and any further arguments, until both its pool and admin listeners
// accept connections.
func startBinary(t *testing.T, nodes []*testenv.Process, extra string, args ...string) *runningProxy {
	t.Helper()
	c := writeTestConfig(t, nodes, "", extra)
	rp := runServe(t, append([]string{"--config", c.path}, args...), c.addr, c.admin)
	rp.admin = c.admin
	return rp
}

// testConfig is a native config file written for a test.
type testConfig struct {
	path, text  string
	addr, admin string // the pool's and the admin listener's addresses
}

// writeTestConfig writes a native config with debug logs, an admin listener
// and one pool, "main", over nodes, each on a free port; admin lines are
// added to the admin section and pool lines to the pool.
func writeTestConfig(t *testing.T, nodes []*testenv.Process, admin, pool string) testConfig {
	t.Helper()
	c := testConfig{
		addr:  "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t)),
		admin: "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t)),
		path:  filepath.Join(t.TempDir(), "hashproxy.yaml"),
	}
	var servers strings.Builder
	for _, n := range nodes {
		servers.WriteString("      - " + n.Addr + ":1\n")
	}
	c.text = fmt.Sprintf("admin:\n  listen: %s\n%slog:\n  level: debug\npools:\n  main:\n    listen: %s\n%s    servers:\n%s",
		c.admin, admin, c.addr, pool, servers.String())
	if err := os.WriteFile(c.path, []byte(c.text), 0o644); err != nil {
		t.Fatal(err)
	}
	return c
}

// runServe runs `hashproxy serve` with args and waits until every address
// in listen accepts connections; the first is the proxy's addr. The
// process is killed at the end of the test if it is still running.
func runServe(t *testing.T, args []string, listen ...string) *runningProxy {
	t.Helper()
	rp := &runningProxy{
		cmd:    exec.Command(hashproxyBinary(t), append([]string{"serve"}, args...)...),
		addr:   listen[0],
		output: &outputBuffer{},
		exited: make(chan error, 1),
	}
	rp.cmd.Stdout, rp.cmd.Stderr = rp.output, rp.output
	if err := rp.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { rp.exited <- rp.cmd.Wait() }()
	t.Cleanup(func() {
		_ = rp.cmd.Process.Kill()
		<-rp.exited
		if t.Failed() {
			t.Logf("hashproxy output:\n%s", rp.output)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for _, addr := range listen {
		for {
			c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
			if err == nil {
				c.Close()
				break
			}
			select {
			case err := <-rp.exited:
				rp.exited <- err
				t.Fatalf("hashproxy exited: %v\n%s", err, rp.output)
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("hashproxy not listening on %s\n%s", addr, rp.output)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return rp
}

// stop sends SIGTERM and returns the exit error, within a time limit.
func (rp *runningProxy) stop(t *testing.T) error {
	t.Helper()
	if err := rp.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-rp.exited:
		rp.exited <- err
		return err
	case <-time.After(15 * time.Second):
		t.Fatal("hashproxy did not exit after SIGTERM")
		return nil
	}
}
