package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"hashproxy/internal/testenv"
)

// TestBinaryAdminEndpoints runs the binary with an admin listener and checks
// what an operator sees: /healthz, /readyz while the nodes serve and once
// they are all gone, /metrics with every metric the dashboard queries, and
// structured JSON logs with a start-up summary and no line per request.
func TestBinaryAdminEndpoints(t *testing.T) {
	nodes := []*testenv.Process{testenv.StartMemcached(t), testenv.StartMemcached(t)}
	rp := startBinary(t, nodes, "    hash: md5\n", "--log-format", "json", "--log-level", "info")
	admin := "http://" + rp.admin

	if code, body := httpGet(t, admin+"/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("/healthz = %d %q, want 200 ok", code, body)
	}
	waitFor(t, "/readyz to answer 200", func() bool {
		code, _ := httpGet(t, admin+"/readyz")
		return code == http.StatusOK
	})

	const requests = 100
	c := memcache.New(rp.addr)
	c.Timeout = 2 * time.Second
	for i := 0; i < requests/2; i++ {
		k := "admin-test-key-" + strconv.Itoa(i)
		if err := c.Set(&memcache.Item{Key: k, Value: []byte("v")}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Get(k); err != nil {
			t.Fatal(err)
		}
	}

	_, text := httpGet(t, admin+"/metrics")
	series := parseExposition(t, text)
	for _, name := range dashboardMetricNames(t) {
		if _, ok := series[name]; !ok {
			t.Errorf("the dashboard queries %s, missing from /metrics", name)
		}
	}
	if got := series["hashproxy_get_hits_total"]; got != requests/2 {
		t.Errorf("hashproxy_get_hits_total summed = %v, want %d", got, requests/2)
	}
	waitFor(t, "hashproxy_upstream_connections to count 1 per node (server_connections)", func() bool {
		_, text := httpGet(t, admin+"/metrics")
		return parseExposition(t, text)["hashproxy_upstream_connections"] == float64(len(nodes))
	})

	for _, n := range nodes {
		n.Stop()
	}
	var body string
	waitFor(t, "/readyz to answer 503 with every node stopped", func() bool {
		var code int
		code, body = httpGet(t, admin+"/readyz")
		return code == http.StatusServiceUnavailable
	})
	if !strings.Contains(body, `pool main`) || !strings.Contains(body, "no memcached node is reachable") {
		t.Errorf("/readyz reason = %q, want the pool and why", body)
	}
	if code, _ := httpGet(t, admin+"/healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d with the nodes down, want 200: the process still serves", code)
	}
	waitFor(t, "hashproxy_server_up to read 0 for every node", func() bool {
		_, text := httpGet(t, admin+"/metrics")
		return strings.Count(text, "\nhashproxy_server_up{") == len(nodes) &&
			parseExposition(t, text)["hashproxy_server_up"] == 0
	})

	if err := rp.stop(t); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	checkJSONLogs(t, rp.output.String(), nodes, requests)
}

// checkJSONLogs requires every log line to be a JSON object with a level, a
// time and a message; a start-up summary naming the pool and each server; the
// nodes going down; and far fewer lines than requests.
func checkJSONLogs(t *testing.T, out string, nodes []*testenv.Process, requests int) {
	t.Helper()
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var entry map[string]any
		if err := json.Unmarshal([]byte(l), &entry); err != nil {
			t.Errorf("log line is not JSON: %q", l)
			continue
		}
		for _, k := range []string{"level", "ts", "msg"} {
			if _, ok := entry[k]; !ok {
				t.Errorf("log line without %q: %q", k, l)
			}
		}
		lines = append(lines, entry)
	}
	find := func(msg string, fields map[string]any) bool {
		for _, e := range lines {
			match := e["msg"] == msg
			for k, v := range fields {
				match = match && e[k] == v
			}
			if match {
				return true
			}
		}
		return false
	}
	if !find("listening", map[string]any{"pool": "main", "servers": float64(len(nodes)), "hash": "md5"}) {
		t.Error(`no start-up line "listening" with the pool, its server count and hash`)
	}
	for _, n := range nodes {
		if !find("server", map[string]any{"level": "info", "pool": "main", "server": n.Addr, "addr": n.Addr}) {
			t.Errorf("no start-up line for server %s", n.Addr)
		}
		if !find("server down", map[string]any{"level": "warn", "pool": "main", "server": n.Addr}) {
			t.Errorf("no line for server %s going down", n.Addr)
		}
	}
	if !find("admin listening", nil) || !find("hashproxy started", nil) || !find("stopped", nil) {
		t.Error("missing admin, start or stop lines")
	}
	if strings.Contains(out, "admin-test-key") {
		t.Error("a log line names a key: requests are logged")
	}
	if len(lines) > requests/4 {
		t.Errorf("%d log lines for %d requests: requests are logged", len(lines), requests)
	}
}

func TestBinaryLogLevelFlag(t *testing.T) {
	nodes := []*testenv.Process{testenv.StartMemcached(t)}
	rp := startBinary(t, nodes, "", "--log-format", "json", "--log-level", "warn")
	nodes[0].Stop() // a warning: the node's connections are lost
	time.Sleep(500 * time.Millisecond)
	if err := rp.stop(t); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	out := strings.TrimSpace(rp.output.String())
	if out == "" {
		t.Fatal("no log line at all, not even the lost connections")
	}
	for _, l := range strings.Split(out, "\n") {
		var entry struct{ Level string }
		if err := json.Unmarshal([]byte(l), &entry); err != nil {
			t.Fatalf("log line is not JSON: %q", l)
		}
		if entry.Level != "warn" && entry.Level != "error" {
			t.Errorf("line at %q with --log-level warn: %s", entry.Level, l)
		}
	}
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// waitFor polls cond for up to ten seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// parseExposition reads the Prometheus text format and returns, for each
// series name, the sum of its samples.
func parseExposition(t *testing.T, text string) map[string]float64 {
	t.Helper()
	sums := make(map[string]float64)
	for _, line := range strings.Split(text, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			t.Fatalf("/metrics line %q", line)
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("/metrics line %q: %v", line, err)
		}
		name := line[:i]
		if j := strings.IndexByte(name, '{'); j >= 0 {
			name = name[:j]
		}
		sums[name] += v
	}
	return sums
}

var dashboardMetricRE = regexp.MustCompile(`\b(?:hashproxy|go|process)_[a-z0-9_]+\b`)

// dashboardMetricNames returns every metric name in the dashboard's queries
// (panel targets and template variables).
func dashboardMetricNames(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile("../../configs/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	seen := make(map[string]bool)
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, child := range v {
				if s, ok := child.(string); ok && (k == "expr" || k == "query") {
					for _, name := range dashboardMetricRE.FindAllString(s, -1) {
						seen[name] = true
					}
				}
				walk(child)
			}
		case []any:
			for _, child := range v {
				walk(child)
			}
		}
	}
	walk(doc)
	if len(seen) == 0 {
		t.Fatal("no metric names in the dashboard's queries")
	}
	names := make([]string, 0, len(seen))
	for name := range seen {
		names = append(names, name)
	}
	return names
}
