package config

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"hashproxy/internal/ring"
)

// Limits on numbers that have no natural bound, to catch typos.
const (
	// maxWeight is as high as ketama can use: twemproxy takes any positive
	// weight, and a ketama node's points depend only on its share of the
	// total. md5_ring gives replicas points per unit of weight, and modula
	// one slot, so they have tighter limits.
	maxWeight        = 1_000_000
	maxMD5RingWeight = 10_000
	maxModulaSlots   = 10_000_000
	maxReplicas      = 10000
	maxConnections   = 1 << 20
	maxItemSize      = 1 << 30 // memcached's own ceiling for -I
	minLineLength    = 1024    // fits a storage command with a 250-byte key
	maxLineLength    = 64 << 20
	maxTimeout       = time.Hour
	maxRetryTimeout  = 24 * time.Hour
	maxWarmup        = 24 * time.Hour
	// maxBackfillTTL is the longest expiry memcached takes as a number of
	// seconds; a larger one is read as a Unix time.
	maxBackfillTTL = 30 * 24 * time.Hour
	// minDiscoveryInterval keeps lookups from hammering a DNS server.
	minDiscoveryInterval = 100 * time.Millisecond
)

// Validate checks the whole configuration and returns an *Error listing
// every problem, each with its file and line when the configuration was
// read from a file, or nil.
func (c *Config) Validate() error {
	v := validator{c: c}
	if len(c.Pools) == 0 {
		v.add("", []string{"pools"}, "no pools")
	}
	seen := make(map[string]bool, len(c.Pools))
	for i := range c.Pools {
		p := &c.Pools[i]
		if seen[p.Name] {
			v.add(p.Name, []string{"pools", p.Name}, "pool name repeated")
		}
		seen[p.Name] = true
		v.pool(p)
	}
	if c.Admin.Listen != "" {
		if _, _, msg := splitListen(c.Admin.Listen); msg != "" {
			v.add("", []string{"admin", "listen"}, "admin.listen: %s", msg)
		}
	}
	if !slices.Contains([]string{HotKeysOn, HotKeysHashed, HotKeysOff}, c.Admin.HotKeys) {
		v.add("", []string{"admin", "hot_keys"}, "admin.hot_keys: %q is not one of on, hashed, off", c.Admin.HotKeys)
	}
	v.listeners()
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.Log.Level) {
		v.add("", []string{"log", "level"}, "log.level: %q is not one of debug, info, warn, error", c.Log.Level)
	}
	if !slices.Contains([]string{"console", "json"}, c.Log.Format) {
		v.add("", []string{"log", "format"}, "log.format: %q is not one of console, json", c.Log.Format)
	}
	return newError(v.problems)
}

// validator collects the problems of one Validate call.
type validator struct {
	c        *Config
	problems []Problem
}

// add records a problem at the line of the position named by at, or of the
// nearest enclosing position that has one.
func (v *validator) add(pool string, at []string, format string, args ...any) {
	v.problems = append(v.problems, Problem{
		File: v.c.Path,
		Line: v.c.line(at),
		Pool: pool,
		Msg:  fmt.Sprintf(format, args...),
	})
}

// line returns the line of the position named by at or its nearest parent,
// 0 when unknown.
func (c *Config) line(at []string) int {
	for n := len(at); n > 0; n-- {
		if l, ok := c.lines[posKey(at[:n]...)]; ok {
			return l
		}
	}
	return 0
}

