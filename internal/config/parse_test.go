package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseTwemproxyAllKeys(t *testing.T) {
	src := `alpha:
  listen: 127.0.0.1:22122
  hash: md5
  hash_tag: "{}"
  distribution: modula
  timeout: 250
  backlog: 1024
  preconnect: true
  redis: false
  redis_db: 0
  tcpkeepalive: true
  client_connections: 0
  server_connections: 4
  auto_eject_hosts: true
  server_retry_timeout: 2000
  server_failure_limit: 3
  replication_factor: 2
  warmup: 90000
  backfill_max_ttl: 10m
  servers:
    - 127.0.0.1:11211:1
    - 127.0.0.2:11212:3 big
`
	cfg, err := Parse("nutcracker.yml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultPool()
	want.Name = "alpha"
	want.Listen = "127.0.0.1:22122"
	want.Hash = "md5"
	want.HashTag = "{}"
	want.Distribution = "modula"
	want.ServerOrder = OrderTwemproxy // a nutcracker.yml places as nutcracker does
	want.Timeout = 250 * time.Millisecond
	want.Backlog = 1024
	want.Preconnect = true
	want.ClientConnections = 0
	want.ServerConnections = 4
	want.AutoEjectHosts = true
	want.ServerRetryTimeout = 2 * time.Second
	want.ServerFailureLimit = 3
	want.ReplicationFactor = 2
	want.Warmup = 90 * time.Second // an integer is milliseconds, as twemproxy's durations
	want.BackfillMaxTTL = 10 * time.Minute
	want.Servers = []Server{
		{Addr: "127.0.0.1:11211", Host: "127.0.0.1", Port: 11211, Weight: 1},
		{Addr: "127.0.0.2:11212", Host: "127.0.0.2", Port: 11212, Weight: 3, Name: "big"},
	}
	if len(cfg.Pools) != 1 || !reflect.DeepEqual(cfg.Pools[0], want) {
		t.Errorf("pools:\n got %+v\nwant %+v", cfg.Pools, want)
	}
	if cfg.Path != "nutcracker.yml" || cfg.Admin != Default().Admin || cfg.Log != Default().Log {
		t.Errorf("path/admin/log: got %q %+v %+v", cfg.Path, cfg.Admin, cfg.Log)
	}
}

func TestParseNative(t *testing.T) {
	src := `admin:
  listen: ""
  pprof: true
  hot_keys: hashed
log:
  level: debug
  format: json
pools:
  b:
    servers: [127.0.0.1:11311]
  a:
    listen: 127.0.0.1:22124
    timeout: 1m30s
    idle_timeout: 5m
    replicas: 160
    distribution: md5_ring
    max_item_size: 2097152
    max_line_length: 4096
    max_keys: 100
    max_inflight: 32
    replication_factor: 1
    warmup: 0
    backfill_max_ttl: 2h
    servers:
      - "[::1]:11311:2 six"
`
	cfg, err := Parse("hashproxy.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Admin != (Admin{Listen: "", Pprof: true, HotKeys: HotKeysHashed}) || cfg.Log != (Log{Level: "debug", Format: "json"}) {
		t.Errorf("admin/log: got %+v %+v", cfg.Admin, cfg.Log)
	}
	if len(cfg.Pools) != 2 || cfg.Pools[0].Name != "b" || cfg.Pools[1].Name != "a" {
		t.Fatalf("pools not in file order: %+v", cfg.Pools)
	}
	b := DefaultPool()
	b.Name = "b"
	b.Servers = []Server{{Addr: "127.0.0.1:11311", Host: "127.0.0.1", Port: 11311, Weight: 1}}
	if !reflect.DeepEqual(cfg.Pools[0], b) {
		t.Errorf("pool b (defaults):\n got %+v\nwant %+v", cfg.Pools[0], b)
	}
	a := DefaultPool()
	a.Name = "a"
	a.Listen = "127.0.0.1:22124"
	a.Timeout = 90 * time.Second
	a.IdleTimeout = 5 * time.Minute
	a.Replicas = 160
	a.Distribution = "md5_ring"
	a.MaxItemSize = 2 << 20
	a.MaxLineLength = 4096
	a.MaxKeys = 100
	a.MaxInflight = 32
	a.Warmup = 0
	a.BackfillMaxTTL = 2 * time.Hour
	a.Servers = []Server{{Addr: "[::1]:11311", Host: "::1", Port: 11311, Weight: 2, Name: "six"}}
	if !reflect.DeepEqual(cfg.Pools[1], a) {
		t.Errorf("pool a:\n got %+v\nwant %+v", cfg.Pools[1], a)
	}
}

func TestParseNativeAdminDefault(t *testing.T) {
	cfg, err := Parse("x.yaml", []byte("pools:\n  p:\n    servers: [127.0.0.1:1]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Admin.Listen != DefaultAdminListen || cfg.Pools[0].Listen != DefaultListen {
		t.Errorf("admin %q listen %q, want defaults", cfg.Admin.Listen, cfg.Pools[0].Listen)
	}
}

func TestParseTwemproxyPoolNamedPools(t *testing.T) {
	// A twemproxy pool may be called "pools"; its value is not a mapping of
	// mappings, so the file is still read as twemproxy's format.
	cfg, err := Parse("x.yml", []byte("pools:\n  listen: 127.0.0.1:22122\n  servers:\n    - 127.0.0.1:11211:1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Pools) != 1 || cfg.Pools[0].Name != "pools" {
		t.Errorf("got %+v", cfg.Pools)
	}
}

func TestParseAliases(t *testing.T) {
	src := `pools:
  a:
    listen: 127.0.0.1:22122
    servers: &nodes
      - 127.0.0.1:11311:1
  b:
    listen: 127.0.0.1:22124
    servers: *nodes
`
	cfg, err := Parse("x.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg.Pools[0].Servers, cfg.Pools[1].Servers) {
		t.Errorf("alias not followed: %+v", cfg.Pools)
	}
}

// TestParseProblems checks that each mistake is reported with its line and
// pool, and that no valid file is rejected on the way.
func TestParseProblems(t *testing.T) {
	const servers = "  servers:\n    - 127.0.0.1:11211:1\n"
	tests := []struct {
		name string
		src  string
		want string // one problem, exactly
	}{
		{"empty file", "", `f: no pools: the file is empty`},
		{"yaml syntax", "a:\n  listen: [\n", `f:2: yaml: did not find expected node content`},
		{"top level list", "- a\n", `f:1: the top level (pool name to settings) must be a mapping`},
		{"pool not mapping", "a: 3\n", `f:1: pool "a": pool must be a mapping`},
		{"unknown key", "a:\n  listen: 127.0.0.1:1\n  lisen: x\n" + servers, `f:3: pool "a": unknown key "lisen"`},
		{"repeated key", "a:\n  listen: 127.0.0.1:1\n  listen: 127.0.0.1:2\n" + servers, `f:3: pool "a": pool: key "listen" repeated (first on line 2)`},
		{"twemproxy listen missing", "a:\n" + servers, `f:1: pool "a": listen: missing (twemproxy's format requires it)`},
		{"listen bad", "a:\n  listen: localhost\n" + servers, `f:2: pool "a": listen: "localhost": missing port in address`},
		{"listen port", "a:\n  listen: 127.0.0.1:70000\n" + servers, `f:2: pool "a": listen: "127.0.0.1:70000": port "70000" is not a number in [0, 65535]`},
		{"listen unix mode not octal", "a:\n  listen: /tmp/x.sock 0999\n" + servers, `f:2: pool "a": listen: "/tmp/x.sock 0999": mode "0999" is not octal permissions such as 0666`},
		{"listen unix mode too wide", "a:\n  listen: /tmp/x.sock 01777\n" + servers, `f:2: pool "a": listen: "/tmp/x.sock 01777": mode "01777" is not octal permissions such as 0666`},
		{"listen unix path too long", "a:\n  listen: /" + strings.Repeat("x", 110) + "\n" + servers, `f:2: pool "a": listen: "/` + strings.Repeat("x", 110) + `": socket path is 111 bytes, more than the system's 107`},
		{"listen unix twice", "a:\n  listen: /tmp/x.sock\n" + servers + "b:\n  listen: /tmp/x.sock 0600\n" + servers, `f:6: pool "b": listen: /tmp/x.sock is also the socket of pool "a"`},
		{"server unix path with a space", "a:\n  listen: 127.0.0.1:1\n  servers:\n   - /tmp/mc.sock:1 n extra\n", `f:4: pool "a": server "/tmp/mc.sock:1 n extra": want "host:port:weight [name]" with a name without spaces`},
		{"hash", "a:\n  listen: :1\n  hash: sha1\n" + servers, `f:3: pool "a": hash: "sha1" is not one of one_at_a_time, md5, crc16, crc32, crc32a, fnv1_64, fnv1a_64, fnv1_32, fnv1a_32, hsieh, murmur, jenkins`},
		{"hash tag", "a:\n  listen: :1\n  hash_tag: \"{\"\n" + servers, `f:3: pool "a": hash_tag: "{" must be two characters, such as "{}"`},
		{"random", "a:\n  listen: :1\n  distribution: random\n" + servers, `f:3: pool "a": distribution: random is not supported: a cache needs each key on one node`},
		{"server order", "a:\n  listen: :1\n  server_order: sorted\n" + servers, `f:3: pool "a": server_order: "sorted" is not one of listed, twemproxy`},
		{"distribution", "a:\n  listen: :1\n  distribution: maglev\n" + servers, `f:3: pool "a": distribution: "maglev" is not one of ketama, modula, md5_ring`},
		{"redis", "a:\n  listen: :1\n  redis: true\n" + servers, `f:3: pool "a": redis pools are not supported: hashproxy speaks the memcached protocol only`},
		{"redis auth", "a:\n  listen: :1\n  redis_auth: pw\n" + servers, `f:3: pool "a": redis_auth: only valid for a redis pool, and redis pools are not supported`},
		{"not int", "a:\n  listen: :1\n  backlog: lots\n" + servers, `f:3: pool "a": backlog: "lots" is not an integer`},
		{"float", "a:\n  listen: :1\n  max_keys: 1.5\n" + servers, `f:3: pool "a": max_keys: "1.5" is not an integer`},
		{"int overflow", "a:\n  listen: :1\n  max_keys: 99999999999999999999\n" + servers, `f:3: pool "a": max_keys: "99999999999999999999" is not an integer`},
		{"not bool", "a:\n  listen: :1\n  preconnect: yes\n" + servers, `f:3: pool "a": preconnect: "yes" is not true or false`},
		{"duration", "a:\n  listen: :1\n  timeout: soon\n" + servers, `f:3: pool "a": timeout: "soon" is neither milliseconds nor a duration like "250ms"`},
		{"duration overflow", "a:\n  listen: :1\n  timeout: 9223372036854775807\n" + servers, `f:3: pool "a": timeout: "9223372036854775807" is neither milliseconds nor a duration like "250ms"`},
		{"timeout zero", "a:\n  listen: :1\n  timeout: 0\n" + servers, `f:3: pool "a": timeout: 0s must be more than 0`},
		{"timeout huge", "a:\n  listen: :1\n  timeout: 2h\n" + servers, `f:3: pool "a": timeout: 2h0m0s is more than 1h0m0s`},
		{"idle negative", "a:\n  listen: :1\n  idle_timeout: -1s\n" + servers, `f:3: pool "a": idle_timeout: -1s must be more than 0`},
		{"server connections zero", "a:\n  listen: :1\n  server_connections: 0\n" + servers, `f:3: pool "a": server_connections: 0 is out of range [1, 1024]`},
		{"client connections negative", "a:\n  listen: :1\n  client_connections: -1\n" + servers, `f:3: pool "a": client_connections: -1 is out of range [0, 1048576]`},
		{"line length small", "a:\n  listen: :1\n  max_line_length: 100\n" + servers, `f:3: pool "a": max_line_length: 100 is out of range [1024, 67108864]`},
		{"replication zero", "a:\n  listen: :1\n  replication_factor: 0\n" + servers, `f:3: pool "a": replication_factor: 0 must be at least 1`},
		{"replication over servers", "a:\n  listen: :1\n  replication_factor: 2\n" + servers, `f:3: pool "a": replication_factor: 2 is more than the 1 servers`},
		{"warmup negative", "a:\n  listen: :1\n  warmup: -1m\n" + servers, `f:3: pool "a": warmup: -1m0s must be more than 0`},
		{"warmup huge", "a:\n  listen: :1\n  warmup: 48h\n" + servers, `f:3: pool "a": warmup: 48h0m0s is more than 24h0m0s`},
		{"backfill ttl zero", "a:\n  listen: :1\n  backfill_max_ttl: 0\n" + servers, `f:3: pool "a": backfill_max_ttl: 0s must be more than 0`},
		{"backfill ttl fraction", "a:\n  listen: :1\n  backfill_max_ttl: 1500ms\n" + servers, `f:3: pool "a": backfill_max_ttl: 1.5s is not a whole number of seconds`},
		{"backfill ttl huge", "a:\n  listen: :1\n  backfill_max_ttl: 800h\n" + servers, `f:3: pool "a": backfill_max_ttl: 800h0m0s is more than 720h0m0s`},
		{"no servers key", "a:\n  listen: :1\n", `f:1: pool "a": servers: none given`},
		{"empty servers", "a:\n  listen: :1\n  servers: []\n", `f:3: pool "a": servers: none given`},
		{"servers not list", "a:\n  listen: :1\n  servers: 127.0.0.1:1:1\n", `f:3: pool "a": servers: must be a list of "host:port:weight [name]"`},
		{"server not scalar", "a:\n  listen: :1\n  servers:\n    - {a: 1}\n    - 127.0.0.1:1:1\n", `f:4: pool "a": servers: each must be "host:port:weight [name]"`},
		{"server syntax", "a:\n  listen: :1\n  servers:\n    - 127.0.0.1:1:1\n    - nohost\n", `f:5: pool "a": server "nohost": want "host:port:weight [name]"`},
		{"server port", "a:\n  listen: :1\n  servers:\n    - 127.0.0.1:0:1\n", `f:4: pool "a": server "127.0.0.1:0": port 0 is out of range [1, 65535]`},
		{"server weight", "a:\n  listen: :1\n  servers:\n    - 127.0.0.1:1:0\n", `f:4: pool "a": server "127.0.0.1:1": weight 0 is out of range [1, 1000000]`},
		{"server host", "a:\n  listen: :1\n  servers:\n    - :11211:1\n", `f:4: pool "a": server ":11211": host is empty`},
		{"dup addr", "a:\n  listen: :1\n  servers:\n    - 127.0.0.1:1:1 x\n    - 127.0.0.1:1:2 y\n", `f:5: pool "a": server "127.0.0.1:1": address repeated (first on line 4)`},
		{"dup name", "a:\n  listen: :1\n  servers:\n    - 127.0.0.1:1:1 x\n    - 127.0.0.1:2:1 x\n", `f:5: pool "a": server "127.0.0.1:2": name "x" repeated (first on line 4)`},
		{"name is other addr", "a:\n  listen: :1\n  servers:\n    - 127.0.0.1:1:1\n    - 127.0.0.1:2:1 127.0.0.1:1\n", `f:5: pool "a": server "127.0.0.1:2": name "127.0.0.1:1" repeated (first on line 4)`},
		{"dup listen", "a:\n  listen: 127.0.0.1:5\n" + servers + "b:\n  listen: 127.0.0.1:5\n" + servers, `f:6: pool "b": listen: 127.0.0.1:5 is also the listen address of pool "a"`},
		{"dup listen wildcard", "a:\n  listen: 0.0.0.0:5\n" + servers + "b:\n  listen: 127.0.0.1:5\n" + servers, `f:6: pool "b": listen: 127.0.0.1:5 is also the listen address of pool "a"`},
		{"native unknown top", "pools:\n  a:\n    servers: [127.0.0.1:1]\nlogs: {}\n", `f:4: unknown top-level key "logs" (want admin, log, pools)`},
		{"native no pools", "pools: {}\n", `f:1: no pools`},
		{"native admin key", "admin:\n  port: 1\npools:\n  a:\n    servers: [127.0.0.1:1]\n", `f:2: admin: unknown key "port" (want listen, pprof, hot_keys)`},
		{"native admin listen", "admin:\n  listen: nowhere\npools:\n  a:\n    servers: [127.0.0.1:1]\n", `f:2: admin.listen: "nowhere": missing port in address`},
		{"native admin clash", "admin:\n  listen: 127.0.0.1:22122\npools:\n  a:\n    servers: [127.0.0.1:1]\n", `f:2: admin.listen: 127.0.0.1:22122 is also the listen address of pool "a" (move the admin listener with admin.listen or serve --admin-listen ADDR; "" turns it off)`},
		{"native admin list", "admin:\n  listen: [a]\npools:\n  a:\n    servers: [127.0.0.1:1]\n", `f:2: admin.listen: must be a single value`},
		{"native admin hot keys", "admin:\n  hot_keys: yes\npools:\n  a:\n    servers: [127.0.0.1:1]\n", `f:2: admin.hot_keys: "yes" is not one of on, hashed, off`},
		{"native log level", "log:\n  level: trace\npools:\n  a:\n    servers: [127.0.0.1:1]\n", `f:2: log.level: "trace" is not one of debug, info, warn, error`},
		{"native log format", "log:\n  format: xml\npools:\n  a:\n    servers: [127.0.0.1:1]\n", `f:2: log.format: "xml" is not one of console, json`},
		{"native log key", "log:\n  color: true\npools:\n  a:\n    servers: [127.0.0.1:1]\n", `f:2: log: unknown key "color" (want level, format)`},
		{"merge key", "a:\n  listen: :1\n  <<: {hash: md5}\n" + servers, `f:3: pool "a": pool: merge keys (<<) are not supported`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("f", []byte(tt.src))
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("got config %+v, err %v; want *Error", cfg, err)
			}
			if cfg != nil {
				t.Errorf("got a config with an error")
			}
			if got := ce.Error(); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// TestParseReportsEveryProblem checks that one call reports all problems,
// in line order, each with file and line.
func TestParseReportsEveryProblem(t *testing.T) {
	src := `a:
  listen: 127.0.0.1:22122
  hash: nope
  servers:
    - 127.0.0.1:11211:0
b:
  listen: 127.0.0.1:22122
  timeout: -5
  servers: []
`
	_, err := Parse("conf.yml", []byte(src))
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("want *Error, got %v", err)
	}
	want := []string{
		`conf.yml:3: pool "a": hash: "nope" is not one of one_at_a_time, md5, crc16, crc32, crc32a, fnv1_64, fnv1a_64, fnv1_32, fnv1a_32, hsieh, murmur, jenkins`,
		`conf.yml:5: pool "a": server "127.0.0.1:11211": weight 0 is out of range [1, 1000000]`,
		`conf.yml:7: pool "b": listen: 127.0.0.1:22122 is also the listen address of pool "a"`,
		`conf.yml:8: pool "b": timeout: -5ms must be more than 0`,
		`conf.yml:9: pool "b": servers: none given`,
	}
	if got := strings.Split(ce.Error(), "\n"); !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for i, p := range ce.Problems {
		if p.File != "conf.yml" || p.Line == 0 {
			t.Errorf("problem %d without file or line: %+v", i, p)
		}
	}
}

// A nutcracker.yml deals modula slots in twemproxy's order unless it says
// otherwise; the native format in listed order unless it says otherwise.
func TestParseServerOrder(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"twemproxy default", "a:\n  listen: :1\n  servers:\n    - 127.0.0.1:11211:1\n", OrderTwemproxy},
		{"twemproxy listed", "a:\n  listen: :1\n  server_order: listed\n  servers:\n    - 127.0.0.1:11211:1\n", OrderListed},
		{"native default", "pools:\n  a:\n    servers:\n      - 127.0.0.1:11211:1\n", OrderListed},
		{"native twemproxy", "pools:\n  a:\n    server_order: twemproxy\n    servers:\n      - 127.0.0.1:11211:1\n", OrderTwemproxy},
	}
	for _, tc := range tests {
		cfg, err := Parse("f", []byte(tc.src))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := cfg.Pools[0].ServerOrder; got != tc.want {
			t.Errorf("%s: server_order %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestParseHotKeys: on and off are plain words here, not YAML 1.1 booleans.
func TestParseHotKeys(t *testing.T) {
	for _, v := range []string{HotKeysOn, HotKeysHashed, HotKeysOff} {
		cfg, err := Parse("f", []byte("admin:\n  hot_keys: "+v+"\npools:\n  a:\n    servers: [127.0.0.1:1]\n"))
		if err != nil {
			t.Fatalf("hot_keys: %s: %v", v, err)
		}
		if cfg.Admin.HotKeys != v {
			t.Errorf("hot_keys: %s parsed as %q", v, cfg.Admin.HotKeys)
		}
	}
	cfg, err := Parse("f", []byte("pools:\n  a:\n    servers: [127.0.0.1:1]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Admin.HotKeys != HotKeysOn {
		t.Errorf("hot_keys default %q, want on", cfg.Admin.HotKeys)
	}
}
