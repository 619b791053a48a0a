package proxy

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"hashproxy/internal/config"
)

// The proxy's per-node counters must equal what each memcached node counted
// itself. memcached books the keys of get and gets under cmd_get, get_hits
// and get_misses, but the keys of gat and gats under cmd_touch, touch_hits
// and touch_misses, together with touch commands. hashproxy_get_hits_total
// and hashproxy_get_misses_total count the keys of every retrieval, gat and
// gats included. So the workload runs in two phases: retrievals and stores
// first, then touch, delete, incr, decr and flush_all, with the nodes'
// counters read after each.

// nKeys is the number of keys of the workload, spread evenly over the nodes.
const nKeys = 60

// workloadKeys returns nKeys keys, taking the nodes' keys in turn, so that
// every range of consecutive keys covers every node: the workload then hits
// and misses on each node whatever ports the nodes got.
func workloadKeys(t *testing.T, tp *testProxy) []string {
	t.Helper()
	r, err := PoolRing(tp.cfg)
	if err != nil {
		t.Fatal(err)
	}
	perNode := make([][]string, len(tp.nodes))
	want := nKeys / len(tp.nodes)
	for i, full := 0, 0; full < len(tp.nodes); i++ {
		if i == 100*nKeys {
			t.Fatalf("%d candidate keys do not give each node %d", i, want)
		}
		k := "metric:" + strconv.Itoa(i)
		n := r.Pick([]byte(k))
		if len(perNode[n]) < want {
			perNode[n] = append(perNode[n], k)
			if len(perNode[n]) == want {
				full++
			}
		}
	}
	keys := make([]string, 0, nKeys)
	for i := 0; i < want; i++ {
		for _, ks := range perNode {
			keys = append(keys, ks[i])
		}
	}
	return keys
}

func keyList(keys []string) string { return " " + strings.Join(keys, " ") }

// retrievalPhase stores keys 0..29 (and 30, by add), then reads hits and
// misses on every node with single and multi-key get, gets, gat and gats,
// duplicates included.
func retrievalPhase(key []string) string {
	var b strings.Builder
	for i := 0; i < nKeys/2; i++ {
		b.WriteString("set " + key[i] + " 0 0 2\r\nv" + strconv.Itoa(i%10) + "\r\n")
	}
	b.WriteString("add " + key[0] + " 0 0 1\r\na\r\n")            // NOT_STORED
	b.WriteString("add " + key[30] + " 0 0 1\r\na\r\n")           // STORED
	b.WriteString("replace " + key[1] + " 0 0 1\r\nr\r\n")        // STORED
	b.WriteString("replace " + key[59] + " 0 0 1\r\nr\r\n")       // NOT_STORED
	b.WriteString("append " + key[2] + " 0 0 1\r\nx\r\n")         // STORED
	b.WriteString("prepend " + key[3] + " 0 0 1\r\ny\r\n")        // STORED
	b.WriteString("append " + key[58] + " 0 0 1\r\nx\r\n")        // NOT_STORED
	b.WriteString("cas " + key[4] + " 0 0 1 987654321\r\nc\r\n")  // EXISTS
	b.WriteString("cas " + key[57] + " 0 0 1 987654321\r\nc\r\n") // NOT_FOUND
	for i := 0; i < nKeys; i++ {
		b.WriteString("get " + key[i] + "\r\n")
	}
	b.WriteString("get" + keyList(key[0:nKeys]) + "\r\n")
	b.WriteString("gets" + keyList(key[10:40]) + "\r\n")
	b.WriteString("get " + key[0] + " " + key[0] + " " + key[59] + " " + key[59] + "\r\n")
	b.WriteString("gets " + key[7] + "\r\n")
	b.WriteString("gat 0" + keyList(key[20:50]) + "\r\n")
	b.WriteString("gats 100 " + key[5] + " " + key[55] + "\r\n")
	b.WriteString("gat 0 " + key[1] + "\r\n")
	b.WriteString("gats 0 " + key[40] + "\r\n")
	return b.String()
}

// otherPhase touches every key, deletes, increments and decrements some and
// flushes every node.
func otherPhase(key []string) string {
	var b strings.Builder
	for i := 0; i < nKeys; i++ {
		b.WriteString("touch " + key[i] + " 0\r\n")
	}
	b.WriteString("delete " + key[6] + "\r\ndelete " + key[56] + "\r\n")
	for i := 0; i < 6; i++ {
		k := "counter:" + strconv.Itoa(i)
		b.WriteString("set " + k + " 0 0 2\r\n10\r\nincr " + k + " 5\r\ndecr " + k + " 3\r\n")
	}
	b.WriteString("incr " + key[54] + " 1\r\ndecr " + key[53] + " 1\r\n") // NOT_FOUND
	b.WriteString("flush_all\r\n")
	return b.String()
}

