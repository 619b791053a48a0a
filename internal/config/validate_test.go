package config

import (
	"errors"
	"strings"
	"testing"
)

// quickStart builds a configuration the way the serve command's flags do.
func quickStart(t *testing.T, servers ...string) Config {
	t.Helper()
	cfg := Default()
	p := DefaultPool()
	for _, s := range servers {
		srv, err := ParseServer(s)
		if err != nil {
			t.Fatal(err)
		}
		p.Servers = append(p.Servers, srv)
	}
	cfg.Pools = append(cfg.Pools, p)
	return cfg
}

func TestDefaultsValidate(t *testing.T) {
	cfg := quickStart(t, "127.0.0.1:11211")
	if err := cfg.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
}

func TestValidateBuiltInCode(t *testing.T) {
	cfg := quickStart(t, "127.0.0.1:11211", "127.0.0.1:11211")
	second := DefaultPool()
	second.Servers = []Server{{Addr: "wrong:1", Host: "h", Port: 2, Weight: 1}}
	cfg.Pools = append(cfg.Pools, second)
	cfg.Admin.Listen = DefaultListen
	cfg.Log.Level = "loud"
	err := cfg.Validate()
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("want *Error, got %v", err)
	}
	want := []string{
		`config: pool "default": server "127.0.0.1:11211": address repeated (first as server 1)`,
		`config: pool "default": pool name repeated`,
		`config: pool "default": server "wrong:1": address does not match host "h" and port 2`,
		`config: pool "default": listen: 127.0.0.1:22122 is also the listen address of pool "default"`,
		`config: admin.listen: 127.0.0.1:22122 is also the listen address of pool "default" (move the admin listener with admin.listen or serve --admin-listen ADDR; "" turns it off)`,
		`config: log.level: "loud" is not one of debug, info, warn, error`,
	}
	if got := ce.Error(); got != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", got, strings.Join(want, "\n"))
	}
}

func TestValidateNoPools(t *testing.T) {
	cfg := Default()
	if err := cfg.Validate(); err == nil || err.Error() != "config: no pools" {
		t.Errorf("got %v, want config: no pools", err)
	}
}

func TestValidateListenPortZero(t *testing.T) {
	// Port 0 asks for any free port, so two pools may both use it.
	cfg := quickStart(t, "127.0.0.1:11211")
	cfg.Pools[0].Listen = "127.0.0.1:0"
	p := cfg.Pools[0]
	p.Name = "other"
	cfg.Pools = append(cfg.Pools, p)
	cfg.Admin.Listen = "127.0.0.1:0"
	if err := cfg.Validate(); err != nil {
		t.Errorf("port 0 twice: %v", err)
	}
}

func TestValidateListenDistinctHosts(t *testing.T) {
	cfg := quickStart(t, "127.0.0.1:11211")
	cfg.Pools[0].Listen = "127.0.0.1:5000"
	p := cfg.Pools[0]
	p.Name = "other"
	p.Listen = "127.0.0.2:5000"
	cfg.Pools = append(cfg.Pools, p)
	if err := cfg.Validate(); err != nil {
		t.Errorf("same port on two hosts: %v", err)
	}
	cfg.Pools[1].Listen = "[::]:5000"
	if err := cfg.Validate(); err == nil {
		t.Errorf("wildcard host on a taken port: no error")
	}
}

func TestValidateAdminOff(t *testing.T) {
	cfg := quickStart(t, "127.0.0.1:11211")
	cfg.Admin.Listen = ""
	if err := cfg.Validate(); err != nil {
		t.Errorf("admin off: %v", err)
	}
}

func TestProblemString(t *testing.T) {
	tests := []struct {
		p    Problem
		want string
	}{
		{Problem{File: "a.yml", Line: 3, Pool: "p", Msg: "m"}, `a.yml:3: pool "p": m`},
		{Problem{File: "a.yml", Msg: "m"}, `a.yml: m`},
		{Problem{Pool: "p q", Msg: "m"}, `config: pool "p q": m`},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("%+v: got %q, want %q", tt.p, got, tt.want)
		}
	}
}

// TestValidateReplicationWithLookups accepts more copies than servers
// written out when a pool discovers its nodes: how many there are changes
// while it serves.
func TestValidateReplicationWithLookups(t *testing.T) {
	if _, err := Parse("f", []byte("a:\n  listen: :1\n  replication_factor: 3\n  servers: [127.0.0.1:11211:1, dns+memcached:11211]\n")); err != nil {
		t.Errorf("replication_factor 3 with a lookup: %v", err)
	}
}

// TestWeightLimits: ketama takes weights as large as twemproxy's sample
// file's 100000; md5_ring, which gives replicas points per unit of weight,
// and modula, which gives a slot per unit, are bounded.
func TestWeightLimits(t *testing.T) {
	for _, tc := range []struct {
		dist    string
		weights []string
		err     string
	}{
		{"ketama", []string{"127.0.0.1:11214:100000", "127.0.0.1:11215:1"}, ""},
		{"ketama", []string{"127.0.0.1:11214:1000001"}, "weight 1000001 is out of range [1, 1000000]"},
		{"modula", []string{"127.0.0.1:11214:100000", "127.0.0.1:11215:1"}, ""},
		{"modula", []string{"127.0.0.1:1:1000000", "127.0.0.1:2:1000000", "127.0.0.1:3:1000000", "127.0.0.1:4:1000000", "127.0.0.1:5:1000000",
			"127.0.0.1:6:1000000", "127.0.0.1:7:1000000", "127.0.0.1:8:1000000", "127.0.0.1:9:1000000", "127.0.0.1:10:1000000", "127.0.0.1:11:1"},
			"servers: weights add up to 10000001, more than modula's 10000000"},
		{"md5_ring", []string{"127.0.0.1:11214:10000"}, ""},
		{"md5_ring", []string{"127.0.0.1:11214:10001"}, "weight 10001 is out of range [1, 10000]"},
	} {
		cfg := quickStart(t, tc.weights...)
		cfg.Pools[0].Distribution = tc.dist
		err := cfg.Validate()
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s %v: got %v, want %q", tc.dist, tc.weights, err, tc.err)
		}
	}
}
