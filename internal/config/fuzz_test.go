package config

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

func FuzzParse(f *testing.F) {
	for _, name := range []string{"hashproxy.yaml", "nutcracker.yml"} {
		data, err := os.ReadFile(filepath.Join(examples, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"",
		"# only a comment\n",
		"---\n...\n",
		"a:\n  listen: 127.0.0.1:22122\n  servers:\n    - 127.0.0.1:11211:1\n",
		"a: &x\n  listen: :1\n  servers: [h:1:1]\nb: *x\n",
		"a:\n  listen: :1\n  <<: {hash: md5}\n",
		"pools:\n  a: {servers: ['[::1]:1:1 n']}\nadmin: {listen: ''}\nlog: {level: debug}\n",
		"pools: {}\n",
		"pools: [a]\n",
		"? [a]\n: b\n",
		"a:\n  timeout: 9223372036854775807\n  max_keys: 0x10\n  backlog: 1_000\n",
		"a:\n  listen: [\n",
		"a: !!binary aGVsbG8=\n",
		"a:\n  servers:\n    - ' '\n    - ':1:1'\n    - 'h:1:1 a b'\n",
		"a:\n  listen: :1\n  discovery_interval: 1s\n  servers: [dns+h:1:2, 'dnssrv+_mc._tcp.h']\n",
		"a:\n  listen: :1\n  elasticache: cfg:11211\n  discovery_resolver: '[::1]:53'\n",
		"a:\n  listen: :1\n  tls: {ca_file: ca.pem, cert_file: c.pem, key_file: c.key, min_version: 1.3}\n  servers: [h:1]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("f.yml", data)
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) || len(ce.Problems) == 0 || cfg != nil {
				t.Fatalf("error %v (%T) with config %v", err, err, cfg)
			}
			for _, p := range ce.Problems {
				if p.File != "f.yml" || p.Msg == "" || p.Line < 0 {
					t.Fatalf("bad problem %+v", p)
				}
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("parsed config does not validate: %v", err)
		}
		for _, p := range cfg.Pools {
			if len(p.Servers)+len(p.Lookups) == 0 || p.Timeout <= 0 {
				t.Fatalf("pool %q accepted without servers or timeout", p.Name)
			}
		}
	})
}

func FuzzParseServer(f *testing.F) {
	for _, s := range []string{
		"127.0.0.1:11211:1", "127.0.0.1:11211", "h:1:2 name", "[::1]:11211:3 six",
		"", ":", "::", "h:", ":1:1", "h:1:x", "h:1:1 a b", "::1:11211:1",
		"/tmp/s:1", "h:99999999999999999999:1", "[h]:1:1\t n", "h:+1:-1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		srv, err := ParseServer(s)
		if err != nil {
			return
		}
		// What parsed must read back the same when written out again.
		again := srv.Addr + ":" + strconv.Itoa(srv.Weight)
		if srv.Name != "" {
			again += " " + srv.Name
		}
		back, err := ParseServer(again)
		if err != nil || back != srv {
			t.Fatalf("%q parsed to %+v, which writes as %q and reads back as %+v, %v", s, srv, again, back, err)
		}
	})
}

func FuzzParseLookup(f *testing.F) {
	for _, s := range []string{
		"dns+memcached:11211", "dns+memcached:11211:3", "dns+[::1]:11211:2",
		"dnssrv+_mc._tcp.nodes.test", "dnssrv+_mc._tcp.nodes.test.:4",
		"dns+", "dnssrv+", "dns+h", "dns+:1", "dns+h:1:x", "dns+h:1:1 n", "dnssrv+1.2.3.4", "dnssrv+a:b:c",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := parseLookup(s)
		if err != nil {
			return
		}
		// What parsed must read back the same when written out again.
		back, err := parseLookup(l.String())
		if err != nil || back != l {
			t.Fatalf("%q parsed to %+v, which writes as %q and reads back as %+v, %v", s, l, l.String(), back, err)
		}
	})
}
