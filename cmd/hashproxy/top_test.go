package main

import (
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"hashproxy/internal/metrics"
	"hashproxy/internal/testenv"
)

// lineText is a top line's text.
func lineText(l topLine) string {
	var b strings.Builder
	for _, s := range l {
		b.WriteString(s.text)
	}
	return b.String()
}

func TestTopLines(t *testing.T) {
	hit, p50, p99, warm := 0.9, 0.00012, 0.0031, 41.2
	st := &metrics.Status{
		Time: time.Now(), Version: "1.2.3", UptimeSeconds: 75, IntervalSeconds: 5,
		Pools: []metrics.PoolStatus{{
			Name: "main", Listen: "127.0.0.1:22122", Distribution: "ketama", ClientConnections: 3, RequestsPerSecond: 300,
			ReplicationFactor: 2, Warmup: &metrics.WarmupStatus{RemainingSeconds: 41.2, KeysMovedShare: 0.25},
			Nodes: []metrics.NodeStatus{
				{Name: "cache-a", Address: "10.0.0.1:11211", State: metrics.StateUp, RingShare: 0.5, RequestsPerSecond: 200, HitRatio: &hit, P50Seconds: &p50, P99Seconds: &p99, Connections: 2},
				{Name: "cache-b", Address: "10.0.0.2:11211", State: metrics.StateDown, RingShare: 0.5, RequestsPerSecond: 100, ErrorsPerSecond: 100},
				{Name: "cache-c", Address: "10.0.0.3:11211", State: metrics.StateWarmup, WarmupRemainingSeconds: &warm},
			},
			HotKeys: &metrics.HotKeys{Pool: "main", WindowSeconds: 60, Keys: []metrics.HotKey{{Key: "user:42", Server: "cache-a", Count: 1234, Share: 0.3}}},
		}},
		Events: []metrics.Event{{Time: time.Now(), Kind: metrics.EventReload, Result: metrics.ResultFailure, Message: "bad yaml"}},
	}
	lines := topLines(topUpdate{status: st}, "http://127.0.0.1:22123", 120)
	var all []string
	for _, l := range lines {
		all = append(all, lineText(l))
	}
	screen := strings.Join(all, "\n")
	for _, want := range []string{"version 1.2.3", "up 1m15s", "pool main", "300.0 req/s", "cache-a", "cache-b", "90.0%", "120µs", "3.10ms", "down", "user:42", "1234", "30.0%", "last 60s", "reload failure", "bad yaml", "2 copies", "warm-up 42s left, 25.0% of keys moved"} {
		if !strings.Contains(screen, want) {
			t.Errorf("screen lacks %q:\n%s", want, screen)
		}
	}
	bars := map[string]int{}
	for _, line := range all {
		for _, name := range []string{"cache-a", "cache-b"} {
			if strings.HasPrefix(line, name) {
				bars[name] = strings.Count(line, "█")
			}
		}
		if n := len([]rune(line)); n > 120 {
			t.Errorf("line of %d columns on a 120-column screen: %q", n, line)
		}
	}
	warmLine := ""
	for _, line := range all {
		if strings.HasPrefix(line, "cache-c") {
			warmLine = line
		}
	}
	if !strings.Contains(warmLine, metrics.StateWarmup) {
		t.Errorf("the warm-up node's line %q lacks its state", warmLine)
	}
	if bars["cache-a"] == 0 || bars["cache-a"] != 2*bars["cache-b"] {
		t.Errorf("bars %v, want cache-a's twice cache-b's (200 and 100 req/s)", bars)
	}

	down := topLines(topUpdate{status: st, err: errors.New("top: connection refused")}, "x", 80)
	if got := lineText(down[1]); got != "top: connection refused" {
		t.Errorf("second line with an error = %q, want the error", got)
	}
	if got := lineText(topLines(topUpdate{}, "x", 80)[1]); got != "connecting…" {
		t.Errorf("before the first reading: %q", got)
	}
}

// TestTopInTmux runs `hashproxy top` in a real terminal (tmux) against a
// running hashproxy: it shows every node and the hot key, and exits cleanly,
// restoring the terminal, on q and on Ctrl-C.
func TestTopInTmux(t *testing.T) {
	tmux := testenv.Need(t, "tmux")
	nodes := []*testenv.Process{testenv.StartMemcached(t), testenv.StartMemcached(t), testenv.StartMemcached(t)}
	sp := startStatusProxy(t, nodes, "  hot_keys: on\n")
	c := memcache.New(sp.addr)
	for range 400 {
		if _, err := c.Get("top:hot-key"); err != nil && !errors.Is(err, memcache.ErrCacheMiss) {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	for _, key := range []string{"q", "C-c"} {
		// A tmux server of its own for each run: a server whose last
		// session ends exits, and must not be reused.
		session := "top-" + strings.ReplaceAll(key, "-", "")
		socket := filepath.Join(dir, session+".sock")
		run := func(args ...string) string {
			t.Helper()
			out, err := exec.Command(tmux, append([]string{"-S", socket}, args...)...).CombinedOutput()
			if err != nil {
				t.Fatalf("tmux %v: %v\n%s", args, err, out)
			}
			return string(out)
		}
		t.Cleanup(func() { _ = exec.Command(tmux, "-S", socket, "kill-server").Run() })
		// The shell reports how top ended, then waits to be read.
		run("new-session", "-d", "-s", session, "-x", "132", "-y", "40",
			hashproxyBinary(t)+" top --interval 300ms --admin http://"+sp.admin+"; echo \"top exited $?\"; sleep 60")
		var screen string
		waitFor(t, "top to show every node and the hot key", func() bool {
			screen = run("capture-pane", "-p", "-t", session)
			for _, n := range nodes {
				if !strings.Contains(screen, n.Addr) {
					return false
				}
			}
			return strings.Contains(screen, "top:hot-key") && strings.Contains(screen, "pool main")
		})
		if strings.Count(screen, " up ") < 3 {
			t.Errorf("top does not show the three nodes up:\n%s", screen)
		}
		run("send-keys", "-t", session, key)
		waitFor(t, "top to exit on "+key, func() bool {
			screen = run("capture-pane", "-p", "-t", session)
			return strings.Contains(screen, "top exited")
		})
		if !strings.Contains(screen, "top exited 0") {
			t.Errorf("top on %s: %s", key, screen)
		}
		if strings.Contains(screen, "pool main") {
			t.Errorf("top left its screen behind on %s:\n%s", key, screen)
		}
	}
}
