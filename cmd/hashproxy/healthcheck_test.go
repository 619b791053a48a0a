package main

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"hashproxy/internal/testenv"
)

func TestHealthcheck(t *testing.T) {
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
	}))
	defer srv.Close()

	if _, _, err := runCmd(t, "healthcheck", "--url", srv.URL+"/healthz"); err != nil {
		t.Errorf("healthy: %v", err)
	}
	status = http.StatusServiceUnavailable
	unreachable := "http://127.0.0.1:" + strconv.Itoa(testenv.FreePort(t)) + "/healthz"
	for _, tt := range []struct{ url, msg string }{
		{srv.URL + "/healthz", "503 Service Unavailable"},
		{srv.URL + "/other", "404 Not Found"},
		{unreachable, "connection refused"},
	} {
		_, _, err := runCmd(t, "healthcheck", "--url", tt.url)
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != 1 || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: got %v, want exit 1 with %q", tt.url, err, tt.msg)
		}
	}
}