// pool checks one pool's settings and servers.
func (v *validator) pool(p *Pool) {
	at := func(key string) []string { return []string{"pools", p.Name, key} }
	if p.Name == "" {
		v.add("", at(""), "pool name is empty")
	}
	if _, msg := parseListen(p.Listen); msg != "" {
		v.add(p.Name, at("listen"), "listen: %s", msg)
	}
	if hashes := ring.HashNames(); !slices.Contains(hashes, p.Hash) {
		v.add(p.Name, at("hash"), "hash: %q is not one of %s", p.Hash, strings.Join(hashes, ", "))
	}
	if p.HashTag != "" && len(p.HashTag) != 2 {
		v.add(p.Name, at("hash_tag"), "hash_tag: %q must be two characters, such as \"{}\"", p.HashTag)
	}
	switch {
	case p.Distribution == "random":
		v.add(p.Name, at("distribution"), "distribution: random is not supported: a cache needs each key on one node")
	case !slices.Contains(ring.Distributions(), p.Distribution):
		v.add(p.Name, at("distribution"), "distribution: %q is not one of %s", p.Distribution, strings.Join(ring.Distributions(), ", "))
	}
	if p.ServerOrder != OrderListed && p.ServerOrder != OrderTwemproxy {
		v.add(p.Name, at("server_order"), "server_order: %q is not one of %s, %s", p.ServerOrder, OrderListed, OrderTwemproxy)
	}
	for _, r := range []struct {
		key           string
		val, min, max int
	}{
		{"replicas", p.Replicas, 1, maxReplicas},
		{"backlog", p.Backlog, 1, 65535},
		{"client_connections", p.ClientConnections, 0, maxConnections},
		{"server_connections", p.ServerConnections, 1, 1024},
		{"server_failure_limit", p.ServerFailureLimit, 1, 1000},
		{"max_item_size", p.MaxItemSize, 1, maxItemSize},
		{"max_line_length", p.MaxLineLength, minLineLength, maxLineLength},
		{"max_keys", p.MaxKeys, 1, 1 << 20},
		{"max_inflight", p.MaxInflight, 1, 1 << 16},
	} {
		if r.val < r.min || r.val > r.max {
			v.add(p.Name, at(r.key), "%s: %d is out of range [%d, %d]", r.key, r.val, r.min, r.max)
		}
	}
	for _, r := range []struct {
		key      string
		val, max time.Duration
		zero     bool // whether 0 is allowed
	}{
		{"timeout", p.Timeout, maxTimeout, false},
		{"server_retry_timeout", p.ServerRetryTimeout, maxRetryTimeout, false},
		{"health_check_interval", p.HealthCheckInterval, maxTimeout, false},
		{"idle_timeout", p.IdleTimeout, maxRetryTimeout, true},
		{"warmup", p.Warmup, maxWarmup, true},
		{"backfill_max_ttl", p.BackfillMaxTTL, maxBackfillTTL, false},
	} {
		switch {
		case r.val < 0 || (r.val == 0 && !r.zero):
			v.add(p.Name, at(r.key), "%s: %v must be more than 0", r.key, r.val)
		case r.val > r.max:
			v.add(p.Name, at(r.key), "%s: %v is more than %v", r.key, r.val, r.max)
		}
	}
	if p.BackfillMaxTTL > 0 && p.BackfillMaxTTL%time.Second != 0 {
		v.add(p.Name, at("backfill_max_ttl"), "backfill_max_ttl: %v is not a whole number of seconds", p.BackfillMaxTTL)
	}
	if p.ReplicationFactor < 1 {
		v.add(p.Name, at("replication_factor"), "replication_factor: %d must be at least 1", p.ReplicationFactor)
	} else if len(p.Lookups) == 0 && len(p.Servers) > 0 && p.ReplicationFactor > len(p.Servers) {
		// With lookups the number of nodes changes; a pool keeps as many
		// copies as it has nodes, up to replication_factor.
		v.add(p.Name, at("replication_factor"), "replication_factor: %d is more than the %d servers", p.ReplicationFactor, len(p.Servers))
	}
	v.servers(p)
	v.lookups(p)
	v.validateTLS(p)
}

// lookups checks a pool's discovery settings: each lookup's port and
// weight, the interval and the resolver's address.
func (v *validator) lookups(p *Pool) {
	for i, l := range p.Lookups {
		at := []string{"pools", p.Name, "lookups", strconv.Itoa(i)}
		if l.Kind != LookupSRV && (l.Port < 1 || l.Port > 65535) {
			v.add(p.Name, at, "%s: port %d is out of range [1, 65535]", l, l.Port)
		}
		if w := p.maxWeight(); l.Weight < 1 || l.Weight > w {
			v.add(p.Name, at, "%s: weight %d is out of range [1, %d]", l, l.Weight, w)
		}
	}
	at := func(key string) []string { return []string{"pools", p.Name, key} }
	switch {
	case p.DiscoveryInterval < minDiscoveryInterval:
		v.add(p.Name, at("discovery_interval"), "discovery_interval: %v is less than %v", p.DiscoveryInterval, minDiscoveryInterval)
	case p.DiscoveryInterval > maxRetryTimeout:
		v.add(p.Name, at("discovery_interval"), "discovery_interval: %v is more than %v", p.DiscoveryInterval, maxRetryTimeout)
	}
	if r := p.DiscoveryResolver; r != "" {
		host, port, err := net.SplitHostPort(r)
		n, perr := strconv.Atoi(port)
		if err != nil || net.ParseIP(host) == nil || perr != nil || n < 1 || n > 65535 {
			v.add(p.Name, at("discovery_resolver"), "discovery_resolver: %q is not an ip:port", r)
		}
	}
}

