package main

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"hashproxy/internal/testenv"
)

// runCmd runs the root command in-process with args and returns what it
// wrote to stdout and stderr.
func runCmd(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRootCmd()
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err = root.Execute()
	return out.String(), errOut.String(), err
}

func TestCheckValid(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hashproxy.yaml")
	body := `admin:
  listen: ""
pools:
  main:
    listen: 127.0.0.1:22122
    hash: md5
    hash_tag: "{}"
    distribution: modula
    replication_factor: 2
    warmup: 0
    servers:
      - 127.0.0.1:11311:1
      - 127.0.0.1:11312:20 big
`
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := runCmd(t, "check", "--config", path)
	if err != nil || errOut != "" {
		t.Fatalf("err %v, stderr %q", err, errOut)
	}
	want := path + `: ok
admin  off
log    info, console

pool "main"
  listen        127.0.0.1:22122
  hash          md5, hash tag {}
  distribution  modula
  homes         2 copies (the ring owner, then the next server clockwise), no warm-up, backfill TTL at most 1h0m0s
  SERVER           NAME  WEIGHT  SHARE
  127.0.0.1:11311  -     1       4.76%
  127.0.0.1:11312  big   20      95.24%
`
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

func TestCheckExamples(t *testing.T) {
	for _, name := range []string{"hashproxy.yaml", "nutcracker.yml"} {
		path := filepath.Join("..", "..", "configs", name)
		out, _, err := runCmd(t, "check", "-c", path)
		if err != nil || !strings.HasPrefix(out, path+": ok\n") {
			t.Errorf("%s: err %v, output\n%s", name, err, out)
		}
		// Each pool's shares add up to 100%.
		for _, pool := range strings.Split(out, "\npool ")[1:] {
			sum := 0.0
			for _, line := range strings.Split(pool, "\n") {
				f := strings.Fields(line)
				if len(f) == 4 && strings.HasSuffix(f[3], "%") {
					v, err := strconv.ParseFloat(strings.TrimSuffix(f[3], "%"), 64)
					if err != nil {
						t.Fatalf("%s: share %q", name, f[3])
					}
					sum += v
				}
			}
			if math.Abs(sum-100) > 0.05*float64(strings.Count(pool, "%")) {
				t.Errorf("%s: shares add up to %.2f%%:\n%s", name, sum, pool)
			}
		}
	}
}

func TestCheckProblems(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nutcracker.yml")
	body := "a:\n  listen: 127.0.0.1:22122\n  hash: sha1\n  servers:\n    - 127.0.0.1:11211:0\n"
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := runCmd(t, "check", "--config", path)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 1 {
		t.Fatalf("err %v, want exit code 1", err)
	}
	if out != "" {
		t.Errorf("stdout %q, want nothing", out)
	}
	lines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")
	if len(lines) != 2 ||
		!strings.HasPrefix(lines[0], path+`:3: pool "a": hash: "sha1" is not one of`) ||
		lines[1] != path+`:5: pool "a": server "127.0.0.1:11211": weight 0 is out of range [1, 1000000]` {
		t.Errorf("stderr:\n%s", errOut)
	}
}

func TestCheckUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"check"}, 2, "check: --config FILE is required"},
		{[]string{"check", "--config", filepath.Join(t.TempDir(), "missing.yml")}, 1, "no such file"},
	}
	for _, tt := range tests {
		_, _, err := runCmd(t, tt.args...)
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != tt.code || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%v: got %v, want exit %d with %q", tt.args, err, tt.code, tt.msg)
		}
	}
}

// TestCheckWarnsOfSkewedHash: a pool whose hash spreads sequential keys
// worse than the threshold gets a warning with its figure, md5's, and the
// share of keys a move to md5 would send elsewhere; an md5 pool gets none.
// The file stays valid either way.
func TestCheckWarnsOfSkewedHash(t *testing.T) {
	for hash, warn := range map[string]bool{"fnv1a_64": true, "md5": false} {
		path := filepath.Join(t.TempDir(), "nutcracker.yml")
		body := "main:\n  listen: 127.0.0.1:22122\n  hash: " + hash + "\n  servers:\n" +
			"   - 127.0.0.1:11311:1\n   - 127.0.0.1:11312:1\n   - 127.0.0.1:11313:1\n"
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		out, _, err := runCmd(t, "check", "--config", path)
		if err != nil {
			t.Fatalf("%s: %v", hash, err)
		}
		_, line, found := strings.Cut(out, "  warning: ")
		if found != warn {
			t.Fatalf("%s: warning %v, want %v:\n%s", hash, found, warn, out)
		}
		if !warn {
			continue
		}
		for _, want := range []string{"hash fnv1a_64 spreads keys named in sequence unevenly", "(warning above 15%)", "with hash: md5,", "of the keys to another server"} {
			if !strings.Contains(line, want) {
				t.Errorf("warning %q lacks %q", line, want)
			}
		}
		var moved int
		if _, err := fmt.Sscanf(line[strings.Index(line, "moving to it sends ")+len("moving to it sends "):], "%d%%", &moved); err != nil || moved < 60 || moved > 73 {
			t.Errorf("moved %d%% (%v), want about two thirds for 3 servers: %q", moved, err, line)
		}
	}
}

