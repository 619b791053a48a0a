package config

import (
	"strconv"

	"gopkg.in/yaml.v3"
)

// pool decodes one pool's mapping, starting from DefaultPool. requireListen
// is set for twemproxy's format, where listen has no default.
func (d *decoder) pool(name *yaml.Node, m *yaml.Node, requireListen bool) Pool {
	p := DefaultPool()
	p.Name = name.Value
	if requireListen { // twemproxy's format: place as nutcracker does
		p.Hash = TwemproxyDefaultHash
		p.ServerOrder = OrderTwemproxy
	}
	d.mark(name, "pools", p.Name)
	entries, ok := d.entries(m, p.Name, "pool")
	hasListen := !ok // a pool that is not a mapping is reported already
	for _, e := range entries {
		d.mark(e.value, "pools", p.Name, e.key)
		switch e.key {
		case "listen":
			hasListen = true
			d.str(e, p.Name, &p.Listen)
		case "hash":
			d.str(e, p.Name, &p.Hash)
		case "hash_tag":
			d.str(e, p.Name, &p.HashTag)
		case "distribution":
			d.str(e, p.Name, &p.Distribution)
		case "replicas":
			d.integer(e, p.Name, &p.Replicas)
		case "server_order":
			d.str(e, p.Name, &p.ServerOrder)
		case "timeout":
			d.duration(e, p.Name, &p.Timeout)
		case "backlog":
			d.integer(e, p.Name, &p.Backlog)
		case "preconnect":
			d.boolean(e, p.Name, &p.Preconnect)
		case "client_connections":
			d.integer(e, p.Name, &p.ClientConnections)
		case "server_connections":
			d.integer(e, p.Name, &p.ServerConnections)
		case "auto_eject_hosts":
			d.boolean(e, p.Name, &p.AutoEjectHosts)
		case "server_retry_timeout":
			d.duration(e, p.Name, &p.ServerRetryTimeout)
		case "health_check_interval":
			d.duration(e, p.Name, &p.HealthCheckInterval)
		case "server_failure_limit":
			d.integer(e, p.Name, &p.ServerFailureLimit)
		case "max_item_size":
			d.integer(e, p.Name, &p.MaxItemSize)
		case "max_line_length":
			d.integer(e, p.Name, &p.MaxLineLength)
		case "max_keys":
			d.integer(e, p.Name, &p.MaxKeys)
		case "max_inflight":
			d.integer(e, p.Name, &p.MaxInflight)
		case "idle_timeout":
			d.duration(e, p.Name, &p.IdleTimeout)
		case "replication_factor":
			d.integer(e, p.Name, &p.ReplicationFactor)
		case "warmup":
			d.duration(e, p.Name, &p.Warmup)
		case "backfill_max_ttl":
			d.duration(e, p.Name, &p.BackfillMaxTTL)
		case "tls":
			p.TLS = d.tls(e, p.Name)
		case "client_tls":
			p.ClientTLS = d.clientTLS(e, p.Name)
		case "servers":
			p.Servers, p.Lookups = d.servers(e, p.Name, p.Lookups)
		case "elasticache":
			var endpoint string
			if d.str(e, p.Name, &endpoint) {
				l, err := parseEndpoint(endpoint)
				if err != nil {
					d.problem(e.value, p.Name, "%v", err)
					// "servers: none given" would follow from it: report
					// that here, where it is dropped as a consequence.
					d.mark(e.value, "pools", p.Name, "servers")
					break
				}
				d.mark(e.value, "pools", p.Name, "lookups", strconv.Itoa(len(p.Lookups)))
				p.Lookups = append(p.Lookups, l)
			}
		case "discovery_interval":
			d.duration(e, p.Name, &p.DiscoveryInterval)
		case "discovery_resolver":
			d.str(e, p.Name, &p.DiscoveryResolver)
		case "redis":
			var redis bool
			if d.boolean(e, p.Name, &redis) && redis {
				d.problem(e.value, p.Name, "redis pools are not supported: hashproxy speaks the memcached protocol only")
			}
		case "redis_auth":
			d.problem(e.knode, p.Name, "redis_auth: only valid for a redis pool, and redis pools are not supported")
		case "redis_db":
			// Accepted and unused, as twemproxy does for a memcached pool.
			var db int
			d.integer(e, p.Name, &db)
		case "tcpkeepalive":
			// Accepted and unused: TCP keep-alive is always on.
			var keepalive bool
			d.boolean(e, p.Name, &keepalive)
		default:
			d.problem(e.knode, p.Name, "unknown key %q", e.key)
		}
	}
	if servers, endpoint := keyNode(entries, "servers"), keyNode(entries, "elasticache"); servers != nil && endpoint != nil {
		d.problem(endpoint, p.Name, "elasticache: the configuration endpoint lists the nodes: give it or servers, not both (servers on line %d)", servers.Line)
	}
	if requireListen && !hasListen {
		d.problem(name, p.Name, "listen: missing (twemproxy's format requires it)")
	}
	return p
}

// servers decodes a pool's list of "host:port:weight [name]" strings and
// lookups ("dns+...", "dnssrv+..."), appending the lookups to those given.
func (d *decoder) servers(e entry, pool string, lookups []Lookup) ([]Server, []Lookup) {
	if e.value.Kind != yaml.SequenceNode {
		d.problem(e.value, pool, "servers: must be a list of \"host:port:weight [name]\"")
		return nil, lookups
	}
	out := make([]Server, 0, len(e.value.Content))
	for _, n := range e.value.Content {
		n = resolve(n)
		if n.Kind != yaml.ScalarNode {
			d.problem(n, pool, "servers: each must be \"host:port:weight [name]\"")
			continue
		}
		s, l, lookup, err := parseEntry(n.Value)
		switch {
		case err != nil:
			d.problem(n, pool, "%v", err)
		case lookup:
			d.mark(n, "pools", pool, "lookups", strconv.Itoa(len(lookups)))
			lookups = append(lookups, l)
		default:
			d.mark(n, "pools", pool, "servers", strconv.Itoa(len(out)))
			out = append(out, s)
		}
	}
	return out, lookups
}

// keyNode returns the key node of the named entry, or nil.
func keyNode(entries []entry, key string) *yaml.Node {
	for _, e := range entries {
		if e.key == key {
			return e.knode
		}
	}
	return nil
}