// servers checks a pool's server list: not empty, each address valid, and
// no address or name used twice.
func (v *validator) servers(p *Pool) {
	if len(p.Servers) == 0 && len(p.Lookups) == 0 {
		v.add(p.Name, []string{"pools", p.Name, "servers"}, "servers: none given")
	}
	addrs := make(map[string]int, len(p.Servers))
	names := make(map[string]int, len(p.Servers))
	slots := 0 // modula's table: one slot per unit of weight
	defer func() {
		if p.Distribution == "modula" && slots > maxModulaSlots {
			v.add(p.Name, []string{"pools", p.Name, "servers"}, "servers: weights add up to %d, more than modula's %d", slots, maxModulaSlots)
		}
	}()
	for i, s := range p.Servers {
		at := []string{"pools", p.Name, "servers", strconv.Itoa(i)}
		switch {
		case s.IsUnix():
			if msg := socketPathProblem(s.Addr); msg != "" {
				v.add(p.Name, at, "server %q: %s", s.Addr, msg)
			}
		case s.Host == "":
			v.add(p.Name, at, "server %q: host is empty", s.Addr)
		case s.Port < 1 || s.Port > 65535:
			v.add(p.Name, at, "server %q: port %d is out of range [1, 65535]", s.Addr, s.Port)
		case s.Addr != net.JoinHostPort(s.Host, strconv.Itoa(s.Port)):
			v.add(p.Name, at, "server %q: address does not match host %q and port %d", s.Addr, s.Host, s.Port)
		}
		if w := p.maxWeight(); s.Weight < 1 || s.Weight > w {
			v.add(p.Name, at, "server %q: weight %d is out of range [1, %d]", s.Addr, s.Weight, w)
		}
		slots += s.Weight
		if j, dup := addrs[s.Addr]; dup {
			v.add(p.Name, at, "server %q: address repeated%s", s.Addr, v.first(p.Name, j))
		} else {
			addrs[s.Addr] = i
		}
		// A server without a name is known by its address, as in twemproxy,
		// so a name may not repeat another server's name or address.
		id := s.Name
		if id == "" {
			id = s.Addr
		}
		if j, dup := names[id]; dup && s.Name != "" {
			v.add(p.Name, at, "server %q: name %q repeated%s", s.Addr, s.Name, v.first(p.Name, j))
		} else if !dup {
			names[id] = i
		}
	}
}

// first says where server j of a pool is, for a problem about a repeat.
func (v *validator) first(pool string, j int) string {
	if l := v.c.line([]string{"pools", pool, "servers", strconv.Itoa(j)}); l > 0 {
		return " (first on line " + strconv.Itoa(l) + ")"
	}
	return " (first as server " + strconv.Itoa(j+1) + ")"
}

// listeners reports valid listen addresses that two pools, or a pool and
// the admin listener, would both bind. Port 0 (any free port) never clashes.
func (v *validator) listeners() {
	type bound struct {
		host string
		port int
		who  string
	}
	var taken []bound
	sockets := make(map[string]string) // socket path to who listens there
	claim := func(pool, key string, at []string, addr, who string) {
		if la, msg := parseListen(addr); msg == "" && la.Network == "unix" {
			if first, dup := sockets[la.Address]; dup {
				v.add(pool, at, "%s: %s is also the socket of %s", key, la.Address, first)
			} else {
				sockets[la.Address] = who
			}
			return
		}
		host, port, msg := splitListen(addr)
		if msg != "" || port == 0 {
			return
		}
		for _, b := range taken {
			if b.port == port && (b.host == host || anyHost(b.host) || anyHost(host)) {
				v.add(pool, at, "%s: %s is also the listen address of %s", key, addr, b.who)
				return
			}
		}
		taken = append(taken, bound{host: host, port: port, who: who})
	}
	for _, p := range v.c.Pools {
		claim(p.Name, "listen", []string{"pools", p.Name, "listen"}, p.Listen, "pool "+strconv.Quote(p.Name))
	}
	if v.c.Admin.Listen != "" {
		before := len(v.problems)
		claim("", "admin.listen", []string{"admin", "listen"}, v.c.Admin.Listen, "the admin listener")
		if len(v.problems) > before {
			v.problems[before].Msg += ` (move the admin listener with admin.listen or serve --admin-listen ADDR; "" turns it off)`
		}
	}
}

// maxWeight is the largest weight a server of p may have.
func (p *Pool) maxWeight() int {
	if p.Distribution == "md5_ring" {
		return maxMD5RingWeight
	}
	return maxWeight
}
