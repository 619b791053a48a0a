package discovery

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"go.uber.org/zap"

	"hashproxy/internal/config"
	"hashproxy/internal/metrics"
)

// Options are what a Source needs.
type Options struct {
	// Logger receives a line per change and per failed lookup; nil means
	// none.
	Logger *zap.Logger
	// Metrics receives hashproxy_discovery_errors_total and
	// hashproxy_discovered_servers; required.
	Metrics *metrics.Metrics
	// Apply applies a configuration whose pools have their discovered
	// nodes filled in: the proxy's reload, which checks it first and
	// changes nothing when it fails.
	Apply func(*config.Config) error
}

// errStale is a change found by the watchers of a configuration that a
// reload has replaced since.
var errStale = errors.New("discovery: the configuration was reloaded since the lookup")

// Source keeps the pools of a configuration file filled in with the nodes
// their lookups find. Every change, discovered or reloaded, goes through
// Options.Apply one at a time.
type Source struct {
	opts Options
	log  *zap.Logger

	mu    sync.Mutex                 // held while applying, so a discovered change and a reload never interleave
	file  *config.Config             // as read from the file, without discovered nodes
	found map[string][]config.Server // each discovering pool's nodes, as applied
	gen   uint64                     // counts reloads; a watcher started before the last one is stale
	ctx   context.Context            // Watch's context; nil until Watch
	stop  context.CancelFunc         // stops the current watchers
	wg    sync.WaitGroup             // every watcher goroutine
}

// NewSource returns a Source; Resolve gives it its first configuration.
func NewSource(opts Options) *Source {
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	return &Source{opts: opts, log: opts.Logger, found: map[string][]config.Server{}}
}

// Resolve asks the lookups of every pool of file once and returns file
// with the nodes found filled in, without applying it: the configuration
// to start the proxy with. It fails when a lookup fails or finds no node,
// or when the nodes found make the configuration invalid.
func (s *Source) Resolve(ctx context.Context, file *config.Config) (*config.Config, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	found, err := s.resolveAll(ctx, file)
	if err != nil {
		return nil, err
	}
	cfg := fill(file, found)
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("discovery: with the nodes found: %w", err)
	}
	s.adopt(file, found)
	return cfg, nil
}

// Watch starts asking each discovering pool's lookups every
// discovery_interval, until ctx ends or Close.
func (s *Source) Watch(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ctx = ctx
	s.startWatchers()
}

// Reload replaces the configuration file's contents: it resolves the
// lookups that are new or changed (keeping the nodes of those that are
// not), applies the result, and restarts the watchers. On error nothing
// changes; a failed lookup counts as a failed configuration reload.
func (s *Source) Reload(ctx context.Context, file *config.Config) (*config.Config, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	found, err := s.resolveAll(ctx, file)
	if err != nil {
		s.opts.Metrics.ConfigReload(err)
		return nil, err
	}
	cfg := fill(file, found)
	if err := s.opts.Apply(cfg); err != nil {
		return nil, err
	}
	s.adopt(file, found)
	s.gen++
	if s.stop != nil {
		s.stop()
		s.startWatchers()
	}
	return cfg, nil
}

// Close stops the watchers and waits for them.
func (s *Source) Close() {
	s.mu.Lock()
	if s.stop != nil {
		s.stop()
	}
	s.ctx = nil
	s.mu.Unlock()
	s.wg.Wait()
}

// resolveAll returns the nodes of every discovering pool of file, asking
// only the lookups that differ from the running configuration's. The
// caller holds s.mu.
func (s *Source) resolveAll(ctx context.Context, file *config.Config) (map[string][]config.Server, error) {
	found := make(map[string][]config.Server)
	for _, p := range file.Pools {
		if len(p.Lookups) == 0 {
			continue
		}
		if nodes, ok := s.found[p.Name]; ok && s.sameLookups(p) {
			found[p.Name] = nodes
			continue
		}
		nodes, err := NewResolver(p.DiscoveryResolver).Resolve(ctx, p)
		if err != nil {
			s.opts.Metrics.DiscoveryError(p.Name, kindOf(err))
			return nil, fmt.Errorf("pool %q: %w", p.Name, err)
		}
		found[p.Name] = nodes
	}
	return found, nil
}

// sameLookups reports whether the running configuration has pool p with
// the same lookups and resolver. The caller holds s.mu.
func (s *Source) sameLookups(p config.Pool) bool {
	if s.file == nil {
		return false
	}
	for _, q := range s.file.Pools {
		if q.Name == p.Name {
			return slices.Equal(q.Lookups, p.Lookups) && q.DiscoveryResolver == p.DiscoveryResolver
		}
	}
	return false
}

// adopt makes file and found the running ones and publishes
// hashproxy_discovered_servers. The caller holds s.mu.
func (s *Source) adopt(file *config.Config, found map[string][]config.Server) {
	for name := range s.found {
		if _, ok := found[name]; !ok {
			s.opts.Metrics.RemoveDiscovery(name)
		}
	}
	for name, nodes := range found {
		s.opts.Metrics.DiscoveredServers(name, len(nodes))
	}
	s.file, s.found = file, found
}

// change applies nodes as the discovered nodes of the named pool, for a
// watcher of generation gen. It returns errStale when a reload came since.
func (s *Source) change(gen uint64, pool string, nodes []config.Server) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if gen != s.gen {
		return errStale
	}
	found := maps.Clone(s.found)
	found[pool] = nodes
	if err := s.opts.Apply(fill(s.file, found)); err != nil {
		return err
	}
	s.found = found
	s.opts.Metrics.DiscoveredServers(pool, len(nodes))
	return nil
}

// startWatchers starts a watcher per discovering pool of the running
// configuration. The caller holds s.mu.
func (s *Source) startWatchers() {
	if s.ctx == nil {
		return
	}
	ctx, stop := context.WithCancel(s.ctx)
	s.stop = stop
	for _, p := range s.file.Pools {
		if len(p.Lookups) == 0 {
			continue
		}
		w := &watcher{
			src:      s,
			gen:      s.gen,
			pool:     p.Name,
			interval: p.DiscoveryInterval,
			current:  s.found[p.Name],
			log:      s.log.With(zap.String("pool", p.Name)),
			met:      s.opts.Metrics,
		}
		resolver := NewResolver(p.DiscoveryResolver)
		w.resolve = func(ctx context.Context) ([]config.Server, error) { return resolver.Resolve(ctx, p) }
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			w.run(ctx)
		}()
	}
}

// fill returns a copy of file in which each discovering pool's servers
// are those written in the file followed by the nodes found.
func fill(file *config.Config, found map[string][]config.Server) *config.Config {
	cfg := *file
	cfg.Pools = slices.Clone(file.Pools)
	for i := range cfg.Pools {
		p := &cfg.Pools[i]
		if nodes, ok := found[p.Name]; ok {
			p.Servers = append(slices.Clip(p.Servers), nodes...)
		}
	}
	return &cfg
}
