package proxy

import (
	"context"
	"testing"
	"time"

	"hashproxy/internal/loadgen"
)

// Under a steady load of kilobyte values from many pipelining clients,
// healthy nodes answer everything and keep their connections: a read that
// takes several replies, or a reply split over reads, is matched exactly,
// and a wait for a node's bytes that ends early (the runtime's poller may
// report a socket readable after its data was read) is not taken for bytes
// sent unasked, which would close the connection.
func TestSteadyLoadKeepsConnections(t *testing.T) {
	if testing.Short() {
		t.Skip("seconds of load")
	}
	_, addrs := startNodes(t, 2)
	pc := faultPool(addrs...)
	pc.Timeout = 2 * time.Second // only a lost connection may fail a request
	tp := startPool(t, pc, nil)

	o := loadgen.DefaultOptions()
	o.Target = tp.addr
	o.Conns = 50
	o.Pipeline = 4
	o.Keys = 2000
	o.ValueSize = 4096
	o.Duration = 1500 * time.Millisecond
	res, err := loadgen.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors+res.WarmupErrors > 0 {
		t.Errorf("%d of %d requests and %d warm-up sets failed; first: %s",
			res.Errors, res.Requests, res.WarmupErrors, res.FirstError)
	}
	if n := gathered(t, tp.reg, "hashproxy_upstream_errors_total", nil); n > 0 {
		t.Errorf("upstream_errors_total = %v with healthy nodes, want 0", n)
	}
	t.Logf("%d requests, %.0f ops/s", res.Requests, res.OpsPerSec)
}