// TestCheckResolvesLookups checks that check asks the lookups once and
// lists the nodes found, and fails when one finds nothing.
func TestCheckResolvesLookups(t *testing.T) {
	d := testenv.StartDNS(t)
	d.Set(t, "_memcache._tcp.mc.test", "SRV 0 0 11212 mc-1.mc.test.", "SRV 0 0 11211 mc-0.mc.test.")
	d.Set(t, "mc-0.mc.test", "A 10.0.0.1")
	d.Set(t, "mc-1.mc.test", "A 10.0.0.2")
	d.Set(t, "nodes.test", "A 10.0.1.1")
	path := filepath.Join(t.TempDir(), "hashproxy.yaml")
	body := "pools:\n  main:\n    discovery_resolver: " + d.Addr + "\n    servers:\n      - 10.0.2.1:11211:1 fixed\n" +
		"      - dnssrv+_memcache._tcp.mc.test\n      - dns+nodes.test:11213:2\n"
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := runCmd(t, "check", "--config", path)
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	for _, want := range []string{
		"lookup        dnssrv+_memcache._tcp.mc.test:1 (every 10s)",
		"lookup        dns+nodes.test:11213:2 (every 10s)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	var rows []string
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 4 && strings.HasSuffix(f[3], "%") {
			rows = append(rows, strings.Join(f[:3], " "))
		}
	}
	// The written servers, then the nodes found, by name then address.
	want := []string{"10.0.2.1:11211 fixed 1", "10.0.1.1:11213 - 2", "10.0.0.1:11211 mc-0.mc.test 1", "10.0.0.2:11212 mc-1.mc.test 1"}
	if strings.Join(rows, "\n") != strings.Join(want, "\n") {
		t.Errorf("servers:\n%s\nwant\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"))
	}

	d.Set(t, "nodes.test")
	_, _, err = runCmd(t, "check", "--config", path)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 1 || !strings.Contains(err.Error(), `pool "main": discovery: dns+nodes.test:11213:2: A/AAAA lookup of nodes.test`) {
		t.Errorf("a lookup that finds nothing: got %v", err)
	}
}

// TestCheckReadsTLSFiles checks that check reads the files of a tls
// section, as serve does, and says which one it could not.
func TestCheckReadsTLSFiles(t *testing.T) {
	ca := testenv.NewCA(t, "ca")
	pair := ca.Issue(t, "proxy", time.Now().Add(time.Hour), "hashproxy")
	path := filepath.Join(t.TempDir(), "hashproxy.yaml")
	write := func(caFile string) {
		body := "pools:\n  main:\n    tls:\n      ca_file: " + caFile + "\n      cert_file: " + pair.CertFile + "\n      key_file: " + pair.KeyFile + "\n" +
			"    client_tls: {cert_file: " + pair.CertFile + ", key_file: " + pair.KeyFile + ", client_ca_file: " + caFile + "}\n    servers: [127.0.0.1:11211]\n"
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(ca.File)
	out, _, err := runCmd(t, "check", "--config", path)
	if err != nil || !strings.Contains(out, "  tls           to the nodes, TLS 1.2 or later, client certificate "+pair.CertFile+"\n") ||
		!strings.Contains(out, "  client_tls    certificate "+pair.CertFile+", client certificates required ("+ca.File+")\n") {
		t.Errorf("got %v:\n%s", err, out)
	}
	write(pair.KeyFile)
	if _, _, err := runCmd(t, "check", "--config", path); err == nil || !strings.Contains(err.Error(), `pool "main": tls: ca_file `+pair.KeyFile+": no PEM certificate in it") {
		t.Errorf("a key as ca_file: got %v", err)
	}
}
