package proxy

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// pyClients reaches a memcached-speaking socket with pymemcache and pylibmc
// and prints "ok" when both stored and read back their keys.
const pyClients = `
import sys
from pymemcache.client.base import Client
import pylibmc

path = sys.argv[1]
pm = Client(path)
pm.set("py:pymemcache", b"v1")
assert pm.get("py:pymemcache") == b"v1", pm.get("py:pymemcache")
assert pm.get("py:missing") is None
pm.close()

lm = pylibmc.Client([path])
lm.set("py:pylibmc", "v2")
assert lm.get("py:pylibmc") == "v2", lm.get("py:pylibmc")
assert lm.get_multi(["py:pymemcache", "py:pylibmc"]) == {"py:pymemcache": b"v1", "py:pylibmc": "v2"}, lm.get_multi(["py:pymemcache", "py:pylibmc"])
print("ok")
`

// debianPython returns the Python that has Debian's python3-pymemcache and
// python3-pylibmc packages, or skips the test (fails it in CI).
func debianPython(t *testing.T) string {
	t.Helper()
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		path, err := exec.LookPath(py)
		if err != nil {
			continue
		}
		if exec.Command(path, "-c", "import pymemcache, pylibmc").Run() == nil {
			return path
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("python3 with pymemcache and pylibmc is not installed (python3-pymemcache, python3-pylibmc)")
	}
	t.Skip("python3 with pymemcache and pylibmc is not installed")
	return ""
}

// TestPythonClientsThroughSocket: pymemcache and pylibmc, pointed at the
// pool's Unix socket, store and read keys over Unix and TCP nodes.
func TestPythonClientsThroughSocket(t *testing.T) {
	py := debianPython(t)
	pc, _ := socketPool(t)
	tp := startPool(t, pc, nil)
	script := filepath.Join(t.TempDir(), "clients.py")
	if err := os.WriteFile(script, []byte(pyClients), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, script, tp.addr).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("python clients: %v\n%s", err, out)
	}
}
