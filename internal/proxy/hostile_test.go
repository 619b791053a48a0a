package proxy

import (
	"strings"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"hashproxy/internal/config"
	"hashproxy/internal/testenv"
)

// probe follows every hostile input: its reply is unique, so that a
// reader knows the connection is still open and everything before it was
// answered.
const (
	probeKey   = "hostile:probe"
	probe      = "get " + probeKey + "\r\n"
	probeReply = "VALUE " + probeKey + " 0 8\r\nprobe-ok\r\nEND\r\n"
)

// transcript is what a server did with one input: its replies before the
// probe's, and whether it then closed the connection or kept waiting for
// more input (swallowing the probe).
type transcript struct {
	replies string
	closed  bool
	waiting bool
}

// hostileCase is one bad input. Without want, the proxy must do exactly
// what a memcached does with the same bytes. With want, the proxy differs
// from memcached on purpose (differs says why) or memcached cannot serve
// as the reference.
type hostileCase struct {
	name string
	in   string
	want *transcript
	// differs says why the proxy answers differently from memcached.
	differs string
	// hangup closes the connection right after the input, without the
	// probe: a client that disconnects in the middle of a request.
	hangup bool
	// check, when set, replaces the comparison of replies: for inputs
	// whose exact replies neither side can be held to.
	check func(t *testing.T, got transcript)
	// after checks what the input must have left stored, through the
	// proxy.
	after func(t *testing.T, mc *memcache.Client)
	// slow marks a case that takes a second or more (it waits out quiet
	// times on both servers); it is skipped under -short.
	slow bool
}

// onlyErrors checks that every reply is an error line: garbage never
// reaches a node.
func onlyErrors(t *testing.T, got transcript) {
	t.Helper()
	for _, line := range strings.SplitAfter(got.replies, "\r\n") {
		if line != "" && line != "ERROR\r\n" && !strings.HasPrefix(line, "CLIENT_ERROR ") {
			t.Errorf("reply %q to garbage", clipString(line, 100))
		}
	}
	if got.closed && !strings.HasSuffix(got.replies, "CLIENT_ERROR binary protocol not supported\r\n") &&
		!strings.HasSuffix(got.replies, "CLIENT_ERROR line too long\r\n") {
		t.Errorf("closed after %q without saying why", clipString(got.replies, 100))
	}
}

// TestHostileInputs sends each hostile input to a proxy over three
// memcached nodes and to a memcached, and checks the proxy's replies and
// whether it keeps the connection, against memcached's or the case's.
// Meanwhile another client works through the proxy undisturbed, and the
// data stored before every input stays intact.
func TestHostileInputs(t *testing.T) {
	tp := startProxy(t, 3, func(pc *config.Pool) { pc.Hash = "md5" })
	direct := testenv.StartMemcached(t)
	sets, _ := manyKeys("get", 10_000)
	setup := "set " + probeKey + " 0 0 8\r\nprobe-ok\r\n" + sets
	for _, addr := range []string{tp.addr, direct.Addr} {
		exchange(t, addr, []byte(setup))
	}
	mc := memcache.New(tp.addr)
	t.Cleanup(func() { _ = mc.Close() })
	stored := storeIntact(t, mc, 300)
	bystander := startBystander(tp.addr)
	waitFor(t, 5*time.Second, "the other client to start", func() bool { return bystander.pairs.Load() > 0 })
	checkIntact(t, mc, stored)
	baseline := tp.px.pools[0].nclients.Load()

	for _, tc := range hostileCases() {
		t.Run(tc.name, func(t *testing.T) {
			if tc.slow && testing.Short() {
				t.Skip("waits out quiet times")
			}
			for _, addr := range []string{tp.addr, direct.Addr} {
				exchange(t, addr, []byte("set hk 0 0 3\r\nold\r\nset hn 0 0 1\r\n5\r\nset hp 0 0 1\r\n1\r\n"))
			}
			if tc.hangup {
				hangup(t, tp.addr, tc.in)
			} else if got := hostileExchange(t, tp.addr, tc.in); tc.check != nil {
				tc.check(t, got)
			} else {
				want := tc.want
				if want == nil {
					ref := hostileExchange(t, direct.Addr, tc.in)
					want = &ref
				}
				if got != *want {
					t.Errorf("proxy: %s\nwant:  %s", got, want)
				}
			}
			if tc.after != nil {
				tc.after(t, mc)
			}
			checkIntact(t, mc, stored)
			waitFor(t, 5*time.Second, "the proxy to let go of the connection", func() bool {
				return tp.px.pools[0].nclients.Load() == baseline
			})
		})
	}
	// However busy the machine, the other client goes on being served.
	bystander.await(100, 10*time.Second)
	if n, err := bystander.stop(); err != nil || n < 100 {
		t.Errorf("the other client made %d set+get pairs, failing with %v", n, err)
	}
}
