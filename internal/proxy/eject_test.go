package proxy

import (
	"bufio"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"hashproxy/internal/testenv"
)

// TestAutoEject shows where a down node's keys go, and where they go once
// it is back, with auto_eject_hosts on (to the survivors, by the ring
// rebuilt without it) and off (nowhere: they fail fast).
func TestAutoEject(t *testing.T) {
	for _, eject := range []bool{true, false} {
		name := map[bool]string{true: "on", false: "off"}[eject]
		t.Run(name, func(t *testing.T) {
			procs, addrs := startNodes(t, 3)
			pc := faultPool(addrs...)
			pc.AutoEjectHosts = eject
			tp := startPool(t, pc, nil)
			const victim = 2
			keys := keysOn(t, pc, pc.Servers, victim, 10, "k")
			others := keysOn(t, pc, pc.Servers, 0, 5, "o")
			mc := dialRaw(t, tp.addr)

			procs[victim].Stop()
			waitFor(t, 3*time.Second, "server_up 0", func() bool { return serverGauge(t, tp, "hashproxy_server_up", addrs[victim]) == 0 })
			survivors := without(pc.Servers, victim)
			for _, k := range keys {
				line, err := mc.set(k, "while-down")
				if err != nil {
					t.Fatal(err)
				}
				if !eject {
					if line != "SERVER_ERROR "+addrs[victim]+" server is down" {
						t.Fatalf("set %s with the owner down: %q", k, line)
					}
					continue
				}
				if line != "STORED" {
					t.Fatalf("set %s with the owner ejected: %q", k, line)
				}
				owner := survivors[placement(t, pc, survivors).Pick([]byte(k))]
				if hits, _, err := dialRaw(t, owner.Addr).get(k); err != nil || hits[k] != "while-down" {
					t.Fatalf("%s not stored on %s, its owner in the ring without %s: %v %v", k, owner.Addr, addrs[victim], hits, err)
				}
			}
			for _, k := range others {
				if line, err := mc.set(k, "o"); err != nil || line != "STORED" {
					t.Fatalf("set %s on a live node: %q %v", k, line, err)
				}
				if hits, _, err := dialRaw(t, addrs[0]).get(k); err != nil || hits[k] != "o" {
					t.Fatalf("%s moved off its live owner: %v %v", k, hits, err)
				}
			}

			testenv.RestartMemcached(t, procs[victim])
			waitFor(t, 2*time.Second, "server_up 1", func() bool { return serverGauge(t, tp, "hashproxy_server_up", addrs[victim]) == 1 })
			waitFor(t, 2*time.Second, "serving after restart", func() bool {
				line, err := mc.set(keys[0], "back")
				return err == nil && line == "STORED"
			})
			direct := dialRaw(t, addrs[victim])
			for _, k := range keys {
				if line, err := mc.set(k, "back"); err != nil || line != "STORED" {
					t.Fatalf("set %s after the owner came back: %q %v", k, line, err)
				}
				if hits, _, err := direct.get(k); err != nil || hits[k] != "back" {
					t.Fatalf("%s not back on its owner: %v %v", k, hits, err)
				}
			}
		})
	}
}

// TestMultiGetWithNodesDown: a multi-key get returns the hits of the nodes
// that answer, in the client's key order, and counts the keys of a failed
// node as misses; when every node fails, the client gets the first failure.
func TestMultiGetWithNodesDown(t *testing.T) {
	procs, addrs := startNodes(t, 3)
	pc := faultPool(addrs...)
	tp := startPool(t, pc, nil)
	var keys []string
	var want strings.Builder
	mc := dialRaw(t, tp.addr)
	for i := 0; i < 2; i++ { // interleave the nodes' keys
		for n := 0; n < 3; n++ {
			k := keysOn(t, pc, pc.Servers, n, 2, "m")[i]
			keys = append(keys, k)
			if line, err := mc.set(k, k+"!"); err != nil || line != "STORED" {
				t.Fatalf("set %s: %q %v", k, line, err)
			}
			if n != 1 {
				want.WriteString("VALUE " + k + " 0 " + strconv.Itoa(len(k)+1) + "\r\n" + k + "!\r\n")
			}
		}
	}
	want.WriteString("END\r\n")
	get := "get " + strings.Join(keys, " ") + "\r\n"

	procs[1].Stop()
	c, err := net.DialTimeout("tcp", tp.addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	for round := 0; round < 3; round++ { // failing on the connection, then marked down
		if got := pipelined(t, c, br, get)[0]; got != want.String() {
			t.Fatalf("round %d with %s down:\n got %q\nwant %q", round, addrs[1], got, want.String())
		}
	}
	if errs := gathered(t, tp.reg, "hashproxy_upstream_errors_total", map[string]string{"server": addrs[1]}); errs < 3 {
		t.Errorf("upstream_errors_total of the down node = %v, want 3", errs)
	}

	procs[0].Stop()
	procs[2].Stop()
	got := pipelined(t, c, br, get)[0]
	if !strings.HasPrefix(got, "SERVER_ERROR "+addrs[0]+" ") || strings.Count(got, "\n") != 1 {
		t.Errorf("all nodes down: %q, want the SERVER_ERROR of the first key's node %s", got, addrs[0])
	}
}
