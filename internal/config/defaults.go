package config

import (
	"time"

	"hashproxy/internal/proto"
	"hashproxy/internal/upstream"
)

// Defaults, in one place. Where twemproxy has a default, it is kept unless
// noted.
const (
	// DefaultAdminListen is the admin HTTP listener's address. Its port
	// is below twemproxy's convention for pools (22121 onwards, as in its
	// sample nutcracker.yml) and apart from nutcracker's stats port (22222),
	// so a nutcracker.yml's pools do not take it, and nutcracker can run
	// beside hashproxy.
	DefaultAdminListen = "127.0.0.1:22120"
	// DefaultListen is a native pool's listen address (twemproxy's format
	// requires one).
	DefaultListen = "127.0.0.1:22122"
	// OrderListed and OrderTwemproxy are the values of server_order.
	OrderListed    = "listed"
	OrderTwemproxy = "twemproxy"
	// DefaultHash is the native format's key hash: md5, the hash of the
	// original ketama recipe and of libmemcached's ketama, which spreads
	// keys named in sequence ("user:1", "user:2") evenly.
	DefaultHash = "md5"
	// TwemproxyDefaultHash is twemproxy's default hash, which a
	// nutcracker.yml pool keeps so that it places keys as before.
	TwemproxyDefaultHash = "fnv1a_64"
	// DefaultPoolName names the pool of a configuration built from flags.
	DefaultPoolName = "default"

	defaultTimeout            = upstream.DefaultTimeout       // twemproxy: none (wait forever)
	defaultServerRetryTimeout = 30 * time.Second              // as twemproxy
	defaultHealthCheck        = upstream.DefaultProbeInterval // twemproxy has no probe
	defaultClientConnections  = 1024                          // memcached's default maxconns; twemproxy: unlimited
	defaultServerConnections  = 1                             // as twemproxy
	defaultMaxItemSize        = proto.DefaultMaxItemSize
	defaultMaxLineLength      = proto.DefaultMaxLineLength
	defaultReplicationFactor  = 1 // one copy of each key, as twemproxy
	defaultWarmup             = 10 * time.Minute
	defaultBackfillMaxTTL     = time.Hour
	defaultDiscoveryInterval  = 10 * time.Second
)

// Default returns a configuration with every default set and no pools.
func Default() Config {
	return Config{
		Admin: Admin{Listen: DefaultAdminListen, HotKeys: HotKeysOn},
		Log:   Log{Level: "info", Format: "console"},
	}
}

// DefaultPool returns a pool named DefaultPoolName with every default set and
// no servers.
func DefaultPool() Pool {
	return Pool{
		Name:                DefaultPoolName,
		Listen:              DefaultListen,
		Hash:                DefaultHash,
		Distribution:        "ketama",
		Replicas:            100,
		ServerOrder:         OrderListed,
		Timeout:             defaultTimeout,
		Backlog:             512,
		ClientConnections:   defaultClientConnections,
		ServerConnections:   defaultServerConnections,
		ServerRetryTimeout:  defaultServerRetryTimeout,
		HealthCheckInterval: defaultHealthCheck,
		ServerFailureLimit:  2,
		MaxItemSize:         defaultMaxItemSize,
		MaxLineLength:       defaultMaxLineLength,
		MaxKeys:             proto.DefaultMaxKeys,
		MaxInflight:         256,
		ReplicationFactor:   defaultReplicationFactor,
		Warmup:              defaultWarmup,
		BackfillMaxTTL:      defaultBackfillMaxTTL,
		DiscoveryInterval:   defaultDiscoveryInterval,
	}
}
