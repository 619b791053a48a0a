package metrics

import (
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestUpstreamConnectionsAreReadAtScrapeTime(t *testing.T) {
	reg, m := newTestMetrics(t)
	var open atomic.Int64
	m.Server("main", "a").CountConnections(func() int { return int(open.Load()) })
	m.Server("main", "b") // no count yet: reads 0
	const head = `
# HELP hashproxy_upstream_connections Open connections to a memcached node.
# TYPE hashproxy_upstream_connections gauge
`
	check := func(want string) {
		t.Helper()
		if err := testutil.GatherAndCompare(reg, strings.NewReader(head+want), "hashproxy_upstream_connections"); err != nil {
			t.Error(err)
		}
	}
	check(`hashproxy_upstream_connections{pool="main",server="a"} 0
hashproxy_upstream_connections{pool="main",server="b"} 0
`)
	open.Store(3)
	check(`hashproxy_upstream_connections{pool="main",server="a"} 3
hashproxy_upstream_connections{pool="main",server="b"} 0
`)
	// A node rebuilt under the same name replaces the count.
	m.Server("main", "a").CountConnections(func() int { return 1 })
	check(`hashproxy_upstream_connections{pool="main",server="a"} 1
hashproxy_upstream_connections{pool="main",server="b"} 0
`)
	m.RemoveServer("main", "a")
	check(`hashproxy_upstream_connections{pool="main",server="b"} 0
`)
	m.RemovePool("main")
	if n, err := testutil.GatherAndCount(reg, "hashproxy_upstream_connections"); err != nil || n != 0 {
		t.Errorf("series after RemovePool = %d, %v; want 0", n, err)
	}
}

func TestUpstreamConnectionsUnderConcurrentSetUp(t *testing.T) {
	reg, m := newTestMetrics(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 200 {
			s := m.Server("main", "a")
			s.CountConnections(func() int { return i })
			if i%10 == 0 {
				m.RemoveServer("main", "a")
			}
		}
	}()
	for range 50 {
		if _, err := reg.Gather(); err != nil {
			t.Fatal(err)
		}
	}
	<-done
}
