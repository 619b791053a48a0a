package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseLookup(t *testing.T) {
	tests := []struct {
		in   string
		want Lookup
		err  string // substring of the error; "" for success
	}{
		{in: "dns+memcached.cache.svc:11211", want: Lookup{Kind: LookupDNS, Host: "memcached.cache.svc", Port: 11211, Weight: 1}},
		{in: "dns+memcached:11211:3", want: Lookup{Kind: LookupDNS, Host: "memcached", Port: 11211, Weight: 3}},
		{in: "  dns+[::1]:11211:2 ", want: Lookup{Kind: LookupDNS, Host: "::1", Port: 11211, Weight: 2}},
		{in: "dnssrv+_memcache._tcp.memcached.cache.svc.cluster.local", want: Lookup{Kind: LookupSRV, Host: "_memcache._tcp.memcached.cache.svc.cluster.local", Weight: 1}},
		{in: "dnssrv+_mc._tcp.nodes.test.:4", want: Lookup{Kind: LookupSRV, Host: "_mc._tcp.nodes.test.", Weight: 4}},
		{in: "dns+h:0:0", want: Lookup{Kind: LookupDNS, Host: "h", Port: 0, Weight: 0}}, // ranges are Validate's
		{in: "dns+memcached", err: `want "dns+host:port[:weight]"`},
		{in: "dns+:11211", err: `host "" is not a host name`},
		{in: "dns+h/x:11211", err: `host "h/x" is not a host name`},
		{in: "dns+h:p", err: `port "p" is not a number`},
		{in: "dns+h:1:x", err: `weight "x" is not a number`},
		{in: "dns+h:1:1 name", err: "leave out the name"},
		{in: "dnssrv+", err: `want "dnssrv+_service._proto.name[:weight]"`},
		{in: "dnssrv+10.0.0.1", err: `want "dnssrv+_service._proto.name[:weight]"`},
		{in: "dnssrv+_mc._tcp.x:w", err: `weight "w" is not a number`},
		{in: "dnsx+h:1", err: `want "dns+host:port[:weight]" or "dnssrv+name[:weight]"`},
	}
	for _, tt := range tests {
		got, err := parseLookup(tt.in)
		switch {
		case tt.err == "" && err != nil:
			t.Errorf("parseLookup(%q): %v", tt.in, err)
		case tt.err == "" && got != tt.want:
			t.Errorf("parseLookup(%q) = %+v, want %+v", tt.in, got, tt.want)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("parseLookup(%q) = %+v, %v; want error with %q", tt.in, got, err, tt.err)
		}
	}
}

// TestParseDiscoveryBothFormats reads lookups, the elasticache key and the
// discovery settings from a nutcracker.yml and from the native format.
func TestParseDiscoveryBothFormats(t *testing.T) {
	twem := `a:
  listen: 127.0.0.1:22122
  discovery_interval: 2500
  discovery_resolver: 127.0.0.1:5353
  servers:
    - 127.0.0.1:11211:1 fixed
    - dns+memcached.test:11211:2
    - dnssrv+_memcache._tcp.memcached.test
b:
  listen: 127.0.0.1:22124
  elasticache: mycluster.cfg.use1.cache.amazonaws.com:11211
`
	native := `pools:
  a:
    listen: 127.0.0.1:22122
    discovery_interval: 2500ms
    discovery_resolver: 127.0.0.1:5353
    servers:
      - 127.0.0.1:11211:1 fixed
      - dns+memcached.test:11211:2
      - dnssrv+_memcache._tcp.memcached.test
  b:
    listen: 127.0.0.1:22124
    elasticache: mycluster.cfg.use1.cache.amazonaws.com:11211
`
	for name, src := range map[string]string{"nutcracker.yml": twem, "hashproxy.yaml": native} {
		cfg, err := Parse(name, []byte(src))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		a, b := cfg.Pools[0], cfg.Pools[1]
		wantA := []Lookup{
			{Kind: LookupDNS, Host: "memcached.test", Port: 11211, Weight: 2},
			{Kind: LookupSRV, Host: "_memcache._tcp.memcached.test", Weight: 1},
		}
		if !reflect.DeepEqual(a.Lookups, wantA) || len(a.Servers) != 1 || a.Servers[0].Name != "fixed" {
			t.Errorf("%s: pool a: servers %+v lookups %+v", name, a.Servers, a.Lookups)
		}
		if a.DiscoveryInterval != 2500*time.Millisecond || a.DiscoveryResolver != "127.0.0.1:5353" {
			t.Errorf("%s: pool a: interval %v resolver %q", name, a.DiscoveryInterval, a.DiscoveryResolver)
		}
		wantB := []Lookup{{Kind: LookupElastiCache, Host: "mycluster.cfg.use1.cache.amazonaws.com", Port: 11211, Weight: 1}}
		if !reflect.DeepEqual(b.Lookups, wantB) || len(b.Servers) != 0 || b.DiscoveryInterval != 10*time.Second {
			t.Errorf("%s: pool b: servers %+v lookups %+v interval %v", name, b.Servers, b.Lookups, b.DiscoveryInterval)
		}
	}
}

