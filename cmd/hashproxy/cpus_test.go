package main

import (
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"hashproxy/internal/testenv"
)

// gomaxprocs starts the proxy with args (and the environment's GOMAXPROCS
// set to env) and returns the GOMAXPROCS its /metrics reports.
func gomaxprocs(t *testing.T, node *testenv.Process, env string, args ...string) float64 {
	t.Helper()
	t.Setenv("GOMAXPROCS", env)
	rp := startBinary(t, []*testenv.Process{node}, "", args...)
	_, text := httpGet(t, "http://"+rp.admin+"/metrics")
	n, ok := parseExposition(t, text)["go_sched_gomaxprocs_threads"]
	if !ok {
		t.Fatal("go_sched_gomaxprocs_threads missing from /metrics")
	}
	if err := rp.stop(t); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestServeCPUs(t *testing.T) {
	envSet := os.Getenv("GOMAXPROCS") != ""
	all := runtime.GOMAXPROCS(0) // without GOMAXPROCS set: every CPU this test may use
	node := testenv.StartMemcached(t)
	if got := gomaxprocs(t, node, ""); got != defaultCPUs {
		t.Errorf("by default GOMAXPROCS = %v, want %d", got, defaultCPUs)
	}
	if got := gomaxprocs(t, node, "", "--cpus", "2"); got != 2 {
		t.Errorf("--cpus 2: GOMAXPROCS = %v", got)
	}
	if got := gomaxprocs(t, node, "2"); got != 2 {
		t.Errorf("GOMAXPROCS=2 in the environment: GOMAXPROCS = %v", got)
	}
	if got := gomaxprocs(t, node, "2", "--cpus", "1"); got != 1 {
		t.Errorf("--cpus 1 with GOMAXPROCS=2 in the environment: GOMAXPROCS = %v", got)
	}
	if !envSet {
		if got := gomaxprocs(t, node, "", "--cpus", "0"); got != float64(all) {
			t.Errorf("--cpus 0: GOMAXPROCS = %v, want %d", got, all)
		}
	}

	out, err := exec.Command(hashproxyBinary(t), "serve", "--server", node.Addr, "--cpus", "-1").CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(string(out), "--cpus -1") {
		t.Errorf("--cpus -1: want exit 2 naming the flag, got %v\n%s", err, out)
	}
}
