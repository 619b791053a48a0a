package main

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"hashproxy/internal/testenv"
)

func TestServeBinaryEndToEnd(t *testing.T) {
	nodes := []*testenv.Process{testenv.StartMemcached(t), testenv.StartMemcached(t), testenv.StartMemcached(t)}
	rp := startBinary(t, nodes, "    hash: md5\n")
	c := memcache.New(rp.addr)
	c.Timeout = 2 * time.Second
	var keys []string
	for i := 0; i < 100; i++ {
		k := "e2e" + strconv.Itoa(i)
		keys = append(keys, k)
		if err := c.Set(&memcache.Item{Key: k, Value: []byte("value of " + k)}); err != nil {
			t.Fatal(err)
		}
	}
	items, err := c.GetMulti(append(keys, "absent"))
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != len(keys) {
		t.Fatalf("GetMulti: %d items, want %d", len(items), len(keys))
	}
	for _, k := range keys {
		if string(items[k].Value) != "value of "+k {
			t.Fatalf("%s = %q", k, items[k].Value)
		}
	}
	// Every node holds some of the keys.
	for _, n := range nodes {
		got, err := memcache.New(n.Addr).GetMulti(keys)
		if err != nil || len(got) == 0 {
			t.Errorf("node %s holds none of the keys (%v)", n.Addr, err)
		}
	}
	if err := rp.stop(t); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
}

func TestServeRejectsBadConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	body := "pools:\n  main:\n    listen: 127.0.0.1:1\n    distribution: nope\n    servers:\n      - 127.0.0.1:11211:1\n"
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(hashproxyBinary(t), "serve", "--config", path).CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() == 0 {
		t.Fatalf("want a non-zero exit, got %v\n%s", err, out)
	}
	if !strings.Contains(string(out), path+":4") {
		t.Errorf("error does not name the file and line:\n%s", out)
	}
}

// TestServeAdminPortTaken: a second hashproxy whose admin address another
// process holds (two nutcracker.yml files, which cannot say admin, both
// take the default) exits non-zero and names the flag that settles it.
func TestServeAdminPortTaken(t *testing.T) {
	mc := testenv.StartMemcached(t)
	other, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	port := testenv.FreePort(t)
	path := filepath.Join(t.TempDir(), "nutcracker.yml")
	body := "a:\n  listen: 127.0.0.1:" + strconv.Itoa(port) + "\n  servers:\n   - " + mc.Addr + ":1\n"
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(hashproxyBinary(t), "serve", "--config", path, "--admin-listen", other.Addr().String()).CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() == 0 {
		t.Fatalf("want a non-zero exit, got %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "address already in use (give another with --admin-listen ADDR, or turn it off with --admin-listen \"\")") {
		t.Errorf("error does not name the way out:\n%s", out)
	}
}
