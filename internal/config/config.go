// Package config loads hashproxy's configuration from YAML: a twemproxy
// nutcracker.yml, accepted unchanged, or hashproxy's native format, which
// adds the admin listener and logging. Config is plain data; Load and Parse
// fill in defaults and validate, reporting every problem with its file and
// line.
package config

import "time"

// Config is a complete hashproxy configuration.
type Config struct {
	// Path is the file the configuration was read from, "" when it was
	// built in code.
	Path string
	// Pools are the server pools, in file order. Each has its own listener.
	Pools []Pool
	// Admin is the HTTP listener for metrics and health checks.
	Admin Admin
	// Log sets up logging.
	Log Log

	// lines maps a position key (see key) to the line it was read from;
	// nil for a configuration built in code.
	lines map[string]int
}

// Admin configures the admin HTTP listener (/metrics, /healthz, /readyz,
// the status page and its JSON).
type Admin struct {
	// Listen is the "host:port" to serve on; "" turns the listener off.
	Listen string
	// Pprof adds the net/http/pprof handlers under /debug/pprof/.
	Pprof bool
	// HotKeys is HotKeysOn (count the keys requested most and show them),
	// HotKeysHashed (show each key's hash instead) or HotKeysOff.
	HotKeys string
}

// The values of Admin.HotKeys.
const (
	HotKeysOn     = "on"
	HotKeysHashed = "hashed"
	HotKeysOff    = "off"
)

// Log configures logging.
type Log struct {
	// Level is one of debug, info, warn, error.
	Level string
	// Format is console or json.
	Format string
}

// Pool is one server pool: a listen address, a key placement scheme and the
// memcached servers it spreads keys over.
type Pool struct {
	// Name identifies the pool in logs and metrics.
	Name string
	// Listen is the "host:port" clients connect to (port 0 picks a free
	// one), or a Unix socket's path with an optional octal mode
	// ("/var/run/hashproxy.sock 0666"); see ParseListen.
	Listen string
	// Hash is the key hash function, one of twemproxy's names (see
	// ring.HashNames).
	Hash string
	// HashTag is "" or two characters: when a key contains both, only the
	// part between them is hashed.
	HashTag string
	// Distribution is the placement scheme: ketama, modula or md5_ring.
	Distribution string
	// Replicas is the number of md5_ring points per server (per unit of
	// weight).
	Replicas int
	// ServerOrder is the order in which modula deals its slots to the
	// servers: "listed" (as gomemcache's ServerList) or "twemproxy" (sorted
	// by name, as nutcracker does). A twemproxy-format file defaults to
	// "twemproxy", the native format to "listed".
	ServerOrder string
	// Timeout bounds every request to a server.
	Timeout time.Duration
	// Backlog is twemproxy's listen backlog, accepted and range-checked so
	// that a nutcracker.yml loads unchanged, and otherwise ignored: the
	// listen backlog is the system's (net.core.somaxconn on Linux).
	Backlog int
	// Preconnect is twemproxy's "dial every server at start", accepted so
	// that a nutcracker.yml loads unchanged, and ignored: every server's
	// connections are dialled at start whatever it says.
	Preconnect bool
	// ClientConnections is the maximum number of client connections;
	// 0 means unlimited.
	ClientConnections int
	// ServerConnections is the number of connections to each server.
	ServerConnections int
	// AutoEjectHosts removes a failing server from the ring while it is
	// down, moving its keys to the others.
	AutoEjectHosts bool
	// ServerRetryTimeout, with AutoEjectHosts, is the longest a server stays
	// ejected without answering a probe: after it, live requests try it
	// again (twemproxy's meaning). Without AutoEjectHosts it is unused.
	ServerRetryTimeout time.Duration
	// HealthCheckInterval is how often a server that is down is probed; it
	// is restored as soon as it answers.
	HealthCheckInterval time.Duration
	// ServerFailureLimit is the number of consecutive failures that mark a
	// server down.
	ServerFailureLimit int
	// MaxItemSize is the largest value a client may store, in bytes.
	MaxItemSize int
	// MaxLineLength is the longest command line a client may send, in bytes.
	MaxLineLength int
	// MaxKeys is the most keys one retrieval command may name.
	MaxKeys int
	// MaxInflight is the most pipelined requests one client connection may
	// have in flight.
	MaxInflight int
	// IdleTimeout closes a client connection idle this long; 0 never does.
	IdleTimeout time.Duration
	// ReplicationFactor is the number of servers that hold a copy of each
	// key: its ring owner and the next distinct servers on the ring. Reads
	// fall back to the next copy on a miss or an error; writes go to every
	// copy.
	ReplicationFactor int
	// Warmup is how long, after a reload that changed the ring, a key's
	// homes under the previous ring are still read (after its new ones) and
	// copied into the new ones; 0 turns it off.
	Warmup time.Duration
	// BackfillMaxTTL caps the expiry of a value copied into a home that
	// missed it; a value without expiry gets this one.
	BackfillMaxTTL time.Duration
	// Servers are the memcached nodes, in file order: those written as
	// addresses, then, in a configuration that discovery filled in, the
	// nodes its lookups found.
	Servers []Server
	// Lookups are the pool's sources of discovered nodes: "dns+" and
	// "dnssrv+" servers entries and the elasticache key, in file order.
	Lookups []Lookup
	// DiscoveryInterval is how often the lookups are asked again.
	DiscoveryInterval time.Duration
	// DiscoveryResolver is the "ip:port" of the DNS server lookups ask;
	// "" uses the system's resolver.
	DiscoveryResolver string
	// TLS, when set, makes the connections to the nodes (and the health
	// probes) TLS.
	TLS *TLS
	// ClientTLS, when set, makes the pool's listener TLS.
	ClientTLS *ClientTLS
}

// Server is one memcached node of a pool.
type Server struct {
	// Addr is "host:port", or the path of a Unix socket (see IsUnix).
	Addr string
	// Host is the host part of Addr; "" for a Unix socket.
	Host string
	// Port is the port part of Addr; 0 for a Unix socket.
	Port int
	// Weight is the node's relative share of keys.
	Weight int
	// Name is the alias given after the address ("host:port:weight name"),
	// or "".
	Name string
}
