package proxy

import (
	"time"

	"hashproxy/internal/config"
	"hashproxy/internal/upstream"
)

// connSettings are the pool settings a node's upstream connections are
// made with. A reload keeps a node's connections only when they are
// unchanged.
type connSettings struct {
	conns, maxItemSize, failureLimit int
	timeout, probeInterval           time.Duration
}

func connSettingsOf(cfg config.Pool) connSettings {
	return connSettings{
		conns:         cfg.ServerConnections,
		maxItemSize:   cfg.MaxItemSize,
		failureLimit:  cfg.ServerFailureLimit,
		timeout:       cfg.Timeout,
		probeInterval: cfg.ServerRetryTimeout,
	}
}

// options are the upstream options for the server at addr.
func (cs connSettings) options(addr string) upstream.Options {
	return upstream.Options{
		Addr:          addr,
		Conns:         cs.conns,
		Timeout:       cs.timeout,
		MaxItemSize:   cs.maxItemSize,
		FailureLimit:  cs.failureLimit,
		ProbeInterval: cs.probeInterval,
	}
}
