package proxy

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"hashproxy/internal/config"
	"hashproxy/internal/metrics"
	"hashproxy/internal/ring"
)

// faultPool is the pool used by the failure tests: md5 spreads short keys
// over every node, and the timeouts are short so that tests are quick.
func faultPool(addrs ...string) config.Pool {
	pc := config.DefaultPool()
	pc.Listen = "127.0.0.1:0"
	pc.Hash = "md5"
	pc.Timeout = 300 * time.Millisecond
	pc.HealthCheckInterval = 100 * time.Millisecond
	pc.ServerFailureLimit = 2
	for _, a := range addrs {
		host, port, _ := net.SplitHostPort(a)
		p, _ := strconv.Atoi(port)
		pc.Servers = append(pc.Servers, config.Server{Addr: a, Host: host, Port: p, Weight: 1})
	}
	return pc
}

// startPool starts a proxy serving pc (which must listen on a free port),
// logging to log (nil: nowhere), and shuts it down when the test ends.
func startPool(t testing.TB, pc config.Pool, log *zap.Logger) *testProxy {
	t.Helper()
	return startPoolWith(t, pc, Options{Logger: log})
}

// startPoolWith is startPool with options; their Version and Metrics are
// set here.
func startPoolWith(t testing.TB, pc config.Pool, opts Options) *testProxy {
	t.Helper()
	reg := prometheus.NewRegistry()
	opts.Version = "test"
	opts.Metrics = metrics.New(reg, metrics.BuildInfo{Version: "test"}, MetricLabels())
	px, err := New(&config.Config{Pools: []config.Pool{pc}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := px.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := px.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return &testProxy{px: px, addr: px.Addr(pc.Name).String(), cfg: pc, reg: reg}
}

// placement returns the ring of pool pc over servers.
func placement(t *testing.T, pc config.Pool, servers []config.Server) *ring.Ring {
	t.Helper()
	r, err := newRing(pc, servers)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// keysOn returns n keys that pc's ring over servers places on servers[want].
func keysOn(t *testing.T, pc config.Pool, servers []config.Server, want, n int, prefix string) []string {
	t.Helper()
	r := placement(t, pc, servers)
	var keys []string
	for i := 0; len(keys) < n && i < 100*n+1000; i++ {
		k := prefix + strconv.Itoa(i)
		if r.Pick([]byte(k)) == want {
			keys = append(keys, k)
		}
	}
	if len(keys) < n {
		t.Fatalf("found %d keys on %s, want %d", len(keys), servers[want].Addr, n)
	}
	return keys
}

// without returns servers less the one at index i.
func without(servers []config.Server, i int) []config.Server {
	out := append([]config.Server(nil), servers[:i]...)
	return append(out, servers[i+1:]...)
}

// serverGauge reads hashproxy_server_up or another per-server gauge.
func serverGauge(t *testing.T, tp *testProxy, name, server string) float64 {
	t.Helper()
	return gathered(t, tp.reg, name, map[string]string{"server": server})
}

// gathered sums the samples of the named metric whose labels include want.
func gathered(t *testing.T, reg *prometheus.Registry, name string, want map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			for k, v := range want {
				if labels[k] != v {
					continue metrics
				}
			}
			switch {
			case m.GetCounter() != nil:
				sum += m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				sum += m.GetGauge().GetValue()
			}
		}
	}
	return sum
}

// waitFor polls cond every 10ms until it holds or limit passes, and returns
// how long it took; it fails the test on timeout.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > limit {
			t.Fatalf("%s: not within %v", what, limit)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start)
}
