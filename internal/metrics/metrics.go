// Package metrics holds hashproxy's Prometheus collectors, registered on a
// registry the caller owns, and the admin HTTP server that exposes them.
//
// Handles are resolved once, when a pool or server is set up (a command's
// latency series on the node's first request of it), so the request path
// otherwise only increments counters it already holds: no label lookup, no
// allocation. Label values come from configuration (pool and server names)
// or from fixed sets (Labels), never from request data.
package metrics

import (
	"runtime"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// namespace prefixes every hashproxy metric name.
const namespace = "hashproxy"

// Label names.
const (
	labelPool    = "pool"
	labelServer  = "server"
	labelCommand = "command"
	labelKind    = "kind"
	labelResult  = "result"
	labelReason  = "reason"
)

// DurationBuckets are the upper bounds, in seconds, of the classic buckets
// of the upstream request duration histogram: from 50µs, a fast loopback
// round trip, to 1s, beyond any sensible upstream timeout.
var DurationBuckets = []float64{
	0.00005, 0.0001, 0.00025, 0.0005,
	0.001, 0.0025, 0.005,
	0.01, 0.025, 0.05,
	0.1, 0.25, 0.5, 1,
}

// The upstream request duration histogram is also a native histogram, for
// servers that scrape them: buckets growing by at most 10 % each, at most
// durationMaxNativeBuckets of them; past that the resolution halves, and an
// hour later at the earliest the histogram starts afresh.
const (
	durationNativeFactor     = 1.1
	durationMaxNativeBuckets = 160
	durationMinResetInterval = time.Hour
)

// BuildInfo identifies the running binary in hashproxy_build_info.
type BuildInfo struct {
	Version string
	Commit  string
	// GoVersion is the toolchain that built the binary; empty means
	// runtime.Version().
	GoVersion string
}

// Metrics holds every hashproxy collector on one registry. Its methods are
// safe for concurrent use.
type Metrics struct {
	labels    Labels
	duration  *prometheus.HistogramVec
	up        *prometheus.GaugeVec
	ringShare *prometheus.GaugeVec

	clientConns *prometheus.GaugeVec

	reloadSuccess prometheus.Counter
	reloadFailure prometheus.Counter

	discovery discoveryMetrics

	mu      sync.Mutex // guards servers, pools and each Server's countConns
	servers map[serverKey]*Server
	pools   map[string]*Pool

	events   eventLog
	readings readings
	build    BuildInfo
	start    time.Time
}

// New creates hashproxy's collectors and registers them on reg, together
// with the Go runtime and process collectors and hashproxy_build_info.
// labels are the values of the command and kind labels.
// It panics if reg already holds any of them, as registering twice is a
// programming error.
func New(reg *prometheus.Registry, build BuildInfo, labels Labels) *Metrics {
	serverLabels := []string{labelPool, labelServer}
	m := &Metrics{
		labels: labels,
		build:  build,
		start:  time.Now(),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "upstream_request_duration_seconds",
			Help:                            "Time from queueing a request for a memcached node to reading its complete response, by command.",
			Buckets:                         DurationBuckets,
			NativeHistogramBucketFactor:     durationNativeFactor,
			NativeHistogramMaxBucketNumber:  durationMaxNativeBuckets,
			NativeHistogramMinResetDuration: durationMinResetInterval,
		}, []string{labelPool, labelServer, labelCommand}),
		up: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Name: "server_up",
			Help: "1 while a memcached node is serving, 0 while it is marked down or ejected.",
		}, serverLabels),
		ringShare: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Name: "ring_share",
			Help: "Share of the pool's hash space a memcached node owns, from 0 to 1.",
		}, serverLabels),
		clientConns: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Name: "client_connections",
			Help: "Open client connections.",
		}, []string{labelPool}),
		discovery: newDiscoveryMetrics(),
		servers:   make(map[serverKey]*Server),
		pools:     make(map[string]*Pool),
	}
	reloads := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "config_reloads_total",
		Help: "Configuration reloads, by result.",
	}, []string{labelResult})
	m.reloadSuccess = reloads.WithLabelValues("success")
	m.reloadFailure = reloads.WithLabelValues("failure")

	goVersion := build.GoVersion
	if goVersion == "" {
		goVersion = runtime.Version()
	}
	buildInfo := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: namespace, Name: "build_info",
		Help: "Always 1; the labels identify the running binary.",
		ConstLabels: prometheus.Labels{
			"version":   build.Version,
			"commit":    build.Commit,
			"goversion": goVersion,
		},
	})
	buildInfo.Set(1)

	reg.MustRegister(
		newCountersCollector(m), newHomesCollector(m), m.duration, m.up, m.ringShare, m.clientConns,
		reloads, m.discovery.errors, m.discovery.discovered, buildInfo,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// ConfigReload counts one configuration reload and records it as an
// event: successful when err is nil, else failed for err.
func (m *Metrics) ConfigReload(err error) {
	if err == nil {
		m.reloadSuccess.Inc()
		m.RecordEvent(Event{Kind: EventReload, Result: ResultSuccess})
		return
	}
	m.reloadFailure.Inc()
	m.RecordEvent(Event{Kind: EventReload, Result: ResultFailure, Message: err.Error()})
}
