// Command hashproxy is a consistent-hashing proxy for the memcached text
// protocol. Its subcommands:
//
//	serve        run the proxy: from a config file, or one pool from flags
//	check        validate a config file and print its pools and ring shares
//	ring         show which server owns each key, or how a pool spreads keys
//	bench        load a memcached server or proxy and validate every reply
//	healthcheck  exit 0 when a running hashproxy's admin endpoint answers 200
//	top          show a running hashproxy's nodes, rates and hot keys, live
//	version      print the version, commit and Go version
//
// This package holds the flags, logging, signals and wiring; the proxy
// itself is internal/proxy. check exits 1 for an invalid file, healthcheck
// 1 when the endpoint does not answer 200, and bench 3 when a request
// failed or was answered wrongly.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// exitError carries a process exit code through cobra's RunE.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCmd().ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "hashproxy:", err)
		var ee *exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		os.Exit(1)
	}
}

// newRootCmd builds the command tree.
func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "hashproxy",
		Short:         "A consistent-hashing proxy for the memcached text protocol",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newVersionCmd())
	root.AddCommand(newCheckCmd())
	root.AddCommand(newRingCmd())
	root.AddCommand(newServeCmd())
	root.AddCommand(newHealthcheckCmd())
	root.AddCommand(newBenchCmd())
	root.AddCommand(newTopCmd())
	return root
}