func TestMetricsEqualMemcachedCounters(t *testing.T) {
	tp := startProxy(t, 3, func(pc *config.Pool) { pc.Hash = "md5" })

	keys := workloadKeys(t, tp)
	run(t, tp.addr, retrievalPhase(keys))
	phase1 := nodeStats(t, tp)
	for _, n := range tp.nodes {
		st := phase1[n.Addr]
		if st["get_hits"] == 0 || st["get_misses"] == 0 || st["touch_hits"] == 0 || st["touch_misses"] == 0 {
			t.Fatalf("node %s saw too little of the workload to check anything: %v", n.Addr, st)
		}
	}
	for _, n := range tp.nodes {
		st, pm := phase1[n.Addr], proxyCounters(t, tp.reg, n.Addr)
		expectEqual(t, n.Addr+" get+gets requests", pm.requests("get", "gets"), st["cmd_get"])
		expectEqual(t, n.Addr+" gat+gats requests", pm.requests("gat", "gats"), st["cmd_touch"])
		expectEqual(t, n.Addr+" storage requests", pm.requests("set", "add", "replace", "append", "prepend", "cas"), st["cmd_set"])
		expectEqual(t, n.Addr+" hits", pm.hits, st["get_hits"]+st["touch_hits"])
		expectEqual(t, n.Addr+" misses", pm.misses, st["get_misses"]+st["touch_misses"])
	}
	checkProxyStats(t, tp, phase1)

	run(t, tp.addr, otherPhase(keys))
	phase2 := nodeStats(t, tp)
	for _, n := range tp.nodes {
		st, before, pm := phase2[n.Addr], phase1[n.Addr], proxyCounters(t, tp.reg, n.Addr)
		// Hits and misses come from retrievals only, all in phase 1.
		expectEqual(t, n.Addr+" hits after phase 2", pm.hits, before["get_hits"]+before["touch_hits"])
		expectEqual(t, n.Addr+" misses after phase 2", pm.misses, before["get_misses"]+before["touch_misses"])
		expectEqual(t, n.Addr+" get_hits unchanged", st["get_hits"], before["get_hits"])
		expectEqual(t, n.Addr+" touch+gat+gats requests", pm.requests("touch", "gat", "gats"), st["cmd_touch"])
		expectEqual(t, n.Addr+" storage requests", pm.requests("set", "add", "replace", "append", "prepend", "cas"), st["cmd_set"])
		expectEqual(t, n.Addr+" delete requests", pm.requests("delete"), st["delete_hits"]+st["delete_misses"])
		expectEqual(t, n.Addr+" incr requests", pm.requests("incr"), st["incr_hits"]+st["incr_misses"])
		expectEqual(t, n.Addr+" decr requests", pm.requests("decr"), st["decr_hits"]+st["decr_misses"])
		expectEqual(t, n.Addr+" flush_all requests", pm.requests("flush_all"), st["cmd_flush"])
		expectEqual(t, n.Addr+" errors", pm.errors, 0)
	}
	checkProxyStats(t, tp, phase2)
}

// checkProxyStats requires the proxy's own "stats" to report, for each
// counter memcached has, the sum over the nodes.
func checkProxyStats(t *testing.T, tp *testProxy, nodes map[string]map[string]int64) {
	t.Helper()
	got := statsOf(t, tp.addr)
	for _, name := range []string{
		"cmd_get", "get_hits", "get_misses",
		"cmd_touch", "touch_hits", "touch_misses",
		"cmd_set", "cmd_flush",
	} {
		var sum int64
		for _, st := range nodes {
			sum += st[name]
		}
		expectEqual(t, "proxy stats "+name, got[name], sum)
	}
	expectEqual(t, "proxy stats servers", got["servers"], int64(len(tp.nodes)))
	expectEqual(t, "proxy stats servers_up", got["servers_up"], int64(len(tp.nodes)))
}

func expectEqual(t *testing.T, what string, got, want int64) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %d, want %d", what, got, want)
	}
}

func TestUpstreamConnectionsGauge(t *testing.T) {
	tp := startProxy(t, 2, func(pc *config.Pool) { pc.ServerConnections = 3 })
	waitConnections(t, tp.reg, map[string]float64{tp.nodes[0].Addr: 3, tp.nodes[1].Addr: 3})
	tp.nodes[0].Stop()
	waitConnections(t, tp.reg, map[string]float64{tp.nodes[0].Addr: 0, tp.nodes[1].Addr: 3})
}

// waitConnections waits, up to a few seconds, until
// hashproxy_upstream_connections reads want for each server.
func waitConnections(t *testing.T, reg *prometheus.Registry, want map[string]float64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := make(map[string]float64)
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() != "hashproxy_upstream_connections" {
				continue
			}
			for _, m := range mf.GetMetric() {
				for _, lp := range m.GetLabel() {
					if lp.GetName() == "server" {
						got[lp.GetValue()] = m.GetGauge().GetValue()
					}
				}
			}
		}
		match := len(got) == len(want)
		for s, v := range want {
			match = match && got[s] == v
		}
		if match {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("hashproxy_upstream_connections = %v, want %v", got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
