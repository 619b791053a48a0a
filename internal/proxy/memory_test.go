package proxy

import (
	"runtime"
	"syscall"
	"testing"

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
