package tlsconf

import (
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"hashproxy/internal/config"
	"hashproxy/internal/testenv"
)

func TestClient(t *testing.T) {
	ca := testenv.NewCA(t, "ca")
	pair := ca.Issue(t, "client", time.Now().Add(time.Hour), "client")
	c, err := Client(&config.TLS{CAFile: ca.File, CertFile: pair.CertFile, KeyFile: pair.KeyFile, ServerName: "cache.example", MinVersion: "1.3"})
	if err != nil {
		t.Fatal(err)
	}
	if c.MinVersion != tls.VersionTLS13 || c.ServerName != "cache.example" || c.RootCAs == nil || len(c.Certificates) != 1 {
		t.Errorf("config %+v", c)
	}
	if c, err := Client(nil); c != nil || err != nil {
		t.Errorf("no tls section: %v, %v", c, err)
	}
	for name, tt := range map[string]struct {
		t    config.TLS
		want string
	}{
		"missing ca":   {config.TLS{CAFile: "/nonexistent/ca.pem", MinVersion: "1.2"}, "tls: ca_file: open /nonexistent/ca.pem"},
		"key as ca":    {config.TLS{CAFile: pair.KeyFile, MinVersion: "1.2"}, "no PEM certificate in it"},
		"key mismatch": {config.TLS{CertFile: pair.CertFile, KeyFile: ca.Issue(t, "other", time.Now().Add(time.Hour), "o").KeyFile, MinVersion: "1.2"}, "tls: client certificate"},
		"version":      {config.TLS{MinVersion: "1.0"}, `min_version "1.0"`},
	} {
		if _, err := Client(&tt.t); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want an error with %q", name, err, tt.want)
		}
	}
}

func TestServer(t *testing.T) {
	ca := testenv.NewCA(t, "ca")
	pair := ca.Issue(t, "listener", time.Now().Add(time.Hour), "127.0.0.1")
	c, err := Server(&config.ClientTLS{CertFile: pair.CertFile, KeyFile: pair.KeyFile})
	if err != nil || c.ClientAuth != tls.NoClientCert || len(c.Certificates) != 1 || c.MinVersion != tls.VersionTLS12 {
		t.Errorf("without client CA: %+v, %v", c, err)
	}
	c, err = Server(&config.ClientTLS{CertFile: pair.CertFile, KeyFile: pair.KeyFile, ClientCAFile: ca.File})
	if err != nil || c.ClientAuth != tls.RequireAndVerifyClientCert || c.ClientCAs == nil {
		t.Errorf("with client CA: %+v, %v", c, err)
	}
	if _, err := Server(&config.ClientTLS{CertFile: pair.CertFile, KeyFile: pair.KeyFile, ClientCAFile: pair.KeyFile}); err == nil || !strings.Contains(err.Error(), "client_tls: client_ca_file") {
		t.Errorf("a key as client CA: %v", err)
	}
}
