package proxy

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"hashproxy/internal/testenv"
)

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
