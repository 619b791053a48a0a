package main

import (
	"encoding/json"
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"hashproxy/internal/loadgen"
	"hashproxy/internal/testenv"
)

// benchFlags parses args as `hashproxy bench` does and returns the load
// generator's options.
func benchFlags(t *testing.T, args ...string) (loadgen.Options, error) {
	t.Helper()
	o := &benchOptions{load: loadgen.DefaultOptions()}
	cmd := o.command()
	if err := cmd.ParseFlags(args); err != nil {
		return loadgen.Options{}, err
	}
	return o.options(cmd)
}

func TestBenchFlagDefaults(t *testing.T) {
	lo, err := benchFlags(t)
	if err != nil {
		t.Fatal(err)
	}
	want := loadgen.DefaultOptions()
	if lo.Target != want.Target || lo.Conns != 50 || lo.Pipeline != 1 || lo.GetRatio != 0.9 || lo.Keys != want.Keys ||
		lo.ValueSize != 100 || lo.MultiGet != 1 || lo.Duration != 10*time.Second || lo.Requests != 0 || lo.Rate != 0 || !lo.Warmup {
		t.Errorf("defaults: %+v", lo)
	}
	if lo.Progress == nil {
		t.Error("no progress reporting by default")
	}
}

func TestBenchFlags(t *testing.T) {
	lo, err := benchFlags(t, "--target", "127.0.0.1:1", "--conns", "7", "--pipeline", "16", "--get-ratio", "0.5",
		"--keys", "123", "--value-size", "4096", "--multiget", "10", "--duration", "3s", "--requests", "99",
		"--rate", "500", "--timeout", "1s", "--key-prefix", "p:", "--seed", "9", "--no-warmup", "--quiet")
	if err != nil {
		t.Fatal(err)
	}
	got := lo
	got.Progress = nil
	want := loadgen.Options{Target: "127.0.0.1:1", Conns: 7, Pipeline: 16, GetRatio: 0.5, Keys: 123, ValueSize: 4096,
		MultiGet: 10, Duration: 3 * time.Second, Requests: 99, Rate: 500, Timeout: time.Second, KeyPrefix: "p:", Seed: 9}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("options\n got %+v\nwant %+v", got, want)
	}
	if lo.Progress != nil {
		t.Error("--quiet still reports progress")
	}
}

func TestBenchRequestsAloneBoundTheRun(t *testing.T) {
	lo, err := benchFlags(t, "--requests", "1000")
	if err != nil {
		t.Fatal(err)
	}
	if lo.Duration != 0 || lo.Requests != 1000 {
		t.Errorf("--requests alone: duration %v requests %d; want 0 and 1000", lo.Duration, lo.Requests)
	}
}

func TestBenchBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--conns", "0"},
		{"--get-ratio", "2"},
		{"--duration", "0"},
		{"--multiget", "-1"},
	} {
		if _, err := benchFlags(t, args...); err == nil || !strings.Contains(err.Error(), "loadgen: ") {
			t.Errorf("%v: err = %v", args, err)
		}
	}
	_, _, err := runCmd(t, "bench", "--conns", "0")
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 2 {
		t.Errorf("bench --conns 0: err = %v, want exit code 2", err)
	}
}

func TestBenchRunAgainstMemcached(t *testing.T) {
	mc := testenv.StartMemcached(t)
	stdout, stderr, err := runCmd(t, "bench", "--target", mc.Addr, "--conns", "4", "--pipeline", "4",
		"--keys", "200", "--duration", "1200ms", "--json")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	var res loadgen.Result
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("%v:\n%s", err, stdout)
	}
	if res.Requests == 0 || res.Errors != 0 || res.Misses != 0 || res.Hits != res.Gets || res.Target != mc.Addr {
		t.Errorf("result: %+v", res)
	}
	// A progress line a second or so in; a loaded machine may print the
	// first one late.
	if !regexp.MustCompile(`(?m)^bench: \d+s  \d+ ops/s  `).MatchString(stderr) {
		t.Errorf("no progress line on stderr: %q", stderr)
	}

	stdout, _, err = runCmd(t, "bench", "--target", mc.Addr, "--conns", "2", "--keys", "200", "--requests", "300", "--quiet")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"requests    300 in ", "throughput  ", "latency     p50 ", "errors      0 "} {
		if !strings.Contains(stdout, want) {
			t.Errorf("text result lacks %q:\n%s", want, stdout)
		}
	}
}

// TestBenchCountsWrongValues reads the keys of a run with 100-byte values as
// if they had 50 bytes: every get is answered wrongly, and bench exits 3.
func TestBenchCountsWrongValues(t *testing.T) {
	mc := testenv.StartMemcached(t)
	if _, _, err := runCmd(t, "bench", "--target", mc.Addr, "--conns", "2", "--keys", "50", "--requests", "10", "--quiet"); err != nil {
		t.Fatal(err)
	}
	stdout, _, err := runCmd(t, "bench", "--target", mc.Addr, "--conns", "2", "--keys", "50", "--requests", "100",
		"--value-size", "50", "--get-ratio", "1", "--no-warmup", "--quiet", "--json")
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 3 {
		t.Fatalf("err = %v, want exit code 3", err)
	}
	var res loadgen.Result
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatal(err)
	}
	if res.Errors != 100 || res.Hits != 0 || res.FirstError != "wrong value" {
		t.Errorf("errors %d hits %d first %q; want 100, 0, wrong value", res.Errors, res.Hits, res.FirstError)
	}
}
