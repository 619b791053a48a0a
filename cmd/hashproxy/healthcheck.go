package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"
)

// healthcheckOptions are the flags of `hashproxy healthcheck`.
type healthcheckOptions struct {
	url     string
	timeout time.Duration
}

func newHealthcheckCmd() *cobra.Command {
	o := &healthcheckOptions{}
	cmd := &cobra.Command{
		Use:   "healthcheck [--url URL]",
		Short: "Exit 0 when a running hashproxy's admin endpoint answers 200",
		Long: `Ask a running hashproxy's admin endpoint (/healthz by default, or /readyz)
and exit 0 if it answers 200 OK, 1 otherwise. It is the container image's
HEALTHCHECK, as the image has no shell, curl or wget.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := runHealthcheck(cmd.Context(), o.url, o.timeout); err != nil {
				return &exitError{code: 1, err: err}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&o.url, "url", "http://127.0.0.1:22120/healthz", "URL to ask")
	cmd.Flags().DurationVar(&o.timeout, "timeout", 3*time.Second, "how long to wait for the answer")
	return cmd
}

// runHealthcheck GETs url and returns nil when it answers 200 OK.
func runHealthcheck(ctx context.Context, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errors.New("healthcheck: " + url + ": " + resp.Status)
	}
	return nil
}
