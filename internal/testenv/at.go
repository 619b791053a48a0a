package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// StartMemcachedAt starts a memcached listening on exactly host:port (any
// 127.x.y.z address works on Linux), so that tests can pin server names
// such as "127.77.0.1:11211". It waits until the server answers and stops
// it when the test ends; a taken address fails the test.
func StartMemcachedAt(t testing.TB, host string, port int, args ...string) *Process {
	t.Helper()
	bin := Need(t, "memcached")
	all := append([]string{"-l", host, "-p", strconv.Itoa(port), "-U", "0", "-m", "64", "-t", "1"}, args...)
	if os.Geteuid() == 0 {
		all = append(all, "-u", "root")
	}
	cmd := exec.Command(bin, all...)
	dieWithTest(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatalf("testenv: start memcached at %s:%d: %v", host, port, err)
	}
	p := &Process{
		Addr: net.JoinHostPort(host, strconv.Itoa(port)),
		Port: port,
		proc: cmd.Process,
		done: make(chan struct{}),
	}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(p.Stop)
	if err := waitAnswering(p, 5*time.Second); err != nil {
		t.Fatalf("testenv: memcached at %s: %v", p.Addr, err)
	}
	return p
}

// waitAnswering waits until p answers "version", failing early when it
// exits (for example because its address is taken).
func waitAnswering(p *Process, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return fmt.Errorf("exited early (address in use?)")
		default:
		}
		if answersVersion("tcp", p.Addr) {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("no answer after %v", limit)
}
