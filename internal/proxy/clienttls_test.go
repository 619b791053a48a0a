package proxy

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"hashproxy/internal/config"
	"hashproxy/internal/testenv"
)

// clientTLSFiles are a listener's certificate (from serverCA, for
// 127.0.0.1) and a client certificate from clientCA.
type clientTLSFiles struct {
	serverCA, clientCA *testenv.CA
	server, client     testenv.Pair
}

func newClientTLSFiles(t *testing.T) clientTLSFiles {
	f := clientTLSFiles{serverCA: testenv.NewCA(t, "listener-ca"), clientCA: testenv.NewCA(t, "app-ca")}
	f.server = f.serverCA.Issue(t, "listener", time.Now().Add(24*time.Hour), "127.0.0.1")
	f.client = f.clientCA.Issue(t, "app", time.Now().Add(24*time.Hour), "app")
	return f
}

// tlsClient is gomemcache dialling the proxy with TLS, trusting ca and
// showing cert (when its files are given).
func tlsClient(t *testing.T, addr, ca string, cert testenv.Pair) *memcache.Client {
	t.Helper()
	pem, err := os.ReadFile(ca)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &tls.Config{RootCAs: x509.NewCertPool()}
	cfg.RootCAs.AppendCertsFromPEM(pem)
	if cert.CertFile != "" {
		pair, err := tls.LoadX509KeyPair(cert.CertFile, cert.KeyFile)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	c := memcache.New(addr)
	c.Timeout = 2 * time.Second
	d := &tls.Dialer{Config: cfg}
	c.DialContext = d.DialContext
	return c
}

// TestClientTLS serves gomemcache over TLS with a client certificate
// required, and closes a plaintext client and one without a certificate.
func TestClientTLS(t *testing.T) {
	f := newClientTLSFiles(t)
	_, addrs := startNodes(t, 2)
	pc := faultPool(addrs...)
	pc.ClientTLS = &config.ClientTLS{CertFile: f.server.CertFile, KeyFile: f.server.KeyFile, ClientCAFile: f.clientCA.File}
	tp := startPool(t, pc, nil)

	c := tlsClient(t, tp.addr, f.serverCA.File, f.client)
	for i := range 20 {
		k := "tls-client-" + string(rune('a'+i))
		if err := c.Set(&memcache.Item{Key: k, Value: []byte(k)}); err != nil {
			t.Fatalf("set over TLS: %v", err)
		}
		if it, err := c.Get(k); err != nil || string(it.Value) != k {
			t.Fatalf("get over TLS: %v", err)
		}
	}

	// A plaintext client is closed, not left waiting.
	raw := dialRaw(t, tp.addr)
	start := time.Now()
	if reply, err := raw.ask("get k\r\n"); err == nil || time.Since(start) > 2*time.Second {
		t.Errorf("a plaintext client got %q, %v after %v; want the connection closed at once", reply, err, time.Since(start))
	}
	// A client without a certificate is refused.
	if err := tlsClient(t, tp.addr, f.serverCA.File, testenv.Pair{}).Set(&memcache.Item{Key: "k", Value: []byte("v")}); err == nil {
		t.Error("a client without a certificate was served")
	}
}

// TestClientTLSRotation replaces the listener's certificate files and
// reloads: new connections get the new certificate.
func TestClientTLSRotation(t *testing.T) {
	f := newClientTLSFiles(t)
	dir := t.TempDir()
	cert, key := dir+"/listener.pem", dir+"/listener.key"
	copyFile(t, f.server.CertFile, cert)
	copyFile(t, f.server.KeyFile, key)
	_, addrs := startNodes(t, 1)
	pc := faultPool(addrs...)
	pc.ClientTLS = &config.ClientTLS{CertFile: cert, KeyFile: key}
	tp := startPool(t, pc, nil)
	set := func(ca string) error {
		return tlsClient(t, tp.addr, ca, testenv.Pair{}).Set(&memcache.Item{Key: "k", Value: []byte("v")})
	}
	if err := set(f.serverCA.File); err != nil {
		t.Fatalf("before the rotation: %v", err)
	}
	next := testenv.NewCA(t, "next-ca")
	rotated := next.Issue(t, "rotated", time.Now().Add(24*time.Hour), "127.0.0.1")
	copyFile(t, rotated.CertFile, cert)
	copyFile(t, rotated.KeyFile, key)
	if err := set(next.File); err == nil {
		t.Fatal("the new certificate was served before the reload")
	}
	cfg := config.Default()
	cfg.Pools = []config.Pool{pc}
	if err := tp.px.Reload(&cfg); err != nil {
		t.Fatal(err)
	}
	if err := set(next.File); err != nil {
		t.Errorf("after the reload, with the new CA: %v", err)
	}
	if err := set(f.serverCA.File); err == nil {
		t.Error("after the reload, the old certificate is still served")
	}
}

// copyFile replaces to with the content of from.
func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// pyTLSClient stores and reads a key with pymemcache over TLS, trusting
// the CA in argv[3] and showing the certificate and key in argv[4:6].
const pyTLSClient = `
import ssl, sys
from pymemcache.client.base import Client

ctx = ssl.create_default_context(cafile=sys.argv[3])
ctx.load_cert_chain(sys.argv[4], sys.argv[5])
c = Client((sys.argv[1], int(sys.argv[2])), tls_context=ctx)
c.set("py:tls", b"over tls")
assert c.get("py:tls") == b"over tls", c.get("py:tls")
print("ok")
`

// TestPythonClientTLSBothWays: pymemcache with a tls_context, through a
// client_tls listener requiring its certificate, to memcached nodes that
// speak only TLS.
func TestPythonClientTLSBothWays(t *testing.T) {
	py := debianPython(t)
	nodes := startTLSFleet(t, 2)
	listener := newClientTLSFiles(t)
	pc := nodes.pool()
	pc.ClientTLS = &config.ClientTLS{CertFile: listener.server.CertFile, KeyFile: listener.server.KeyFile, ClientCAFile: listener.clientCA.File}
	tp := startPool(t, pc, nil)
	host, port, err := net.SplitHostPort(tp.addr)
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(t.TempDir(), "tls.py")
	if err := os.WriteFile(script, []byte(pyTLSClient), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, script, host, port, listener.serverCA.File, listener.client.CertFile, listener.client.KeyFile).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Errorf("pymemcache over TLS: %v\n%s", err, out)
	}
}
