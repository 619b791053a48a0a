package proxy

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/prometheus/client_golang/prometheus"

	"hashproxy/internal/config"
	"hashproxy/internal/metrics"
	"hashproxy/internal/testenv"
)

// socketPool is a pool listening on a Unix socket in its own directory,
// over two memcached on Unix sockets (one named) and one on TCP.
func socketPool(t *testing.T) (config.Pool, []*testenv.Process) {
	t.Helper()
	nodes := []*testenv.Process{testenv.StartMemcachedSocket(t), testenv.StartMemcachedSocket(t), testenv.StartMemcached(t)}
	pc := config.DefaultPool()
	pc.Listen = filepath.Join(testenv.SocketDir(t), "hashproxy.sock") + " 0660"
	pc.Servers = []config.Server{
		{Addr: nodes[0].Addr, Weight: 1},
		{Addr: nodes[1].Addr, Weight: 2, Name: "two"},
		{Addr: nodes[2].Addr, Host: "127.0.0.1", Port: nodes[2].Port, Weight: 1},
	}
	return pc, nodes
}

// socketPath is the path of the socket a pool listens on.
func socketPath(t *testing.T, listen string) string {
	t.Helper()
	la, err := config.ParseListen(listen)
	if err != nil || la.Network != "unix" {
		t.Fatalf("listen %q: %+v %v", listen, la, err)
	}
	return la.Address
}

// TestUnixSocketPool: a client reaches the pool through its Unix socket,
// whose file has the configured mode, and each key is stored on the node,
// Unix or TCP, that the ring names.
func TestUnixSocketPool(t *testing.T) {
	pc, nodes := socketPool(t)
	tp := startPool(t, pc, nil)
	path := socketPath(t, pc.Listen)
	if tp.addr != path {
		t.Errorf("pool address %q, want %q", tp.addr, path)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Type() != fs.ModeSocket || fi.Mode().Perm() != 0o660 {
		t.Errorf("socket file mode %v, want a socket with 0660", fi.Mode())
	}

	c := memcache.New(path)
	c.Timeout = 2 * time.Second
	r := placement(t, pc, pc.Servers)
	direct := make([]*memcache.Client, len(nodes))
	for i, n := range nodes {
		direct[i] = memcache.New(n.Addr)
	}
	onNode := make([]int, len(nodes))
	for i := 0; i < 300; i++ {
		k := "sock:" + strconv.Itoa(i)
		if err := c.Set(&memcache.Item{Key: k, Value: []byte(k)}); err != nil {
			t.Fatalf("set %s through the socket: %v", k, err)
		}
		owner := r.Pick([]byte(k))
		it, err := direct[owner].Get(k)
		if err != nil || string(it.Value) != k {
			t.Fatalf("%s not on %s, its ring owner: %v", k, nodes[owner].Addr, err)
		}
		onNode[owner]++
	}
	for i, n := range onNode {
		if n == 0 {
			t.Errorf("no key on node %d (%s): %v", i, nodes[i].Addr, onNode)
		}
	}
}

// startStop starts a proxy for pc and returns it, or the error of Start.
func startStop(t *testing.T, pc config.Pool) (*Proxy, error) {
	t.Helper()
	met := metrics.New(prometheus.NewRegistry(), metrics.BuildInfo{Version: "test"}, MetricLabels())
	px, err := New(&config.Config{Pools: []config.Pool{pc}}, Options{Version: "test", Metrics: met})
	if err != nil {
		t.Fatal(err)
	}
	if err := px.Start(); err != nil {
		shutdown(t, px)
		return nil, err
	}
	return px, nil
}

func shutdown(t *testing.T, px *Proxy) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := px.Shutdown(ctx); err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

// TestUnixSocketFile: a stale socket file (nobody listens) is replaced, a
// live one (another process listens) and a file that is not a socket are
// errors that leave the file alone, and the socket file is removed on
// shutdown.
func TestUnixSocketFile(t *testing.T) {
	mc := testenv.StartMemcached(t)
	pc := faultPool(mc.Addr)
	path := filepath.Join(testenv.SocketDir(t), "hp.sock")
	pc.Listen = path

	t.Run("stale", func(t *testing.T) {
		ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
		if err != nil {
			t.Fatal(err)
		}
		ln.SetUnlinkOnClose(false)
		ln.Close()
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("stale socket file: %v", err)
		}
		px, err := startStop(t, pc)
		if err != nil {
			t.Fatalf("start over a stale socket: %v", err)
		}
		if got := exchange(t, path, []byte("version\r\n")); string(got) != "VERSION test\r\n" {
			t.Errorf("through the socket: %q", got)
		}
		shutdown(t, px)
		if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("socket file after shutdown: %v, want it removed", err)
		}
	})
	t.Run("live", func(t *testing.T) {
		other, err := net.Listen("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		_, err = startStop(t, pc)
		if err == nil || !strings.Contains(err.Error(), "another process is listening on this socket") {
			t.Fatalf("start over a live socket: %v", err)
		}
		c, err := net.Dial("unix", path)
		if err != nil {
			t.Fatalf("the other process's socket is gone: %v", err)
		}
		c.Close()
	})
	t.Run("not a socket", func(t *testing.T) {
		if err := os.WriteFile(path, []byte("data"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := startStop(t, pc)
		if err == nil || !strings.Contains(err.Error(), "exists and is not a socket") {
			t.Fatalf("start over a regular file: %v", err)
		}
		if b, _ := os.ReadFile(path); string(b) != "data" {
			t.Errorf("the file was changed: %q", b)
		}
	})
}

// TestReloadMovesBetweenTCPAndSocket: a reload moves a pool from TCP to a
// Unix socket (the TCP port closes, the socket serves), changes the
// socket's mode in place, and moves it back (the socket file is removed).
func TestReloadMovesBetweenTCPAndSocket(t *testing.T) {
	mc := testenv.StartMemcached(t)
	pc := faultPool(mc.Addr)
	tp := startPool(t, pc, nil)
	tcpAddr := tp.addr
	path := filepath.Join(testenv.SocketDir(t), "hp.sock")

	pc.Listen = path + " 0600"
	if err := tp.px.Reload(reloadConfig(pc)); err != nil {
		t.Fatalf("reload to a socket: %v", err)
	}
	if got := exchange(t, path, []byte("version\r\n")); string(got) != "VERSION test\r\n" {
		t.Errorf("through the socket: %q", got)
	}
	if c, err := net.DialTimeout("tcp", tcpAddr, time.Second); err == nil {
		c.Close()
		t.Errorf("%s still accepts after the pool moved to a socket", tcpAddr)
	}

	pc.Listen = path + " 0666"
	if err := tp.px.Reload(reloadConfig(pc)); err != nil {
		t.Fatalf("reload with a new mode: %v", err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o666 {
		t.Errorf("socket after a mode change: %v %v, want 0666", fi.Mode(), err)
	}

	pc.Listen = "127.0.0.1:0"
	if err := tp.px.Reload(reloadConfig(pc)); err != nil {
		t.Fatalf("reload back to TCP: %v", err)
	}
	if got := exchange(t, tp.px.Addr(pc.Name).String(), []byte("version\r\n")); string(got) != "VERSION test\r\n" {
		t.Errorf("through TCP: %q", got)
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("socket file after moving back to TCP: %v, want it removed", err)
	}
}
