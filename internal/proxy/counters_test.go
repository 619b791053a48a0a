package proxy

import (
	"bufio"
	"bytes"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// run sends req through one client connection, followed by "version", which
// the proxy answers itself, and reads every reply up to the version's. No
// reply may be an error.
func run(t *testing.T, addr, req string) {
	t.Helper()
	const end = "VERSION test\r\n"
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	go func() { _, _ = c.Write([]byte(req + "version\r\n")) }()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var out bytes.Buffer
	buf := make([]byte, 64<<10)
	for !bytes.HasSuffix(out.Bytes(), []byte(end)) {
		n, err := c.Read(buf)
		out.Write(buf[:n])
		if err != nil {
			t.Fatalf("read: %v after %q", err, out.Bytes())
		}
	}
	for _, line := range strings.Split(out.String(), "\r\n") {
		if strings.HasPrefix(line, "ERROR") || strings.Contains(line, "_ERROR") {
			t.Fatalf("workload got %q", line)
		}
	}
}

// nodeStats reads each node's own counters, keyed by its address.
func nodeStats(t *testing.T, tp *testProxy) map[string]map[string]int64 {
	t.Helper()
	all := make(map[string]map[string]int64)
	for _, n := range tp.nodes {
		all[n.Addr] = statsOf(t, n.Addr)
	}
	return all
}

// statsOf asks a memcached, or the proxy, for "stats" and returns its
// numeric values.
func statsOf(t *testing.T, addr string) map[string]int64 {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte("stats\r\n")); err != nil {
		t.Fatal(err)
	}
	st := make(map[string]int64)
	br := bufio.NewReader(c)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("stats from %s: %v", addr, err)
		}
		line = strings.TrimSuffix(line, "\r\n")
		if line == "END" {
			return st
		}
		f := strings.Fields(line)
		if len(f) != 3 || f[0] != "STAT" {
			t.Fatalf("stats from %s: line %q", addr, line)
		}
		if v, err := strconv.ParseInt(f[2], 10, 64); err == nil {
			st[f[1]] = v
		}
	}
}

// nodeCounters are one node's series in the proxy's registry.
type nodeCounters struct {
	byCommand            map[string]int64
	hits, misses, errors int64
}

func (nc nodeCounters) requests(commands ...string) int64 {
	var n int64
	for _, c := range commands {
		n += nc.byCommand[c]
	}
	return n
}

// proxyCounters gathers the proxy's counters of the named server.
func proxyCounters(t *testing.T, reg *prometheus.Registry, server string) nodeCounters {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	nc := nodeCounters{byCommand: make(map[string]int64)}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			labels := make(map[string]string)
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			if labels["server"] != server || m.GetCounter() == nil {
				continue
			}
			v := int64(m.GetCounter().GetValue())
			switch mf.GetName() {
			case "hashproxy_requests_total":
				nc.byCommand[labels["command"]] += v
			case "hashproxy_get_hits_total":
				nc.hits += v
			case "hashproxy_get_misses_total":
				nc.misses += v
			case "hashproxy_upstream_errors_total":
				nc.errors += v
			}
		}
	}
	if len(nc.byCommand) != len(MetricLabels().Commands) {
		t.Fatalf("server %s: %d command series, want %d", server, len(nc.byCommand), len(MetricLabels().Commands))
	}
	return nc
}
