// Package testenv starts real memcached and nutcracker processes on loopback
// ports for tests, and stops them (by PID) when the test ends.
package testenv

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Process is a server started for one test.
type Process struct {
	// Addr is the loopback "host:port" the process listens on.
	Addr string
	// Port is the port part of Addr.
	Port int
	proc *os.Process
	done chan struct{} // closed when the process has exited and been waited for
}

// Stop kills the process and waits for it; calling it twice is harmless.
func (p *Process) Stop() {
	if p.proc == nil {
		return
	}
	_ = p.proc.Kill()
	<-p.done
}

// PID returns the process id, for tests that signal it.
func (p *Process) PID() int { return p.proc.Pid }

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Need returns the path of the named program, found on PATH or in
// /usr/sbin or /usr/bin. When it is not installed it skips the test, unless
// the test runs in CI (CI=true), where a missing program is a failure.
func Need(t testing.TB, program string) string {
	t.Helper()
	path, err := exec.LookPath(program)
	if err == nil {
		return path
	}
	for _, dir := range []string{"/usr/sbin", "/usr/bin"} {
		if p := filepath.Join(dir, program); fileExists(p) {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("testenv: %s is not installed", program)
	}
	t.Skipf("testenv: %s is not installed", program)
	return ""
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// StartMemcached starts a memcached on a free loopback port with extra
// arguments, waits until it answers, and stops it when the test ends.
func StartMemcached(t testing.TB, args ...string) *Process {
	t.Helper()
	bin := Need(t, "memcached")
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port := FreePort(t)
		all := append([]string{"-l", "127.0.0.1", "-p", strconv.Itoa(port), "-U", "0", "-m", "64", "-t", "1"}, args...)
		if os.Geteuid() == 0 {
			all = append(all, "-u", "root")
		}
		p, err := start(bin, all, port, answersMemcached)
		if err != nil {
			lastErr = err
			continue
		}
		t.Cleanup(p.Stop)
		return p
	}
	t.Fatalf("testenv: start memcached: %v", lastErr)
	return nil
}

// StartMemcachedSocket starts a memcached listening on a Unix socket in a
// temporary directory (and on no TCP port), waits until it answers, and
// stops it when the test ends. The Process's Addr is the socket's path.
func StartMemcachedSocket(t testing.TB, args ...string) *Process {
	t.Helper()
	bin := Need(t, "memcached")
	path := filepath.Join(SocketDir(t), "memcached.sock")
	all := append([]string{"-s", path, "-m", "64", "-t", "1"}, args...)
	if os.Geteuid() == 0 {
		all = append(all, "-u", "root")
	}
	cmd := exec.Command(bin, all...)
	dieWithTest(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatalf("testenv: start memcached on %s: %v", path, err)
	}
	p := &Process{Addr: path, proc: cmd.Process, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(p.Stop)
	for deadline := time.Now().Add(5 * time.Second); !answersVersion("unix", path); {
		if time.Now().After(deadline) {
			t.Fatalf("testenv: memcached did not answer on %s", path)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return p
}

// SocketDir returns a new temporary directory for Unix sockets, removed
// when the test ends. Its path is short: a socket's path must fit in 107
// bytes, which t.TempDir's long names can exceed.
func SocketDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "hp")
	if err != nil {
		t.Fatalf("testenv: socket directory: %v", err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// RestartMemcached starts memcached again on p's port (after a kill), with
// args as its extra arguments (pass those it was started with to get the
// same server back), retrying for up to 5 s while the port is still taken.
// p then stands for the new process.
func RestartMemcached(t testing.TB, p *Process, args ...string) {
	t.Helper()
	bin := Need(t, "memcached")
	all := append([]string{"-l", "127.0.0.1", "-p", strconv.Itoa(p.Port), "-U", "0", "-m", "64", "-t", "1"}, args...)
	if os.Geteuid() == 0 {
		all = append(all, "-u", "root")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		np, err := start(bin, all, p.Port, answersMemcached)
		if err == nil {
			p.proc, p.done = np.proc, np.done
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("testenv: restart memcached on %d: %v", p.Port, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// StartNutcracker writes config (a nutcracker.yml body) to a temporary file,
// starts nutcracker with it, waits until every listen port in ports accepts,
// and stops it when the test ends.
func StartNutcracker(t testing.TB, config string, ports ...int) *Process {
	t.Helper()
	bin := Need(t, "nutcracker")
	dir := t.TempDir()
	conf := filepath.Join(dir, "nutcracker.yml")
	if err := os.WriteFile(conf, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	statsPort := FreePort(t)
	cmd := exec.Command(bin, "-c", conf, "-s", strconv.Itoa(statsPort), "-a", "127.0.0.1",
		"-o", filepath.Join(dir, "nutcracker.log"), "-p", filepath.Join(dir, "nutcracker.pid"))
	dieWithTest(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatalf("testenv: start nutcracker: %v", err)
	}
	p := &Process{proc: cmd.Process, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(p.Stop)
	if len(ports) > 0 {
		p.Port = ports[0]
		p.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
	}
	for _, port := range ports {
		if err := waitListening(port, 5*time.Second); err != nil {
			log, _ := os.ReadFile(filepath.Join(dir, "nutcracker.log"))
			t.Fatalf("testenv: nutcracker: %v\n%s", err, log)
		}
	}
	return p
}

// start starts bin with args and waits until ready reports the server on
// 127.0.0.1:port ready, for up to 5 seconds.
func start(bin string, args []string, port int, ready func(addr string) bool) (*Process, error) {
	cmd := exec.Command(bin, args...)
	dieWithTest(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	p := &Process{
		Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		Port: port,
		proc: cmd.Process,
		done: make(chan struct{}),
	}
	go func() { _ = cmd.Wait(); close(p.done) }()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return nil, fmt.Errorf("%s exited early on port %d", bin, port)
		default:
		}
		if ready(p.Addr) {
			return p, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.Stop()
	return nil, fmt.Errorf("%s not ready on %s", bin, p.Addr)
}

// answersMemcached reports whether a memcached at addr answers "version".
func answersMemcached(addr string) bool { return answersVersion("tcp", addr) }

// answersVersion reports whether a memcached-speaking server at addr, on
// network, answers "version".
func answersVersion(network, addr string) bool {
	c, err := net.DialTimeout(network, addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(500 * time.Millisecond))
	if _, err := c.Write([]byte("version\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "VERSION ")
}

// waitListening waits until a TCP port on 127.0.0.1 accepts connections.
func waitListening(port int, limit time.Duration) error {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(limit)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not listening after %v: %w", addr, limit, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
