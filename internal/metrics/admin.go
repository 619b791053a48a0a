package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"
)

// Admin serves hashproxy's admin endpoints over HTTP:
//
//	/metrics        the registry in the Prometheus exposition format
//	/healthz        200 "ok" while the process serves
//	/readyz         200 "ok" when ready, else 503 and the reason
//	/debug/pprof/   Go profiles, only when enabled
type Admin struct {
	ready func() error
	mux   *http.ServeMux
	srv   *http.Server
}

// Admin server timeouts. Scrapes are small and local; a CPU profile may run
// for its requested seconds, so the write timeout leaves room for one.
const (
	adminReadHeaderTimeout = 5 * time.Second
	adminWriteTimeout      = 2 * time.Minute
	adminIdleTimeout       = time.Minute
)

// NewAdmin returns an admin server for reg. ready reports why the proxy is
// not ready to serve, or nil when it is; a nil ready means always ready.
// enablePprof mounts the Go profiler under /debug/pprof/. log receives the
// HTTP server's errors at warn level; nil discards them.
func NewAdmin(reg *prometheus.Registry, ready func() error, enablePprof bool, log *zap.Logger) *Admin {
	if log == nil {
		log = zap.NewNop()
	}
	// NewStdLogAt fails only for levels zap does not know.
	errLog, _ := zap.NewStdLogAt(log, zap.WarnLevel)
	a := &Admin{ready: ready, mux: http.NewServeMux()}
	a.mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:      errLog,
		ErrorHandling: promhttp.ContinueOnError,
	}))
	a.mux.HandleFunc("GET /healthz", serveHealthz)
	a.mux.HandleFunc("GET /readyz", a.serveReadyz)
	if enablePprof {
		mountPprof(a.mux)
	}
	a.srv = &http.Server{
		Handler:           a.mux,
		ReadHeaderTimeout: adminReadHeaderTimeout,
		WriteTimeout:      adminWriteTimeout,
		IdleTimeout:       adminIdleTimeout,
		ErrorLog:          errLog,
	}
	return a
}

// Handler returns the admin endpoints as one handler, for tests or for
// mounting in another server.
func (a *Admin) Handler() http.Handler { return a.mux }

// Serve answers admin requests on l until Shutdown, then returns nil; any
// other failure to serve is returned. Serve closes l when it returns.
func (a *Admin) Serve(l net.Listener) error {
	err := a.srv.Serve(l)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("metrics: admin serve %s: %w", l.Addr(), err)
}

// Shutdown stops accepting admin requests and waits, until ctx ends, for the
// ones in progress to finish.
func (a *Admin) Shutdown(ctx context.Context) error {
	if err := a.srv.Shutdown(ctx); err != nil {
		return fmt.Errorf("metrics: admin shutdown: %w", err)
	}
	return nil
}

func serveHealthz(w http.ResponseWriter, _ *http.Request) {
	writeText(w, http.StatusOK, "ok")
}

func (a *Admin) serveReadyz(w http.ResponseWriter, _ *http.Request) {
	if a.ready != nil {
		if err := a.ready(); err != nil {
			writeText(w, http.StatusServiceUnavailable, err.Error())
			return
		}
	}
	writeText(w, http.StatusOK, "ok")
}

func writeText(w http.ResponseWriter, code int, body string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write(append([]byte(body), '\n'))
}

// mountPprof serves the Go profiler on mux, not on http.DefaultServeMux.
func mountPprof(mux *http.ServeMux) {
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
}
