package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"hashproxy/internal/testenv"
)

// TestServeWatchConfigEdits edits the file of a binary run with
// --watch-config: several quick writes apply once, and a broken file is
// refused while the running configuration keeps serving.
func TestServeWatchConfigEdits(t *testing.T) {
	if testing.Short() {
		t.Skip("starts memcached processes and waits for the watch debounce")
	}
	a, b, c := testenv.StartMemcached(t), testenv.StartMemcached(t), testenv.StartMemcached(t)
	rp := startBinary(t, []*testenv.Process{a, b}, "    hash: md5\n", "--watch-config")
	path := configPath(t, rp)
	body, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	checkPlacement(t, rp.addr, "before:", []*testenv.Process{a, b})

	// An editor's several writes, the last adding server c.
	withC := string(body) + "      - " + c.Addr + ":1\n"
	for _, s := range []string{withC[:len(withC)/2], string(body), withC} {
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	waitMetric(t, rp.admin, `hashproxy_config_reloads_total{result="success"}`, 1)
	checkPlacement(t, rp.addr, "after:", []*testenv.Process{a, b, c})
	time.Sleep(3 * watchDebounce)
	waitMetric(t, rp.admin, `hashproxy_config_reloads_total{result="success"}`, 1)

	if err := os.WriteFile(path, []byte(withC+"    hash: sha1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitMetric(t, rp.admin, `hashproxy_config_reloads_total{result="failure"}`, 1)
	checkPlacement(t, rp.addr, "refused:", []*testenv.Process{a, b, c})
	waitFor(t, "the refusal logged", func() bool {
		out := rp.output.String()
		return strings.Contains(out, "the file changed: reloading the configuration") &&
			strings.Contains(out, "configuration reload rejected") && strings.Contains(out, `key \"hash\" repeated`)
	})
}

// TestServeWatchConfigMapSwap runs the binary on a file laid out as the
// kubelet mounts a ConfigMap, and swaps it as the kubelet updates one.
func TestServeWatchConfigMapSwap(t *testing.T) {
	if testing.Short() {
		t.Skip("starts memcached processes and waits for the watch debounce")
	}
	a, b := testenv.StartMemcached(t), testenv.StartMemcached(t)
	port, adminPort := testenv.FreePort(t), testenv.FreePort(t)
	config := func(nodes ...*testenv.Process) string {
		s := fmt.Sprintf("admin:\n  listen: 127.0.0.1:%d\npools:\n  main:\n    listen: 127.0.0.1:%d\n    hash: md5\n    servers:\n", adminPort, port)
		for _, n := range nodes {
			s += "      - " + n.Addr + ":1\n"
		}
		return s
	}
	dir := t.TempDir()
	version := func(name, body string) {
		if err := os.Mkdir(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name, "hashproxy.yaml"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	version("..2026_12_04_1", config(a))
	for _, l := range [][2]string{{"..2026_12_04_1", "..data"}, {"..data/hashproxy.yaml", "hashproxy.yaml"}} {
		if err := os.Symlink(l[0], filepath.Join(dir, l[1])); err != nil {
			t.Fatal(err)
		}
	}
	rp := runServe(t, []string{"--config", filepath.Join(dir, "hashproxy.yaml"), "--watch-config"},
		"127.0.0.1:"+strconv.Itoa(port), "127.0.0.1:"+strconv.Itoa(adminPort))
	rp.admin = "127.0.0.1:" + strconv.Itoa(adminPort)
	checkPlacement(t, rp.addr, "before:", []*testenv.Process{a})

	version("..2026_12_04_2", config(a, b))
	if err := os.Symlink("..2026_12_04_2", filepath.Join(dir, "..data_tmp")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "..2026_12_04_1")); err != nil {
		t.Fatal(err)
	}
	waitMetric(t, rp.admin, `hashproxy_config_reloads_total{result="success"}`, 1)
	checkPlacement(t, rp.addr, "after:", []*testenv.Process{a, b})
}

// TestServeWatchConfigNeedsAFile checks that --watch-config without
// --config is a usage error.
func TestServeWatchConfigNeedsAFile(t *testing.T) {
	_, _, err := runCmd(t, "serve", "--server", "127.0.0.1:11211", "--watch-config")
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 2 {
		t.Errorf("got %v, want a usage error", err)
	}
}
