package main

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"hashproxy/internal/testenv"
)

// TestServeTwoProcessesSideBySide runs two hashproxy processes with
// different configurations on one machine: each serves its own pool over
// its own nodes, with its own admin listener, and each stops cleanly.
func TestServeTwoProcessesSideBySide(t *testing.T) {
	nodesA := []*testenv.Process{testenv.StartMemcached(t), testenv.StartMemcached(t)}
	nodesB := []*testenv.Process{testenv.StartMemcached(t), testenv.StartMemcached(t), testenv.StartMemcached(t)}
	a := startBinary(t, nodesA, "    hash: md5\n")
	b := startBinary(t, nodesB, "    hash: crc32a\n    distribution: modula\n")
	procs := map[string]*runningProxy{"a": a, "b": b}
	keys := map[string][]string{}
	for name, rp := range procs {
		c := memcache.New(rp.addr)
		c.Timeout = 2 * time.Second
		keys[name] = poolKeys(t, c, name, 100)
		resp, err := (&http.Client{Timeout: 2 * time.Second}).Get("http://" + rp.admin + "/healthz")
		if err != nil {
			t.Fatalf("%s: admin: %v", name, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: /healthz: %s", name, resp.Status)
		}
	}
	checkOnNodes(t, "a", keys["a"], nodesA, nodesB)
	checkOnNodes(t, "b", keys["b"], nodesB, nodesA)
	for name, rp := range procs {
		if err := rp.stop(t); err != nil {
			t.Errorf("%s: exit after SIGTERM: %v", name, err)
		}
	}
}

// TestServeQuickStartFlags runs the proxy without a file, from --listen and
// repeated --server flags (one with a weight), and checks that keys are
// placed as nutcracker places them with the same servers and weights and
// the native default hash, md5.
func TestServeQuickStartFlags(t *testing.T) {
	nodes := []*testenv.Process{testenv.StartMemcached(t), testenv.StartMemcached(t)}
	addr := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	rp := runServe(t, []string{"--listen", addr, "--server", nodes[0].Addr, "--server", nodes[1].Addr + ":3", "--admin-listen", ""}, addr)
	c := memcache.New(addr)
	c.Timeout = 2 * time.Second
	keys := poolKeys(t, c, "quick", 200)
	checkOnNodes(t, "quick", keys, nodes, nil)

	ncPort := testenv.FreePort(t)
	testenv.StartNutcracker(t, "quick:\n  listen: 127.0.0.1:"+strconv.Itoa(ncPort)+"\n  hash: md5\n  timeout: 400\n  servers:\n   - "+
		nodes[0].Addr+":1\n   - "+nodes[1].Addr+":3\n", ncPort)
	nc := memcache.New("127.0.0.1:" + strconv.Itoa(ncPort))
	nc.Timeout = 2 * time.Second
	got, err := nc.GetMulti(keys)
	if err != nil {
		t.Fatalf("through nutcracker: %v", err)
	}
	if len(got) != len(keys) {
		t.Errorf("nutcracker finds %d of the %d keys where hashproxy put them", len(got), len(keys))
	}
	if err := rp.stop(t); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
}
