package config

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"hashproxy/internal/ring"
	"hashproxy/internal/testenv"
)

// TestAgreesWithNutcracker feeds the same nutcracker.yml files to the real
// twemproxy's config check (nutcracker -t) and to Parse. Where hashproxy
// differs on purpose, the case says why.
func TestAgreesWithNutcracker(t *testing.T) {
	bin := testenv.Need(t, "nutcracker")
	const head = "a:\n  listen: 127.0.0.1:22122\n"
	const one = "  servers:\n    - 127.0.0.1:11211:1\n"
	type verdict struct{ nutcracker, hashproxy bool }
	accept, reject := verdict{true, true}, verdict{false, false}
	tests := []struct {
		name string
		body string
		want verdict
		why  string // required when the two differ
	}{
		{"minimal", head + one, accept, ""},
		{"every key", head + "  hash: murmur\n  hash_tag: \"{}\"\n  distribution: modula\n  timeout: 400\n  backlog: 1024\n" +
			"  preconnect: true\n  redis: false\n  redis_db: 1\n  tcpkeepalive: true\n  client_connections: 0\n  server_connections: 3\n" +
			"  auto_eject_hosts: true\n  server_retry_timeout: 2000\n  server_failure_limit: 3\n" + one, accept, ""},
		{"named servers", head + "  servers:\n    - 127.0.0.1:11211:1 x\n    - 127.0.0.1:11212:2 y\n", accept, ""},
		{"ipv6 server", head + "  servers:\n    - '[::1]:11211:1'\n", accept, ""},
		{"two pools", head + one + "b:\n  listen: 127.0.0.1:22124\n" + one, accept, ""},
		{"unknown key", head + "  color: red\n" + one, reject, ""},
		{"repeated key", head + one + one, reject, ""},
		{"no listen", "a:\n" + one, reject, ""},
		{"unknown hash", head + "  hash: sha1\n" + one, reject, ""},
		{"unknown distribution", head + "  distribution: maglev\n" + one, reject, ""},
		{"one-character hash tag", head + "  hash_tag: \"{\"\n" + one, reject, ""},
		{"bool yes", head + "  preconnect: yes\n" + one, reject, ""},
		{"negative timeout", head + "  timeout: -1\n" + one, reject, ""},
		{"zero server connections", head + "  server_connections: 0\n" + one, reject, ""},
		{"redis_auth", head + "  redis_auth: pw\n" + one, reject, ""},
		{"no servers", head + "  servers: []\n", reject, ""},
		{"zero weight", head + "  servers:\n    - 127.0.0.1:11211:0\n", reject, ""},
		{"bad port", head + "  servers:\n    - 127.0.0.1:70000:1\n", reject, ""},
		{"repeated name", head + "  servers:\n    - 127.0.0.1:11211:1 x\n    - 127.0.0.2:11211:1 x\n", reject, ""},
		{"repeated listen", head + one + "b:\n  listen: 127.0.0.1:22122\n" + one, reject, ""},
		{"random", head + "  distribution: random\n" + one, verdict{true, false},
			"random placement scatters each key over every node: useless for a cache"},
		{"redis", head + "  redis: true\n" + one, verdict{true, false},
			"hashproxy speaks the memcached protocol only"},
		{"zero timeout", head + "  timeout: 0\n" + one, verdict{true, false},
			"every request has a deadline; twemproxy reads 0 as none"},
		{"same address twice", head + "  servers:\n    - 127.0.0.1:11211:1 x\n    - 127.0.0.1:11211:1 y\n", verdict{true, false},
			"one memcached twice in a pool is a typo, and would split its metrics"},
		{"homes keys", head + "  replication_factor: 1\n  warmup: 60s\n  backfill_max_ttl: 1h\n" + one, verdict{false, true},
			"replication_factor, warmup and backfill_max_ttl are hashproxy's own: a file using them is no longer twemproxy's"},
		{"no weight", head + "  servers:\n    - 127.0.0.1:11211\n", verdict{false, true},
			"the weight defaults to 1, as in the serve command's --server flag"},
		{"weight 100000", head + "  servers:\n    - 127.0.0.1:11211:100000\n    - 127.0.0.1:11212:1\n", accept, ""},
		{"unix socket listen", "a:\n  listen: /tmp/hashproxy-test.sock\n" + one, accept, ""},
		{"unix socket listen with mode", "a:\n  listen: /tmp/hashproxy-test.sock 0666\n" + one, accept, ""},
		{"unix socket mode not octal", "a:\n  listen: /tmp/hashproxy-test.sock 0999\n" + one, verdict{true, false},
			"twemproxy reads the mode's digits up to the first that is not octal; a typo in a mode is refused"},
		{"unix socket servers", head + "  servers:\n    - /tmp/mc1.sock:1\n    - /tmp/mc2.sock:2 two\n", accept, ""},
		{"health_check_interval", head + "  health_check_interval: 100\n" + one, verdict{false, true},
			"health_check_interval is hashproxy's own: twemproxy does not probe a down node"},
	}
	for _, h := range ring.HashNames() {
		tests = append(tests, struct {
			name string
			body string
			want verdict
			why  string
		}{"hash " + h, head + "  hash: " + h + "\n" + one, accept, ""})
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if (tt.want.nutcracker != tt.want.hashproxy) != (tt.why != "") {
				t.Fatalf("a difference needs a reason, and only a difference")
			}
			path := filepath.Join(dir, "nutcracker.yml")
			if err := os.WriteFile(path, []byte(tt.body), 0o644); err != nil {
				t.Fatal(err)
			}
			if got := nutcrackerAccepts(t, bin, path); got != tt.want.nutcracker {
				t.Errorf("nutcracker accepts: %v, want %v", got, tt.want.nutcracker)
			}
			_, err := Load(path)
			if got := err == nil; got != tt.want.hashproxy {
				t.Errorf("hashproxy accepts: %v (%v), want %v", got, err, tt.want.hashproxy)
			}
		})
	}
	t.Run("configs/nutcracker.yml", func(t *testing.T) {
		path := filepath.Join(examples, "nutcracker.yml")
		if !nutcrackerAccepts(t, bin, path) {
			t.Errorf("nutcracker rejects the example")
		}
	})
}

// nutcrackerAccepts runs nutcracker's config check on path.
func nutcrackerAccepts(t *testing.T, bin, path string) bool {
	t.Helper()
	out, err := exec.Command(bin, "-t", "-c", path).CombinedOutput()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("nutcracker -t: %v\n%s", err, out)
	}
	return err == nil
}
