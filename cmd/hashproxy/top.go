package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/spf13/cobra"

	"hashproxy/internal/config"
	"hashproxy/internal/metrics"
)

// topOptions are the flags of `hashproxy top`.
type topOptions struct {
	admin    string
	interval time.Duration
}

func newTopCmd() *cobra.Command {
	o := &topOptions{}
	cmd := &cobra.Command{
		Use:   "top [--admin URL]",
		Short: "Show a running hashproxy's nodes, rates and hot keys, live",
		Long: `Show what the status page shows, in the terminal, refreshed live like top:
each pool's nodes with their state, ring share, requests per second (with a
bar), hit ratio, p50 and p99 latency, errors and connections; the pool's hot
keys; the latest events. It reads /api/status from the admin listener of a
running hashproxy. q, Esc or Ctrl-C quits.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.validate(); err != nil {
				return err
			}
			screen, err := tcell.NewScreen()
			if err != nil {
				return fmt.Errorf("top: %w", err)
			}
			return o.run(cmd.Context(), screen)
		},
	}
	cmd.Flags().StringVar(&o.admin, "admin", "http://"+config.DefaultAdminListen, "URL of the hashproxy admin listener")
	cmd.Flags().DurationVar(&o.interval, "interval", time.Second, "time between refreshes")
	return cmd
}

func (o *topOptions) validate() error {
	if o.interval < 100*time.Millisecond {
		return fmt.Errorf("top: --interval %v: want at least 100ms", o.interval)
	}
	if !strings.HasPrefix(o.admin, "http://") && !strings.HasPrefix(o.admin, "https://") {
		o.admin = "http://" + o.admin
	}
	o.admin = strings.TrimSuffix(o.admin, "/")
	return nil
}

// topUpdate is one reading of /api/status, or why there is none.
type topUpdate struct {
	status *metrics.Status
	err    error
}

// run draws on screen until the user quits or ctx ends. It owns screen and
// finalizes it before returning, leaving the terminal as it found it.
func (o *topOptions) run(ctx context.Context, screen tcell.Screen) error {
	if err := screen.Init(); err != nil {
		return fmt.Errorf("top: %w", err)
	}
	defer screen.Fini()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	events := make(chan tcell.Event, 16)
	quit := make(chan struct{})
	defer close(quit)
	go screen.ChannelEvents(events, quit)
	updates := make(chan topUpdate, 1)
	go o.poll(ctx, updates)

	var last topUpdate
	draw := func() {
		screen.Clear()
		w, h := screen.Size()
		for y, line := range topLines(last, o.admin, w) {
			if y >= h {
				break
			}
			x := 0
			for _, seg := range line {
				screen.PutStrStyled(x, y, seg.text, seg.style)
				x += len([]rune(seg.text))
			}
		}
		screen.Show()
	}
	draw()
	for {
		select {
		case <-ctx.Done():
			return nil
		case u := <-updates:
			if u.err != nil && last.status != nil {
				u.status = last.status // keep the last figures on screen
			}
			last = u
			draw()
		case ev, ok := <-events:
			if !ok {
				return nil
			}
			switch ev := ev.(type) {
			case *tcell.EventKey:
				if ev.Key() == tcell.KeyCtrlC || ev.Key() == tcell.KeyEscape ||
					(ev.Key() == tcell.KeyRune && (ev.Rune() == 'q' || ev.Rune() == 'Q')) {
					return nil
				}
			case *tcell.EventResize:
				screen.Sync()
				draw()
			}
		}
	}
}

// poll reads /api/status every interval until ctx ends, sending each
// reading; a reading the loop has not taken yet is replaced.
func (o *topOptions) poll(ctx context.Context, updates chan topUpdate) {
	client := &http.Client{Timeout: max(2*o.interval, 2*time.Second)}
	t := time.NewTicker(o.interval)
	defer t.Stop()
	for {
		st, err := fetchStatus(ctx, client, o.admin+"/api/status")
		select {
		case <-updates:
		default:
		}
		updates <- topUpdate{status: st, err: err}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// fetchStatus GETs and decodes a status document.
func fetchStatus(ctx context.Context, client *http.Client, url string) (*metrics.Status, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("top: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("top: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("top: %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, errors.New("top: " + url + ": " + resp.Status)
	}
	var st metrics.Status
	if err := json.Unmarshal(body, &st); err != nil {
		return nil, fmt.Errorf("top: %s: %w", url, err)
	}
	return &st, nil
}
