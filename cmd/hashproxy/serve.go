package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"hashproxy/internal/config"
	"hashproxy/internal/discovery"
	"hashproxy/internal/filewatch"
	"hashproxy/internal/metrics"
	"hashproxy/internal/proxy"
	"hashproxy/internal/statuspage"
)

// serveOptions are the flags of `hashproxy serve`.
type serveOptions struct {
	configPath   string
	listen       string
	servers      []string
	resolver     string
	overrides    overrideFlags
	drainTimeout time.Duration
	cpus         int
	watchConfig  bool
}

// watchDebounce is how long the configuration file's directory must be
// quiet, after a change, before --watch-config reads the file again.
const watchDebounce = 500 * time.Millisecond

func newServeCmd() *cobra.Command {
	o := &serveOptions{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the proxy",
		Long: `Run the proxy with the pools of a configuration file (hashproxy's own format
or a twemproxy nutcracker.yml), or, without a file, one pool from --listen and
--server flags (each --server an entry of the file's servers list: an address
or a dns+/dnssrv+ lookup, with --discovery-resolver for its DNS server).

SIGHUP re-reads the file (the flags given still override it) and applies it
without closing client connections: servers added, removed or reweighted,
timeouts, limits, listen addresses, pools. Servers written as lookups
(dns+, dnssrv+, elasticache) are resolved at start, which fails when a
lookup finds nothing, then every discovery_interval; a changed list is
applied the same way once two lookups in a row have found it.

--watch-config applies a change to the file as SIGHUP does, once the file's
directory has been quiet for half a second: an edit, a file renamed over it,
or the symlink swap with which Kubernetes updates a mounted ConfigMap. A file with problems is rejected
and the running configuration keeps serving. Admin and log settings take
effect at the next start.

SIGTERM and SIGINT stop it gracefully: it stops accepting, answers the
requests already sent (up to --drain-timeout), then exits 0.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// The watch starts before the file is first read, so a change
			// made while serve starts is applied too.
			var w *filewatch.Watcher
			if o.watchConfig && o.configPath != "" {
				var err error
				if w, err = filewatch.New(o.configPath, watchDebounce); err != nil {
					return err
				}
				defer w.Close()
			}
			load := func() (*config.Config, error) { return o.config(cmd) }
			cfg, err := load()
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			cpus, err := setCPUs(cmd.Flags().Changed("cpus"), o.cpus)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			return o.run(cmd.Context(), cfg, load, w, cpus)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.configPath, "config", "c", "", "configuration file (native YAML or twemproxy nutcracker.yml)")
	f.StringVar(&o.listen, "listen", config.DefaultListen, "without --config: address the pool listens on, host:port or a Unix socket's path")
	f.StringArrayVar(&o.servers, "server", nil, "without --config: a memcached server as host:port[:weight] [name], or a lookup dns+HOST:PORT[:WEIGHT] or dnssrv+NAME[:WEIGHT] (repeatable)")
	f.StringVar(&o.resolver, "discovery-resolver", "", "without --config: ip:port of the DNS server the --server lookups ask (default: the system's resolver)")
	o.overrides.register(f)
	f.DurationVar(&o.drainTimeout, "drain-timeout", 10*time.Second, "on shutdown, how long to wait for in-flight requests")
	f.BoolVar(&o.watchConfig, "watch-config", false, "with --config: apply a change to the file as SIGHUP does")
	f.IntVar(&o.cpus, "cpus", defaultCPUs, "CPUs that run the proxy at once (0: every CPU); without it, GOMAXPROCS from the environment if set")
	return cmd
}

// config loads the configuration file, or builds one from flags, and
// applies the overriding flags before validating it.
func (o *serveOptions) config(cmd *cobra.Command) (*config.Config, error) {
	flags := cmd.Flags()
	switch {
	case o.configPath != "" && (flags.Changed("listen") || flags.Changed("server") || flags.Changed("discovery-resolver")):
		return nil, errors.New("--listen, --server and --discovery-resolver build a configuration; they cannot be used with --config")
	case o.configPath != "":
		return config.Load(o.configPath, o.overrides.apply)
	case o.watchConfig:
		return nil, errors.New("--watch-config watches the --config file; give one")
	case len(o.servers) == 0:
		return nil, errors.New("give --config FILE, or at least one --server host:port")
	}
	cfg := config.Default()
	pool := config.DefaultPool()
	pool.Listen = o.listen
	pool.DiscoveryResolver = o.resolver
	for _, s := range o.servers {
		if err := pool.AddServer(s); err != nil {
			return nil, err
		}
	}
	cfg.Pools = []config.Pool{pool}
	o.overrides.apply(&cfg)
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// run serves until ctx ends (SIGTERM, SIGINT), then shuts down gracefully.
// On SIGHUP, and on each change w reports when it is not nil, it applies
// the configuration load returns.
func (o *serveOptions) run(ctx context.Context, cfg *config.Config, load func() (*config.Config, error), w *filewatch.Watcher, cpus int) error {
	log, err := newLogger(cfg.Log)
	if err != nil {
		return err
	}
	defer func() { _ = log.Sync() }()
	// Before anything listens: a SIGHUP's default action is to exit.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	reg := prometheus.NewRegistry()
	met := metrics.New(reg, metrics.BuildInfo{Version: version, Commit: commit, GoVersion: runtime.Version()}, proxy.MetricLabels())
	// Hot keys are counted for the admin listener's status page only.
	hotKeys := cfg.Admin.HotKeys
	if cfg.Admin.Listen == "" {
		hotKeys = config.HotKeysOff
	}
	var px *proxy.Proxy
	src := discovery.NewSource(discovery.Options{
		Logger:  log.Named("discovery"),
		Metrics: met,
		Apply:   func(c *config.Config) error { return px.Reload(c) },
	})
	if cfg, err = src.Resolve(ctx, cfg); err != nil {
		return err
	}
	if px, err = proxy.New(cfg, proxy.Options{Version: version, Logger: log, Metrics: met, HotKeys: hotKeys}); err != nil {
		return err
	}
	if err := px.Start(); err != nil {
		_ = px.Shutdown(context.Background())
		return err
	}
	src.Watch(ctx)
	var changed <-chan struct{}
	if w != nil {
		wctx, stopWatch := context.WithCancel(ctx)
		watchDone := make(chan struct{})
		defer func() { stopWatch(); <-watchDone }()
		go func() {
			defer close(watchDone)
			if err := w.Run(wctx); err != nil {
				log.Error("no longer watching the configuration file", zap.Error(err))
			}
		}()
		changed = w.C
	}

	var admin *metrics.Admin
	adminErr := make(chan error, 1)
	if cfg.Admin.Listen != "" {
		ln, err := net.Listen("tcp", cfg.Admin.Listen)
		if err != nil {
			_ = px.Shutdown(context.Background())
			return fmt.Errorf("admin listener: %w (give another with --admin-listen ADDR, or turn it off with --admin-listen \"\")", err)
		}
		admin = metrics.NewAdmin(reg, px.Ready, cfg.Admin.Pprof, log.Named("admin"))
		admin.ServeStatus(met, px, statuspage.HTML())
		log.Info("admin listening", zap.String("listen", ln.Addr().String()))
		go func() { adminErr <- admin.Serve(ln) }()
	}
	log.Info("hashproxy started", zap.String("version", version), zap.Int("pools", len(cfg.Pools)), zap.Int("cpus", cpus))

	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case err := <-adminErr:
			if err != nil {
				log.Error("admin listener failed", zap.Error(err))
			}
		case <-hup:
			cfg = o.reload(ctx, log, src, met, cfg, load, "SIGHUP")
		case <-changed:
			cfg = o.reload(ctx, log, src, met, cfg, load, "the file changed")
		}
	}
	src.Close()

	log.Info("shutting down", zap.Duration("drain_timeout", o.drainTimeout))
	sctx, cancel := context.WithTimeout(context.Background(), o.drainTimeout)
	defer cancel()
	if admin != nil {
		_ = admin.Shutdown(sctx)
	}
	if err := px.Shutdown(sctx); err != nil {
		log.Warn("drain timeout: closed remaining client connections", zap.Error(err))
	}
	log.Info("stopped")
	return nil
}

// reload re-reads the configuration, on SIGHUP or a change to the watched
// file (why), and applies it with the nodes its lookups find, returning
// the configuration now running. A failure is logged and counted, and the
// running configuration stays.
func (o *serveOptions) reload(ctx context.Context, log *zap.Logger, src *discovery.Source, met *metrics.Metrics, running *config.Config, load func() (*config.Config, error), why string) *config.Config {
	if o.configPath == "" {
		log.Warn(why + ": nothing to reload, the configuration comes from flags")
		return running
	}
	log.Info(why+": reloading the configuration", zap.String("config", o.configPath))
	cfg, err := load()
	if err != nil {
		met.ConfigReload(err)
		log.Error("configuration reload rejected, the running configuration stays", zap.Error(err))
		return running
	}
	if cfg, err = src.Reload(ctx, cfg); err != nil {
		log.Error("configuration reload rejected, the running configuration stays", zap.Error(err))
		return running
	}
	if cfg.Admin != running.Admin || cfg.Log != running.Log {
		log.Warn("admin and log settings changed: they take effect at the next start")
		cfg.Admin, cfg.Log = running.Admin, running.Log
	}
	return cfg
}
