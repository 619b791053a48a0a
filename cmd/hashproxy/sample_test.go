package main

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"hashproxy/internal/testenv"
)

// twemproxySample is the memcached pools of twemproxy's own sample
// configuration, conf/nutcracker.yml, unchanged (its other pools, alpha and
// beta, are redis pools).
const twemproxySample = `gamma:
  listen: 127.0.0.1:22123
  hash: fnv1a_64
  distribution: ketama
  timeout: 400
  backlog: 1024
  preconnect: true
  auto_eject_hosts: true
  server_retry_timeout: 2000
  server_failure_limit: 3
  servers:
   - 127.0.0.1:11212:1
   - 127.0.0.1:11213:1

delta:
  listen: 127.0.0.1:22124
  hash: fnv1a_64
  distribution: ketama
  timeout: 100
  auto_eject_hosts: true
  server_retry_timeout: 2000
  server_failure_limit: 1
  servers:
   - 127.0.0.1:11214:1
   - 127.0.0.1:11215:1
   - 127.0.0.1:11216:1
   - 127.0.0.1:11217:1
   - 127.0.0.1:11218:1
   - 127.0.0.1:11219:1
   - 127.0.0.1:11220:1
   - 127.0.0.1:11221:1
   - 127.0.0.1:11222:1
   - 127.0.0.1:11223:1

omega:
  listen: /tmp/gamma
  hash: hsieh
  distribution: ketama
  auto_eject_hosts: false
  servers:
   - 127.0.0.1:11214:100000
   - 127.0.0.1:11215:1
`

// TestCheckTwemproxySample: check accepts twemproxy's sample pools as they
// are, with the default admin address; an --admin-listen flag is applied
// before the file is judged, so one that takes a pool's port is reported
// with the way out, and --admin-listen "" turns the listener off.
func TestCheckTwemproxySample(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nutcracker.yml")
	if err := os.WriteFile(path, []byte(twemproxySample), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := runCmd(t, "check", "--config", path)
	if err != nil {
		t.Fatalf("check: %v\n%s", err, errOut)
	}
	for _, want := range []string{"admin  127.0.0.1:22120\n", "pool \"gamma\"", "pool \"delta\"", "pool \"omega\"", "  listen        /tmp/gamma\n", "127.0.0.1:11214  -     100000  100.00%", "127.0.0.1:11215  -     1       0.00%"} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}

	_, errOut, err = runCmd(t, "check", "--config", path, "--admin-listen", "127.0.0.1:22124")
	if err == nil || !strings.Contains(errOut, `admin.listen: 127.0.0.1:22124 is also the listen address of pool "delta" (move the admin listener with admin.listen or serve --admin-listen ADDR; "" turns it off)`) {
		t.Errorf("check --admin-listen on a pool's port: %v\n%s", err, errOut)
	}
	out, _, err = runCmd(t, "check", "--config", path, "--admin-listen", "")
	if err != nil || !strings.Contains(out, "admin  off\n") {
		t.Errorf("check --admin-listen \"\": %v\n%s", err, out)
	}
}

// TestServeTwemproxySampleAsNutcracker serves twemproxy's sample pools with
// hashproxy and with the real nutcracker, over the same memcached nodes
// (started on free ports, which replace the sample's ports, as do the
// listen addresses), and reads every key nutcracker stored, pool by pool,
// through hashproxy: each is found, so both place keys alike, omega's
// 100000 weight and Unix socket included.
func TestServeTwemproxySampleAsNutcracker(t *testing.T) {
	if testing.Short() {
		t.Skip("twelve memcached, nutcracker and hashproxy")
	}
	sample := twemproxySample
	for port := 11212; port <= 11223; port++ {
		mc := testenv.StartMemcached(t)
		sample = strings.ReplaceAll(sample, "127.0.0.1:"+strconv.Itoa(port)+":", mc.Addr+":")
	}
	sockets := testenv.SocketDir(t)
	type listens struct{ gamma, delta, omega string }
	with := func(l listens) string {
		s := strings.Replace(sample, "127.0.0.1:22123", l.gamma, 1)
		s = strings.Replace(s, "127.0.0.1:22124", l.delta, 1)
		return strings.Replace(s, "/tmp/gamma", l.omega, 1)
	}
	free := func() string { return "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t)) }
	hp := listens{free(), free(), filepath.Join(sockets, "hashproxy.sock")}
	nc := listens{free(), free(), filepath.Join(sockets, "nutcracker.sock")}

	ncPorts := []int{}
	for _, a := range []string{nc.gamma, nc.delta} {
		_, p, _ := net.SplitHostPort(a)
		n, _ := strconv.Atoi(p)
		ncPorts = append(ncPorts, n)
	}
	testenv.StartNutcracker(t, with(nc), ncPorts...)
	path := filepath.Join(t.TempDir(), "nutcracker.yml")
	if err := os.WriteFile(path, []byte(with(hp)), 0o644); err != nil {
		t.Fatal(err)
	}
	rp := runServe(t, []string{"--config", path, "--admin-listen", ""}, hp.gamma, hp.delta)
	waitSocket(t, hp.omega)
	waitSocket(t, nc.omega)

	for _, pool := range []struct{ name, nc, hp string }{{"gamma", nc.gamma, hp.gamma}, {"delta", nc.delta, hp.delta}, {"omega", nc.omega, hp.omega}} {
		ncc, hpc := memcache.New(pool.nc), memcache.New(pool.hp)
		ncc.Timeout, hpc.Timeout = 2*time.Second, 2*time.Second
		keys := poolKeys(t, ncc, pool.name, 300)
		got, err := hpc.GetMulti(keys)
		if err != nil {
			t.Fatalf("%s through hashproxy: %v", pool.name, err)
		}
		if len(got) != len(keys) {
			t.Errorf("%s: hashproxy finds %d of the %d keys where nutcracker put them", pool.name, len(got), len(keys))
		}
		for k, it := range got {
			if string(it.Value) != pool.name+"/"+k {
				t.Errorf("%s: %s = %q", pool.name, k, it.Value)
			}
		}
	}
	if err := rp.stop(t); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	if _, err := os.Lstat(hp.omega); err == nil {
		t.Errorf("socket %s left behind after exit", hp.omega)
	}
}

// waitSocket waits until a Unix socket accepts connections.
func waitSocket(t *testing.T, path string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, err := net.DialTimeout("unix", path, 100*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not accepting: %v", path, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
