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

// TestServeWatchConfigChangeDuringStart changes the file while the binary,
// having read it, waits at start for its pool's DNS lookup (held by the
// test's DNS server): the change is applied once serve runs.
func TestServeWatchConfigChangeDuringStart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts memcached processes and waits for the watch debounce")
	}
	d := testenv.StartDNS(t)
	a, c := testenv.StartMemcached(t), testenv.StartMemcached(t)
	d.Set(t, "nodes.test", "A 127.0.0.1")
	release := d.Hold(t)
	port, adminPort := testenv.FreePort(t), testenv.FreePort(t)
	body := fmt.Sprintf("admin:\n  listen: 127.0.0.1:%d\nlog:\n  level: debug\npools:\n  main:\n    listen: 127.0.0.1:%d\n    hash: md5\n    discovery_resolver: %s\n    servers:\n      - dns+nodes.test:%d\n",
		adminPort, port, d.Addr, a.Port)
	path := filepath.Join(t.TempDir(), "hashproxy.yaml")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	go func() {
		defer close(started)
		// Once serve asks DNS it has read the file; its answer waits.
		deadline := time.Now().Add(10 * time.Second)
		for d.Queries() == 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if err := os.WriteFile(path, []byte(body+"      - "+c.Addr+":1\n"), 0o644); err != nil {
			t.Error(err)
		}
		release()
	}()
	rp := runServe(t, []string{"--config", path, "--watch-config"},
		"127.0.0.1:"+strconv.Itoa(port), "127.0.0.1:"+strconv.Itoa(adminPort))
	rp.admin = "127.0.0.1:" + strconv.Itoa(adminPort)
	<-started
	if d.Queries() == 0 {
		t.Fatal("serve asked no DNS question at start")
	}
	waitMetric(t, rp.admin, `hashproxy_config_reloads_total{result="success"}`, 1)
	checkNamedPlacement(t, rp.addr, "changed:", []namedNode{{"", a}, {"", c}})
}