func TestLookupString(t *testing.T) {
	for _, s := range []string{"dns+memcached.test:11211:2", "dns+[::1]:1:1", "dnssrv+_mc._tcp.x:3"} {
		l, err := parseLookup(s)
		if err != nil || l.String() != s {
			t.Errorf("parseLookup(%q) = %v, %v; String %q", s, l, err, l.String())
		}
	}
	l := Lookup{Kind: LookupElastiCache, Host: "cfg.example", Port: 11211, Weight: 1}
	if got := l.String(); got != "elasticache: cfg.example:11211" {
		t.Errorf("String() = %q", got)
	}
}

// TestParseDiscoveryProblems checks that each discovery mistake is
// reported with its line and pool.
func TestParseDiscoveryProblems(t *testing.T) {
	const head = "a:\n  listen: :1\n"
	tests := []struct {
		name string
		src  string
		want string
	}{
		{"lookup syntax", head + "  servers:\n    - dns+nohost\n", `f:4: pool "a": server "dns+nohost": want "dns+host:port[:weight]": missing port in address`},
		{"lookup port", head + "  servers:\n    - 127.0.0.1:1:1\n    - dns+h:0\n", `f:5: pool "a": dns+h:0:1: port 0 is out of range [1, 65535]`},
		{"lookup weight", head + "  servers:\n    - dnssrv+_mc._tcp.h:0\n", `f:4: pool "a": dnssrv+_mc._tcp.h:0: weight 0 is out of range [1, 1000000]`},
		{"elasticache and servers", head + "  servers:\n    - 127.0.0.1:1:1\n  elasticache: cfg.example:11211\n", `f:5: pool "a": elasticache: the configuration endpoint lists the nodes: give it or servers, not both (servers on line 3)`},
		{"elasticache syntax", head + "  elasticache: cfg.example\n", `f:3: pool "a": elasticache: "cfg.example": want the configuration endpoint as host:port: missing port in address`},
		{"elasticache port", head + "  elasticache: cfg.example:70000\n", `f:3: pool "a": elasticache: cfg.example:70000: port 70000 is out of range [1, 65535]`},
		{"interval small", head + "  discovery_interval: 10ms\n  servers: [dns+h:1]\n", `f:3: pool "a": discovery_interval: 10ms is less than 100ms`},
		{"interval huge", head + "  discovery_interval: 25h\n  servers: [dns+h:1]\n", `f:3: pool "a": discovery_interval: 25h0m0s is more than 24h0m0s`},
		{"resolver name", head + "  discovery_resolver: dns.example:53\n  servers: [dns+h:1]\n", `f:3: pool "a": discovery_resolver: "dns.example:53" is not an ip:port`},
		{"resolver port", head + "  discovery_resolver: 127.0.0.1\n  servers: [dns+h:1]\n", `f:3: pool "a": discovery_resolver: "127.0.0.1" is not an ip:port`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("f", []byte(tt.src))
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("got config %+v, err %v; want *Error", cfg, err)
			}
			if got := ce.Error(); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// TestPoolAddServer checks that AddServer reads each servers entry as a
// configuration file's servers list does, and refuses what the file does.
func TestPoolAddServer(t *testing.T) {
	entries := []string{
		"127.0.0.1:11211:2 first",
		"dns+memcached.cache.svc:11211",
		"[::1]:11212",
		"dnssrv+_memcache._tcp.mc.test:3",
		"/run/memcached.sock:1",
	}
	src := "pools:\n  a:\n    servers:\n"
	for _, e := range entries {
		src += "      - '" + e + "'\n"
	}
	cfg, err := Parse("f", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var p Pool
	for _, e := range entries {
		if err := p.AddServer(e); err != nil {
			t.Fatalf("AddServer(%q): %v", e, err)
		}
	}
	want := cfg.Pools[0]
	if !reflect.DeepEqual(p.Servers, want.Servers) || !reflect.DeepEqual(p.Lookups, want.Lookups) {
		t.Errorf("AddServer: servers %+v, lookups %+v\nthe file: servers %+v, lookups %+v", p.Servers, p.Lookups, want.Servers, want.Lookups)
	}
	if len(p.Servers) != 3 || len(p.Lookups) != 2 {
		t.Errorf("got %d servers and %d lookups, want 3 and 2", len(p.Servers), len(p.Lookups))
	}
	for _, bad := range []string{"dns+h:1:1 name", "dnssrv+10.0.0.1", "127.0.0.1", "h:1:x"} {
		if err := p.AddServer(bad); err == nil || !strings.HasPrefix(err.Error(), "config: ") {
			t.Errorf("AddServer(%q) = %v, want a config error", bad, err)
		}
	}
}
