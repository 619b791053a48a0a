package proxy

import (
	"strconv"
	"strings"
	"testing"

	"hashproxy/internal/config"
)

// metaPhase stores keys 0..29 with ms (some quiet), reads every key with
// mg, plain and quiet, deletes some with md and counts with ma, so that
// every node sees hits, misses and each command.
func metaPhase(key []string) string {
	var b strings.Builder
	for i := 0; i < nKeys/2; i++ {
		q := ""
		if i%2 == 0 {
			q = " q"
		}
		b.WriteString("ms " + key[i] + " 2" + q + "\r\nv" + strconv.Itoa(i%10) + "\r\n")
	}
	b.WriteString("ms " + key[0] + " 1 ME\r\na\r\n") // NS
	for i := 0; i < nKeys; i++ {
		b.WriteString("mg " + key[i] + " v\r\nmg " + key[i] + " q k\r\n")
	}
	b.WriteString("mn\r\n")
	b.WriteString("md " + key[6] + "\r\nmd " + key[56] + " q\r\nmd " + key[7] + " q\r\n")
	for i := 0; i < 6; i++ {
		k := "counter:" + strconv.Itoa(i)
		b.WriteString("ms " + k + " 2\r\n10\r\nma " + k + " D5\r\nma " + k + " MD q\r\nma " + k + " v\r\n")
	}
	b.WriteString("ma " + key[54] + "\r\nma " + key[53] + " MD q\r\nmn\r\n") // NF
	return b.String()
}

// TestMetaMetricsEqualMemcachedCounters requires the proxy's per-node
// counters and its stats, after a meta workload, to equal what each node
// counted itself: mg as get (quiet misses included), ms as set, md as
// delete, ma as incr and decr.
func TestMetaMetricsEqualMemcachedCounters(t *testing.T) {
	tp := startProxy(t, 3, func(pc *config.Pool) { pc.Hash = "md5" })
	run(t, tp.addr, metaPhase(workloadKeys(t, tp)))
	nodes := nodeStats(t, tp)
	for _, n := range tp.nodes {
		st, pm := nodes[n.Addr], proxyCounters(t, tp.reg, n.Addr)
		if st["get_hits"] == 0 || st["get_misses"] == 0 {
			t.Fatalf("node %s saw too little of the workload to check anything: %v", n.Addr, st)
		}
		expectEqual(t, n.Addr+" mg requests", pm.requests("mg"), st["cmd_get"])
		expectEqual(t, n.Addr+" hits", pm.hits, st["get_hits"])
		expectEqual(t, n.Addr+" misses", pm.misses, st["get_misses"])
		expectEqual(t, n.Addr+" ms requests", pm.requests("ms"), st["cmd_set"])
		expectEqual(t, n.Addr+" md requests", pm.requests("md"), st["delete_hits"]+st["delete_misses"])
		expectEqual(t, n.Addr+" ma requests", pm.requests("ma"), st["incr_hits"]+st["incr_misses"]+st["decr_hits"]+st["decr_misses"])
		expectEqual(t, n.Addr+" errors", pm.errors, 0)
	}
	checkProxyStats(t, tp, nodes)
}
