package config

import (
	"errors"
	"testing"
)

func TestParseTLS(t *testing.T) {
	for name, src := range map[string]string{
		"nutcracker.yml": "a:\n  listen: :1\n  tls:\n    ca_file: /etc/ca.pem\n    cert_file: c.pem\n    key_file: c.key\n    server_name: cache.example\n    min_version: 1.3\n  servers: [127.0.0.1:1]\n",
		"hashproxy.yaml": "pools:\n  a:\n    tls: {ca_file: /etc/ca.pem, cert_file: c.pem, key_file: c.key, server_name: cache.example, min_version: '1.3'}\n    servers: [127.0.0.1:1]\n",
	} {
		cfg, err := Parse(name, []byte(src))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want := TLS{CAFile: "/etc/ca.pem", CertFile: "c.pem", KeyFile: "c.key", ServerName: "cache.example", MinVersion: "1.3"}
		if got := cfg.Pools[0].TLS; got == nil || *got != want {
			t.Errorf("%s: tls %+v, want %+v", name, got, want)
		}
	}
	cfg, err := Parse("f", []byte("a:\n  listen: :1\n  tls: {}\n  servers: [127.0.0.1:1]\n"))
	if err != nil || *cfg.Pools[0].TLS != (TLS{MinVersion: "1.2"}) {
		t.Errorf("empty tls section: %+v, %v; want the system's CAs and TLS 1.2", cfg.Pools[0].TLS, err)
	}
	if cfg, err := Parse("f", []byte("a:\n  listen: :1\n  servers: [127.0.0.1:1]\n")); err != nil || cfg.Pools[0].TLS != nil {
		t.Errorf("no tls section: %+v, %v; want plain TCP", cfg.Pools[0].TLS, err)
	}
}

func TestParseTLSProblems(t *testing.T) {
	const head = "a:\n  listen: :1\n  servers: [127.0.0.1:1]\n"
	tests := []struct{ name, src, want string }{
		{"not a mapping", head + "  tls: true\n", `f:4: pool "a": tls must be a mapping`},
		{"unknown key", head + "  tls:\n    ca: x\n", `f:5: pool "a": tls: unknown key "ca" (want ca_file, cert_file, key_file, server_name, min_version)`},
		{"version", head + "  tls:\n    min_version: 1.1\n", `f:5: pool "a": tls.min_version: "1.1" is not one of 1.2, 1.3`},
		{"cert without key", head + "  tls:\n    cert_file: c.pem\n", `f:5: pool "a": tls: cert_file and key_file go together: give both or neither`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("f", []byte(tt.src))
			var ce *Error
			if !errors.As(err, &ce) || ce.Error() != tt.want {
				t.Errorf("got\n%v\nwant\n%s", err, tt.want)
			}
		})
	}
}

func TestParseClientTLS(t *testing.T) {
	cfg, err := Parse("f", []byte("a:\n  listen: :1\n  client_tls:\n    cert_file: s.pem\n    key_file: s.key\n    client_ca_file: ca.pem\n  servers: [127.0.0.1:1]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.Pools[0].ClientTLS, (ClientTLS{CertFile: "s.pem", KeyFile: "s.key", ClientCAFile: "ca.pem"}); got == nil || *got != want {
		t.Errorf("client_tls %+v, want %+v", got, want)
	}
	for src, want := range map[string]string{
		"a:\n  listen: :1\n  servers: [127.0.0.1:1]\n  client_tls:\n    cert_file: s.pem\n": `f:5: pool "a": client_tls: cert_file and key_file are required`,
		"a:\n  listen: :1\n  servers: [127.0.0.1:1]\n  client_tls:\n    ca_file: ca.pem\n":  `f:5: pool "a": client_tls: unknown key "ca_file" (want cert_file, key_file, client_ca_file)`,
	} {
		_, err := Parse("f", []byte(src))
		var ce *Error
		if !errors.As(err, &ce) || ce.Error() != want {
			t.Errorf("got\n%v\nwant\n%s", err, want)
		}
	}
}
