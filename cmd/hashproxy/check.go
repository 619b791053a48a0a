package main

import (
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"hashproxy/internal/config"
)

// checkOptions are the flags of `hashproxy check`.
type checkOptions struct {
	configPath string
}

func newCheckCmd() *cobra.Command {
	o := &checkOptions{}
	cmd := &cobra.Command{
		Use:   "check --config FILE",
		Short: "Validate a configuration file and print its pools",
		Long: `Read a configuration file, native or twemproxy's nutcracker.yml, and
print each pool's listen address, hash, distribution and servers. When the
file has problems, print every one with its file and line, and exit 1.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.configPath == "" {
				return &exitError{code: 2, err: errors.New("check: --config FILE is required")}
			}
			return runCheck(cmd.OutOrStdout(), cmd.ErrOrStderr(), o.configPath)
		},
	}
	cmd.Flags().StringVarP(&o.configPath, "config", "c", "", "configuration file (native YAML or twemproxy nutcracker.yml)")
	return cmd
}

// runCheck loads the file at path and describes it on stdout, or lists its
// problems on stderr and returns an exit error.
func runCheck(stdout, stderr io.Writer, path string) error {
	cfg, err := config.Load(path)
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
	return writeConfig(stdout, cfg)
}

// writeConfig describes a valid configuration: the admin listener, then
// each pool.
func writeConfig(w io.Writer, cfg *config.Config) error {
	admin := "off"
	if cfg.Admin.Listen != "" {
		admin = cfg.Admin.Listen
	}
	fmt.Fprintf(w, "%s: ok\nadmin  %s\nlog    %s, %s\n", cfg.Path, admin, cfg.Log.Level, cfg.Log.Format)
	for _, p := range cfg.Pools {
		if err := writePool(w, p); err != nil {
			return err
		}
	}
	return nil
}

// writePool describes one pool: its settings, then one row per server.
// Each server's share of the keys, from the pool's ring, belongs in a
// column of the server table.
func writePool(w io.Writer, p config.Pool) error {
	hash := p.Hash
	if p.HashTag != "" {
		hash += ", hash tag " + p.HashTag
	}
	fmt.Fprintf(w, "\npool %q\n  listen        %s\n  hash          %s\n  distribution  %s\n", p.Name, p.Listen, hash, p.Distribution)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  SERVER\tNAME\tWEIGHT")
	for _, s := range p.Servers {
		name := s.Name
		if name == "" {
			name = "-"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%d\n", s.Addr, name, s.Weight)
	}
	return tw.Flush()
}
