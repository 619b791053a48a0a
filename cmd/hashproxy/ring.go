package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"hashproxy/internal/config"
	"hashproxy/internal/proxy"
	"hashproxy/internal/ring"
)

// ringSampleKeys is the size of the key sample the chart spreads.
const ringSampleKeys = 100000

// ringBarWidth is the width, in cells, of the longest bar.
const ringBarWidth = 40

// ringOptions are the flags of `hashproxy ring`.
type ringOptions struct {
	configPath string
	pool       string
}

func newRingCmd() *cobra.Command {
	o := &ringOptions{}
	cmd := &cobra.Command{
		Use:   "ring --config FILE [--pool NAME] [KEY...]",
		Short: "Show which servers hold each key, or how a pool spreads keys",
		Long: `With keys, print each key's homes in order: the server that owns it,
then, with replication_factor, the servers holding its other copies. Without, print each
server's share of the hash space and of a 100,000-key sample as a bar chart,
with the standard deviation, so the distribution can be seen before
deploying. Servers written as lookups (dns+, dnssrv+, elasticache) are
resolved once, as check does. --pool picks one pool; by default every pool
is shown.`,
		RunE: func(cmd *cobra.Command, keys []string) error {
			if o.configPath == "" {
				return &exitError{code: 2, err: errors.New("ring: --config FILE is required")}
			}
			cfg, err := config.Load(o.configPath)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			if cfg, err = resolveLookups(cmd.Context(), cfg); err != nil {
				return &exitError{code: 1, err: fmt.Errorf("ring: %w", err)}
			}
			pools, err := selectPools(cfg.Pools, o.pool)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			return runRing(cmd.OutOrStdout(), pools, keys)
		},
	}
	cmd.Flags().StringVarP(&o.configPath, "config", "c", "", "configuration file (native YAML or twemproxy nutcracker.yml)")
	cmd.Flags().StringVar(&o.pool, "pool", "", "show only this pool")
	return cmd
}

// selectPools returns the pool called name, or every pool when name is "".
func selectPools(pools []config.Pool, name string) ([]config.Pool, error) {
	if name == "" {
		return pools, nil
	}
	var names []string
	for _, p := range pools {
		if p.Name == name {
			return []config.Pool{p}, nil
		}
		names = append(names, p.Name)
	}
	return nil, fmt.Errorf("ring: no pool %q (pools: %s)", name, strings.Join(names, ", "))
}

// runRing writes, for each pool, the owner of each key, or the pool's
// distribution chart when there are no keys.
func runRing(w io.Writer, pools []config.Pool, keys []string) error {
	for i, p := range pools {
		r, err := proxy.PoolRing(p)
		if err != nil {
			return err
		}
		if i > 0 {
			if _, err := io.WriteString(w, "\n"); err != nil {
				return err
			}
		}
		if len(keys) > 0 {
			err = writeOwners(w, p, r, keys)
		} else {
			err = writeChart(w, p, r, ringSampleKeys)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// writeOwners writes, for each key, one line per home in order (see
// replication_factor): the key, the pool, the server, its name and the
// home's rank, 1 for the owner.
func writeOwners(w io.Writer, p config.Pool, r *ring.Ring, keys []string) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tPOOL\tSERVER\tNAME\tHOME")
	var homes []int
	for _, k := range keys {
		homes = r.Homes(homes[:0], []byte(k), p.ReplicationFactor)
		for rank, i := range homes {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\n", strconv.Quote(k), p.Name, r.Node(i).Addr, r.Name(i), rank+1)
		}
	}
	return tw.Flush()
}

// chartRow is one server's line in the chart.
type chartRow struct {
	addr, name   string
	weight, keys int
	space        float64 // share of the hash space
	sample       float64 // share of the sample
}

// writeChart writes each server's share of the hash space and of a sample
// of keys ("key:0" to "key:<sample-1>"), a bar per server scaled to the
// largest sample share, and the standard deviation of keys per server from
// what its weight would give.
func writeChart(w io.Writer, p config.Pool, r *ring.Ring, sample int) error {
	counts := make([]int, r.Len())
	key := make([]byte, 0, 32)
	for i := range sample {
		key = strconv.AppendInt(append(key[:0], "key:"...), int64(i), 10)
		counts[r.Pick(key)]++
	}
	shares := r.Shares()
	totalWeight := 0
	for i := range r.Len() {
		totalWeight += r.Node(i).Weight
	}
	rows := make([]chartRow, r.Len())
	maxShare, sq := 0.0, 0.0
	for i := range rows {
		n := r.Node(i)
		rows[i] = chartRow{addr: n.Addr, name: r.Name(i), weight: n.Weight, keys: counts[i],
			space: shares[i], sample: float64(counts[i]) / float64(sample)}
		maxShare = max(maxShare, rows[i].sample)
		want := float64(sample) * float64(n.Weight) / float64(totalWeight)
		sq += (float64(counts[i]) - want) * (float64(counts[i]) - want)
	}
	sd := math.Sqrt(sq / float64(len(rows)))
	mean := float64(sample) / float64(len(rows))

	fmt.Fprintf(w, "pool %s: %s, hash %s", p.Name, r.Distribution(), orDefault(p.Hash, ring.DefaultHash))
	if p.HashTag != "" {
		fmt.Fprintf(w, ", hash tag %q", p.HashTag)
	}
	fmt.Fprintf(w, ", %s, %d sample keys\n", plural(r.Len(), "server"), sample)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVER\tNAME\tWEIGHT\tSPACE\tKEYS\tSAMPLE\tCHART")
	for _, row := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.2f%%\t%d\t%.2f%%\t%s\n", row.addr, row.name, row.weight,
			100*row.space, row.keys, 100*row.sample, bar(row.sample, maxShare, ringBarWidth))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "standard deviation of keys per server from their weight's share: %.1f (%.2f%% of the mean, %.0f)\n",
		sd, 100*sd/mean, mean)
	return err
}

// bar draws v/max as up to width cells, in eighths of a cell.
func bar(v, max float64, width int) string {
	if max <= 0 {
		return ""
	}
	eighths := int(math.Round(v / max * float64(width) * 8))
	partial := []string{"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"}
	return strings.Repeat("█", eighths/8) + partial[eighths%8]
}

// plural returns "1 server", "2 servers".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
