package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/spf13/cobra"

	"hashproxy/internal/loadgen"
)

// benchOptions are the flags of `hashproxy bench`.
type benchOptions struct {
	load     loadgen.Options
	noWarmup bool
	json     bool
	quiet    bool
}

func newBenchCmd() *cobra.Command {
	return (&benchOptions{load: loadgen.DefaultOptions()}).command()
}

// command returns the bench command with its flags bound to o.
func (o *benchOptions) command() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Load a memcached server or proxy and measure it",
		Long: `Send memcached text-protocol load to --target (memcached itself, hashproxy,
twemproxy or any compatible proxy) and report throughput, latency
percentiles, hits, misses and errors.

Every key's value is derived from the key, so every reply is checked: a
wrong, truncated or misplaced value counts as an error, never as a hit. A
warm-up first sets every key (skip it with --no-warmup), so gets should hit.
With --rate the requests follow a fixed schedule and latency is measured
from the scheduled time, so stalls are not hidden by sending less.

The run ends after --duration, or after --requests when that is given
(whichever comes first); Ctrl-C ends it early and still reports. It exits 3
when any request failed or was answered wrongly.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			lo, err := o.options(cmd)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			return o.run(cmd, lo)
		},
	}
	f := cmd.Flags()
	l := &o.load
	f.StringVar(&l.Target, "target", l.Target, "memcached server or proxy to load, host:port or a Unix socket's path")
	f.IntVar(&l.Conns, "conns", l.Conns, "client connections")
	f.IntVar(&l.Pipeline, "pipeline", l.Pipeline, "requests in flight per connection (1: no pipelining)")
	f.Float64Var(&l.GetRatio, "get-ratio", l.GetRatio, "share of requests that are gets, 0 to 1; the rest are sets")
	f.IntVar(&l.Keys, "keys", l.Keys, "number of distinct keys, chosen uniformly")
	f.IntVar(&l.ValueSize, "value-size", l.ValueSize, "bytes per value")
	f.IntVar(&l.MultiGet, "multiget", l.MultiGet, "keys per get")
	f.DurationVar(&l.Duration, "duration", l.Duration, "how long to run; 0 with --requests runs until the count is reached")
	f.Int64Var(&l.Requests, "requests", l.Requests, "stop after this many requests (0: no limit)")
	f.Float64Var(&l.Rate, "rate", l.Rate, "fixed total requests per second over all connections (0: as fast as replies come)")
	f.DurationVar(&l.Timeout, "timeout", l.Timeout, "dial and per-reply timeout")
	f.StringVar(&l.KeyPrefix, "key-prefix", l.KeyPrefix, "prefix of every key")
	f.Uint64Var(&l.Seed, "seed", l.Seed, "seed of the key and command choices")
	f.BoolVar(&o.noWarmup, "no-warmup", false, "do not set every key before the run")
	f.BoolVar(&o.json, "json", false, "print the result as JSON")
	f.BoolVar(&o.quiet, "quiet", false, "no progress line on stderr")
	return cmd
}

// options returns the load generator's options from the flags.
func (o *benchOptions) options(cmd *cobra.Command) (loadgen.Options, error) {
	lo := o.load
	lo.Warmup = !o.noWarmup
	if cmd.Flags().Changed("requests") && !cmd.Flags().Changed("duration") {
		lo.Duration = 0 // a count alone bounds the run
	}
	if err := lo.Validate(); err != nil {
		return lo, err
	}
	if !o.quiet {
		errOut := cmd.ErrOrStderr()
		lo.Progress = func(p loadgen.Progress) { writeProgress(errOut, p) }
	}
	return lo, nil
}

// writeProgress writes one progress line.
func writeProgress(w io.Writer, p loadgen.Progress) {
	b := make([]byte, 0, 96)
	b = append(b, "bench: "...)
	b = strconv.AppendFloat(b, p.Elapsed.Seconds(), 'f', 0, 64)
	b = append(b, "s  "...)
	b = strconv.AppendFloat(b, p.OpsPerSec, 'f', 0, 64)
	b = append(b, " ops/s  "...)
	b = strconv.AppendInt(b, p.Requests, 10)
	b = append(b, " requests  "...)
	b = strconv.AppendInt(b, p.Errors, 10)
	b = append(b, " errors\n"...)
	_, _ = w.Write(b)
}

// run runs the load and prints the result.
func (o *benchOptions) run(cmd *cobra.Command, lo loadgen.Options) error {
	res, err := loadgen.Run(cmd.Context(), lo)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if o.json {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		err = enc.Encode(res)
	} else {
		err = res.WriteText(out)
	}
	if err != nil {
		return fmt.Errorf("bench: write result: %w", err)
	}
	if res.Errors > 0 || res.WarmupErrors > 0 {
		return &exitError{code: 3, err: fmt.Errorf("bench: %d requests and %d warm-up sets failed or were answered wrongly; first: %s",
			res.Errors, res.WarmupErrors, res.FirstError)}
	}
	return nil
}
