package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"hashproxy/internal/config"
	"hashproxy/internal/discovery"
	"hashproxy/internal/proxy"
	"hashproxy/internal/ring"
	"hashproxy/internal/tlsconf"
)

// checkOptions are the flags of `hashproxy check`.
type checkOptions struct {
	configPath string
	overrides  overrideFlags
}

func newCheckCmd() *cobra.Command {
	o := &checkOptions{}
	cmd := &cobra.Command{
		Use:   "check --config FILE",
		Short: "Validate a configuration file and print its pools",
		Long: `Read a configuration file, native or twemproxy's nutcracker.yml, and
print each pool's listen address, hash, distribution and servers, with each
server's share of the keys. Servers written as lookups (dns+, dnssrv+,
elasticache) are resolved once, and the nodes found are listed with the
others. When the file has problems, print every one with its file and line,
and exit 1; when a lookup fails or finds no node, say so and exit 1.
--admin-listen, --log-level and --log-format override the file as they do
for serve, so check judges what serve would run.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.configPath == "" {
				return &exitError{code: 2, err: errors.New("check: --config FILE is required")}
			}
			return runCheck(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), o.configPath, o.overrides.apply)
		},
	}
	cmd.Flags().StringVarP(&o.configPath, "config", "c", "", "configuration file (native YAML or twemproxy nutcracker.yml)")
	o.overrides.register(cmd.Flags())
	return cmd
}

// runCheck loads the file at path, with overrides applied, and describes
// it on stdout, or lists its problems on stderr and returns an exit error.
func runCheck(ctx context.Context, stdout, stderr io.Writer, path string, overrides ...config.Override) error {
	cfg, err := config.Load(path, overrides...)
	if err == nil {
		cfg, err = resolveLookups(ctx, cfg)
	}
	if err == nil {
		err = loadTLSFiles(cfg)
	}
	var ce *config.Error
	switch {
	case errors.As(err, &ce):
		for _, p := range ce.Problems {
			fmt.Fprintln(stderr, p)
		}
		return &exitError{code: 1, err: fmt.Errorf("check: %s is not valid", path)}
	case err != nil:
		return &exitError{code: 1, err: fmt.Errorf("check: %w", err)}
	}
	rings := make([]*ring.Ring, len(cfg.Pools))
	for i, p := range cfg.Pools {
		if rings[i], err = proxy.PoolRing(p); err != nil {
			return &exitError{code: 1, err: fmt.Errorf("check: %s: %w", path, err)}
		}
	}
	return writeConfig(stdout, cfg, rings)
}

// resolveLookups asks the lookups of each pool of cfg once and returns cfg
// with the nodes found added to the pool's servers, validated again.
func resolveLookups(ctx context.Context, cfg *config.Config) (*config.Config, error) {
	for i := range cfg.Pools {
		p := &cfg.Pools[i]
		if len(p.Lookups) == 0 {
			continue
		}
		found, err := discovery.NewResolver(p.DiscoveryResolver).Resolve(ctx, *p)
		if err != nil {
			return nil, fmt.Errorf("pool %q: %w", p.Name, err)
		}
		p.Servers = append(p.Servers, found...)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// loadTLSFiles reads the certificate, key and CA files of each pool's tls
// and client_tls sections, as serve does.
func loadTLSFiles(cfg *config.Config) error {
	for _, p := range cfg.Pools {
		if _, err := tlsconf.Client(p.TLS); err != nil {
			return fmt.Errorf("pool %q: %w", p.Name, err)
		}
		if _, err := tlsconf.Server(p.ClientTLS); err != nil {
			return fmt.Errorf("pool %q: %w", p.Name, err)
		}
	}
	return nil
}

// writeConfig describes a valid configuration: the admin listener, then
// each pool with its ring.
func writeConfig(w io.Writer, cfg *config.Config, rings []*ring.Ring) error {
	admin := "off"
	if cfg.Admin.Listen != "" {
		admin = cfg.Admin.Listen
	}
	fmt.Fprintf(w, "%s: ok\nadmin  %s\nlog    %s, %s\n", cfg.Path, admin, cfg.Log.Level, cfg.Log.Format)
	for i, p := range cfg.Pools {
		if err := writePool(w, p, rings[i]); err != nil {
			return err
		}
	}
	return nil
}

// writePool describes one pool: its settings, then one row per server with
// its share of the keys (of the hash space; for modula, of the weight).
func writePool(w io.Writer, p config.Pool, r *ring.Ring) error {
	shares := r.Shares()
	hash := p.Hash
	if p.HashTag != "" {
		hash += ", hash tag " + p.HashTag
	}
	fmt.Fprintf(w, "\npool %q\n  listen        %s\n  hash          %s\n  distribution  %s\n", p.Name, p.Listen, hash, p.Distribution)
	if t := p.TLS; t != nil {
		fmt.Fprintf(w, "  tls           to the nodes, TLS %s or later", t.MinVersion)
		if t.CertFile != "" {
			fmt.Fprintf(w, ", client certificate %s", t.CertFile)
		}
		fmt.Fprintln(w)
	}
	if t := p.ClientTLS; t != nil {
		fmt.Fprintf(w, "  client_tls    certificate %s", t.CertFile)
		if t.ClientCAFile != "" {
			fmt.Fprintf(w, ", client certificates required (%s)", t.ClientCAFile)
		}
		fmt.Fprintln(w)
	}
	for _, l := range p.Lookups {
		fmt.Fprintf(w, "  lookup        %s (every %v)\n", l, p.DiscoveryInterval)
	}
	fmt.Fprintf(w, "  homes         %s\n", homesSummary(p))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  SERVER\tNAME\tWEIGHT\tSHARE")
	for i, s := range p.Servers {
		name := s.Name
		if name == "" {
			name = "-"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%.2f%%\n", s.Addr, name, s.Weight, 100*shares[i])
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	warning, err := skewWarning(p, r)
	if err != nil || warning == "" {
		return err
	}
	_, err = fmt.Fprintf(w, "  warning: %s\n", warning)
	return err
}

// skewWarning says, when pool p's hash spreads sequentially named keys
// over its ring r worse than ring.SkewThreshold, how badly, and what a
// move to md5 would cost; otherwise it returns "".
func skewWarning(p config.Pool, r *ring.Ring) (string, error) {
	if p.Distribution == ring.MD5Ring { // hashes keys with md5 whatever hash says
		return "", nil
	}
	skew, prefix := r.SequentialSkew()
	if skew <= ring.SkewThreshold {
		return "", nil
	}
	n := r.SequentialSampleSize()
	msg := fmt.Sprintf("hash %s spreads keys named in sequence unevenly: of %s0 … %s%d, a server gets %.0f%% more or fewer than its share of the ring (warning above %.0f%%)",
		p.Hash, prefix, prefix, n-1, 100*skew, 100*ring.SkewThreshold)
	if p.Hash == config.DefaultHash {
		return msg, nil
	}
	alt := p
	alt.Hash = config.DefaultHash
	md5, err := proxy.PoolRing(alt)
	if err != nil {
		return "", fmt.Errorf("check: pool %s with hash %s: %w", p.Name, alt.Hash, err)
	}
	moved := 0.0
	for _, pre := range ring.SequentialPrefixes {
		moved += ring.Moved(r, md5, ring.SequentialKeys(pre, n))
	}
	moved /= float64(len(ring.SequentialPrefixes))
	md5Skew, _ := md5.SequentialSkew()
	return msg + fmt.Sprintf("; with hash: %s, %.0f%%, and moving to it sends %.0f%% of the keys to another server, where they start cold",
		config.DefaultHash, 100*md5Skew, 100*moved), nil
}

// homesSummary says where a pool keeps each key: how many copies, and the
// warm-up window a ring change opens.
func homesSummary(p config.Pool) string {
	copies := "1 copy (the ring owner)"
	switch n := min(p.ReplicationFactor, len(p.Servers)); {
	case n == 2:
		copies = "2 copies (the ring owner, then the next server clockwise)"
	case n > 2:
		copies = fmt.Sprintf("%d copies (the ring owner, then the next %d servers clockwise)", n, n-1)
	}
	warmup := "no warm-up"
	if p.Warmup > 0 {
		warmup = fmt.Sprintf("warm-up %v after a ring change", p.Warmup)
	}
	return fmt.Sprintf("%s, %s, backfill TTL at most %v", copies, warmup, p.BackfillMaxTTL)
}
