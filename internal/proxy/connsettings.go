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
	conns, maxItemSize, failureLimit   int
	timeout, probeInterval, retryAfter time.Duration
	tls                                config.TLS // its files are read again by every reload
	tlsOn                              bool
}

func connSettingsOf(cfg config.Pool) connSettings {
	cs := connSettings{
		conns:         cfg.ServerConnections,
		maxItemSize:   cfg.MaxItemSize,
		failureLimit:  cfg.ServerFailureLimit,
		timeout:       cfg.Timeout,
		probeInterval: cfg.HealthCheckInterval,
		retryAfter:    retryAfter(cfg),
	}
	if cfg.TLS != nil {
		cs.tls, cs.tlsOn = *cfg.TLS, true
	}
	return cs
}

// retryAfter is how long an ejected node waits for a probe to answer before
// live requests try it again: server_retry_timeout with auto_eject_hosts;
// without it a down node waits for its probe.
func retryAfter(cfg config.Pool) time.Duration {
	if cfg.AutoEjectHosts {
		return cfg.ServerRetryTimeout
	}
	return 0
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
		RetryAfter:    cs.retryAfter,
	}
}
