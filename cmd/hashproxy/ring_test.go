package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hashproxy/internal/config"
	"hashproxy/internal/proxy"
	"hashproxy/internal/testenv"
)

const ringTestConfig = `web:
  listen: 127.0.0.1:22190
  hash: fnv1a_64
  distribution: ketama
  servers:
    - 10.0.0.1:11211:1
    - 10.0.0.2:11212:1 cache-b
sessions:
  listen: 127.0.0.1:22191
  hash: crc32a
  distribution: modula
  servers:
    - 10.0.1.1:11211:1
    - 10.0.1.2:11211:3
`

func runRingCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "nutcracker.yml")
	if err := os.WriteFile(path, []byte(ringTestConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := newRingCmd()
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(append([]string{"--config", path}, args...))
	err := cmd.Execute()
	return out.String(), err
}

// TestRingKeys checks the owner printed for each key (CRC values from
// Python's zlib): for modula with
// crc32a and weights 1 and 3, crc32("a") = 0xe8b7be43 is 3 mod 4, so the
// second server; crc32("b") = 0x71beeff9 is 1 mod 4, also the second;
// crc32("key:8") = 0x72b38348 is 0 mod 4, the first.
func TestRingKeys(t *testing.T) {
	out, err := runRingCmd(t, "--pool", "sessions", "a", "b", "key:8")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	want := []string{"10.0.1.2:11211", "10.0.1.2:11211", "10.0.1.1:11211"}
	if len(lines) != 1+len(want) {
		t.Fatalf("output:\n%s", out)
	}
	for i, w := range want {
		if f := strings.Fields(lines[i+1]); len(f) != 5 || f[2] != w || f[4] != "1" {
			t.Errorf("line %q: want server %s", lines[i+1], w)
		}
	}
}

// TestRingKeysReplicated prints every home of each key, in order: with two
// copies on modula over weights 1 and 3 (slots 1 2 2 2), key "a" in slot 3
// is on the second server, then, wrapping to slot 0, the first; "key:8" in
// slot 0 is on the first, then the second.
func TestRingKeysReplicated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nutcracker.yml")
	body := strings.Replace(ringTestConfig, "  distribution: modula\n", "  distribution: modula\n  replication_factor: 2\n", 1)
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, err := runCmd(t, "ring", "--config", path, "--pool", "sessions", "a", "key:8")
	if err != nil {
		t.Fatal(err)
	}
	want := `KEY      POOL      SERVER          NAME            HOME
"a"      sessions  10.0.1.2:11211  10.0.1.2:11211  1
"a"      sessions  10.0.1.1:11211  10.0.1.1:11211  2
"key:8"  sessions  10.0.1.1:11211  10.0.1.1:11211  1
"key:8"  sessions  10.0.1.2:11211  10.0.1.2:11211  2
`
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

func TestRingChartAllPools(t *testing.T) {
	out, err := runRingCmd(t)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"pool web: ketama, hash fnv1a_64, 2 servers, 100000 sample keys",
		"cache-b",   // ketama names: alias
		"10.0.0.1 ", // ketama names: host alone for port 11211
		"pool sessions: modula, hash crc32a, 2 servers",
		"25.00%", "75.00%", // modula space shares follow weight
		"standard deviation",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("chart lacks %q:\n%s", want, out)
		}
	}
}

func TestRingErrors(t *testing.T) {
	_, err := runRingCmd(t, "--pool", "nope")
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 2 || !strings.Contains(err.Error(), "web, sessions") {
		t.Errorf("unknown pool: %v", err)
	}
	cmd := newRingCmd()
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	cmd.SetArgs([]string{"k"})
	cmd.SetOut(&bytes.Buffer{})
	if err := cmd.Execute(); !errors.As(err, &ee) || ee.code != 2 {
		t.Errorf("missing --config: %v", err)
	}
}

// TestWriteChart checks the numbers and bars of one chart: modula with
// weights 1 and 3 over a sample of 4,000 keys.
func TestWriteChart(t *testing.T) {
	p := config.Pool{Name: "p", Hash: "crc32a", Distribution: "modula", Servers: []config.Server{
		{Addr: "h1:1", Weight: 1}, {Addr: "h2:1", Weight: 3},
	}}
	r, err := proxy.PoolRing(p)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := writeChart(&out, p, r, 4000); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 5 {
		t.Fatalf("chart:\n%s", out.String())
	}
	small, large := strings.Fields(lines[2]), strings.Fields(lines[3])
	if large[len(large)-1] != strings.Repeat("█", ringBarWidth) {
		t.Errorf("largest share's bar is not full width: %q", lines[3])
	}
	if n := len([]rune(small[len(small)-1])); n < ringBarWidth/4 || n > ringBarWidth/2 {
		t.Errorf("bar of a quarter share is %d cells, want about %d", n, ringBarWidth/3)
	}
	if !strings.HasPrefix(lines[4], "standard deviation of keys per server from their weight's share: ") {
		t.Errorf("last line %q", lines[4])
	}
}

func TestBar(t *testing.T) {
	for _, tc := range []struct {
		v, max float64
		width  int
		want   string
	}{
		{1, 1, 4, "████"},
		{0.5, 1, 4, "██"},
		{0.5, 1, 1, "▌"},
		{7.0 / 16, 1, 2, "▉"},
		{9.0 / 16, 1, 2, "█▏"},
		{0, 1, 4, ""},
		{1, 0, 4, ""},
	} {
		if got := bar(tc.v, tc.max, tc.width); got != tc.want {
			t.Errorf("bar(%v, %v, %d) = %q, want %q", tc.v, tc.max, tc.width, got, tc.want)
		}
	}
}

// TestRingResolvesLookups checks that ring places keys over the nodes a
// pool's lookups find, named as discovery names them.
func TestRingResolvesLookups(t *testing.T) {
	d := testenv.StartDNS(t)
	d.Set(t, "_memcache._tcp.mc.test", "SRV 0 0 11211 mc-0.mc.test.")
	d.Set(t, "mc-0.mc.test", "A 10.0.0.1")
	path := filepath.Join(t.TempDir(), "hashproxy.yaml")
	body := "pools:\n  main:\n    discovery_resolver: " + d.Addr + "\n    servers: [dnssrv+_memcache._tcp.mc.test]\n"
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, err := runCmd(t, "ring", "--config", path, "some-key")
	if err != nil || !strings.Contains(out, "10.0.0.1:11211") || !strings.Contains(out, "mc-0.mc.test") {
		t.Errorf("got %v:\n%s", err, out)
	}
	d.Set(t, "_memcache._tcp.mc.test")
	if _, _, err := runCmd(t, "ring", "--config", path, "some-key"); err == nil || !strings.Contains(err.Error(), "dnssrv+_memcache._tcp.mc.test") {
		t.Errorf("a lookup that finds nothing: got %v", err)
	}
}
