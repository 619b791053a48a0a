package proxy

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"hashproxy/internal/config"
	"hashproxy/internal/testenv"
)

// tlsFleet is memcached nodes that speak only TLS, with a certificate from
// nodeCA for 127.0.0.1, requiring a client certificate from clientCA.
type tlsFleet struct {
	nodeCA, clientCA *testenv.CA
	client           testenv.Pair // from clientCA
	nodes            []*testenv.Process
}

func startTLSFleet(t *testing.T, n int) *tlsFleet {
	t.Helper()
	f := &tlsFleet{nodeCA: testenv.NewCA(t, "node-ca"), clientCA: testenv.NewCA(t, "client-ca")}
	pair := f.nodeCA.Issue(t, "node", time.Now().Add(24*time.Hour), "127.0.0.1")
	f.client = f.clientCA.Issue(t, "proxy", time.Now().Add(24*time.Hour), "hashproxy")
	for range n {
		f.nodes = append(f.nodes, testenv.StartMemcachedTLS(t, pair, f.clientCA.File))
	}
	return f
}

// pool returns a pool over the fleet's nodes that trusts nodeCA and shows
// the client certificate.
func (f *tlsFleet) pool() config.Pool {
	addrs := make([]string, len(f.nodes))
	for i, n := range f.nodes {
		addrs[i] = n.Addr
	}
	pc := faultPool(addrs...)
	pc.TLS = &config.TLS{CAFile: f.nodeCA.File, CertFile: f.client.CertFile, KeyFile: f.client.KeyFile, MinVersion: "1.2"}
	return pc
}

// roundTrips sets and gets keys through the proxy with gomemcache.
func roundTrips(t *testing.T, addr, prefix string) {
	t.Helper()
	c := memcache.New(addr)
	c.Timeout = 2 * time.Second
	for i := range 50 {
		k := prefix + strings.Repeat("k", i%7) + string(rune('a'+i%26))
		if err := c.Set(&memcache.Item{Key: k, Value: []byte(k)}); err != nil {
			t.Fatalf("set %s: %v", k, err)
		}
		if it, err := c.Get(k); err != nil || string(it.Value) != k {
			t.Fatalf("get %s: %v", k, err)
		}
	}
}

// TestTLSToNodes proxies to memcached nodes that speak only TLS and
// require a client certificate (ssl_verify_mode 2).
func TestTLSToNodes(t *testing.T) {
	f := startTLSFleet(t, 2)
	tp := startPool(t, f.pool(), nil)
	roundTrips(t, tp.addr, "tls:")
	if n := gathered(t, tp.reg, "hashproxy_upstream_errors_total", nil); n != 0 {
		t.Errorf("%v upstream errors", n)
	}
}

// TestTLSToNodesFailures checks that each handshake failure answers
// SERVER_ERROR within the timeout, is counted as kind tls, and is logged
// with the reason.
func TestTLSToNodesFailures(t *testing.T) {
	f := startTLSFleet(t, 1)
	other := testenv.NewCA(t, "other-ca")
	expired := testenv.StartMemcachedTLS(t, f.nodeCA.Issue(t, "expired", time.Now().Add(-time.Hour), "127.0.0.1"), "")
	tests := []struct {
		name   string
		edit   func(*config.Pool)
		reason string
	}{
		{"unknown authority", func(pc *config.Pool) { pc.TLS.CAFile = other.File }, "certificate signed by unknown authority"},
		{"wrong server name", func(pc *config.Pool) { pc.TLS.ServerName = "cache.example" }, "wanted to match cache.example"},
		{"expired certificate", func(pc *config.Pool) {
			pc.Servers = faultPool(expired.Addr).Servers
		}, "certificate has expired"},
		{"plain node", func(pc *config.Pool) {
			pc.Servers = faultPool(testenv.StartMemcached(t).Addr).Servers
		}, "TLS handshake"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pc := f.pool()
			tt.edit(&pc)
			core, logs := observer.New(zap.WarnLevel)
			tp := startPool(t, pc, zap.New(core))
			c := dialRaw(t, tp.addr)
			start := time.Now()
			reply, err := c.set("k", "v")
			if took := time.Since(start); err != nil || !strings.HasPrefix(reply, "SERVER_ERROR") || took > 2*pc.Timeout {
				t.Fatalf("set: %q, %v after %v; want SERVER_ERROR within %v", reply, err, took, pc.Timeout)
			}
			if n := gathered(t, tp.reg, "hashproxy_upstream_errors_total", map[string]string{"kind": "tls"}); n < 1 {
				t.Errorf("hashproxy_upstream_errors_total{kind=tls} = %v", n)
			}
			found := false
			for _, e := range logs.FilterMessage("TLS handshake failed").All() {
				if err, ok := e.ContextMap()["error"].(string); ok && strings.Contains(err, tt.reason) {
					found = true
				}
			}
			if !found {
				t.Errorf("no log line \"TLS handshake failed\" with %q: %v", tt.reason, logs.All())
			}
		})
	}
}

// TestTLSFilesReadAgainOnReload rotates the files a pool's tls section
// names, keeping their paths: a reload with the same configuration makes
// the new connections use them.
func TestTLSFilesReadAgainOnReload(t *testing.T) {
	f := startTLSFleet(t, 2)
	dir := t.TempDir()
	pc := f.pool()
	pc.TLS.CAFile, pc.TLS.CertFile, pc.TLS.KeyFile = dir+"/ca.pem", dir+"/client.pem", dir+"/client.key"
	// To start with, a client certificate the nodes do not accept.
	stale := testenv.NewCA(t, "stale-ca").Issue(t, "stale", time.Now().Add(24*time.Hour), "hashproxy")
	copyFile(t, f.nodeCA.File, pc.TLS.CAFile)
	copyFile(t, stale.CertFile, pc.TLS.CertFile)
	copyFile(t, stale.KeyFile, pc.TLS.KeyFile)
	tp := startPool(t, pc, nil)
	c := dialRaw(t, tp.addr)
	if reply, _ := c.set("k", "v"); !strings.HasPrefix(reply, "SERVER_ERROR") {
		t.Fatalf("with a client certificate the nodes refuse: %q", reply)
	}

	copyFile(t, f.client.CertFile, pc.TLS.CertFile)
	copyFile(t, f.client.KeyFile, pc.TLS.KeyFile)
	cfg := config.Default()
	cfg.Pools = []config.Pool{pc}
	if err := tp.px.Reload(&cfg); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the nodes to accept the rotated certificate", func() bool {
		reply, err := c.set("k", "v")
		return err == nil && reply == "STORED"
	})
	roundTrips(t, tp.addr, "rotated:")

	// A file that no longer reads refuses the reload; the running one stays.
	if err := os.WriteFile(pc.TLS.CAFile, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := tp.px.Reload(&cfg); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("reload with a broken ca_file: %v", err)
	}
	roundTrips(t, tp.addr, "kept:")
}
