package metrics

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"
)

// get runs one request against h and returns the status and body.
func get(t *testing.T, h http.Handler, method, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec.Code, rec.Body.String()
}

func TestAdminHealthz(t *testing.T) {
	a := NewAdmin(prometheus.NewRegistry(), nil, false, nil)
	if code, body := get(t, a.Handler(), http.MethodGet, "/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("GET /healthz = %d %q, want 200 \"ok\\n\"", code, body)
	}
	if code, _ := get(t, a.Handler(), http.MethodPost, "/healthz"); code != http.StatusMethodNotAllowed {
		t.Errorf("POST /healthz = %d, want 405", code)
	}
}

func TestAdminReadyz(t *testing.T) {
	var reason error
	a := NewAdmin(prometheus.NewRegistry(), func() error { return reason }, false, nil)

	if code, body := get(t, a.Handler(), http.MethodGet, "/readyz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("ready: GET /readyz = %d %q, want 200 \"ok\\n\"", code, body)
	}
	reason = errors.New("pool main: no reachable server")
	if code, body := get(t, a.Handler(), http.MethodGet, "/readyz"); code != http.StatusServiceUnavailable || body != "pool main: no reachable server\n" {
		t.Errorf("not ready: GET /readyz = %d %q, want 503 with the reason", code, body)
	}
	reason = nil
	if code, _ := get(t, a.Handler(), http.MethodGet, "/readyz"); code != http.StatusOK {
		t.Errorf("ready again: GET /readyz = %d, want 200", code)
	}

	always := NewAdmin(prometheus.NewRegistry(), nil, false, nil)
	if code, _ := get(t, always.Handler(), http.MethodGet, "/readyz"); code != http.StatusOK {
		t.Errorf("nil ready func: GET /readyz = %d, want 200", code)
	}
}

func TestAdminMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg, BuildInfo{Version: "1.2.3"}, testLabels)
	m.Server("main", "cache-a").Hits.Add(7)
	a := NewAdmin(reg, nil, false, nil)

	rec := httptest.NewRecorder()
	a.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics = %d", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type = %q, want the text exposition format", ct)
	}
	body := rec.Body.String()
	for _, want := range []string{
		`hashproxy_get_hits_total{pool="main",server="cache-a"} 7`,
		`hashproxy_build_info{commit="",goversion=`,
		"go_goroutines ",
		"process_cpu_seconds_total ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestAdminPprof(t *testing.T) {
	for _, enabled := range []bool{false, true} {
		a := NewAdmin(prometheus.NewRegistry(), nil, enabled, nil)
		want := http.StatusNotFound
		if enabled {
			want = http.StatusOK
		}
		for _, path := range []string{"/debug/pprof/", "/debug/pprof/cmdline", "/debug/pprof/goroutine?debug=1"} {
			if code, _ := get(t, a.Handler(), http.MethodGet, path); code != want {
				t.Errorf("pprof %v: GET %s = %d, want %d", enabled, path, code, want)
			}
		}
	}
}

func TestAdminUnknownPath(t *testing.T) {
	a := NewAdmin(prometheus.NewRegistry(), nil, true, nil)
	if code, _ := get(t, a.Handler(), http.MethodGet, "/"); code != http.StatusNotFound {
		t.Errorf("GET / = %d, want 404", code)
	}
}

// TestAdminServeShutdown serves on a real loopback listener, answers
// requests, then shuts down: Serve returns nil and no goroutine is left.
func TestAdminServeShutdown(t *testing.T) {
	defer goleak.VerifyNone(t)

	reg := prometheus.NewRegistry()
	New(reg, BuildInfo{}, testLabels)
	a := NewAdmin(reg, nil, false, nil)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- a.Serve(l) }()

	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	base := "http://" + l.Addr().String()
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		resp, err := client.Get(base + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d, want 200", path, resp.StatusCode)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve after Shutdown = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after Shutdown")
	}
	if _, err := client.Get(base + "/healthz"); err == nil {
		t.Error("admin still answers after Shutdown")
	}
}

func TestAdminServeError(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	a := NewAdmin(prometheus.NewRegistry(), nil, false, nil)
	err = a.Serve(l)
	if err == nil || !errors.Is(err, net.ErrClosed) || !strings.HasPrefix(err.Error(), "metrics: admin serve ") {
		t.Errorf("Serve on a closed listener = %v, want a wrapped net.ErrClosed", err)
	}
}
