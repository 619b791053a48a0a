package proxy

import (
	"bytes"
	"errors"
	"io"
	"math/rand"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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

// garbage returns n random bytes from seed, none of them the binary
// protocol's magic byte at the start.
func garbage(seed int64, n int) string {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	if b[0] == 0x80 {
		b[0] = 0
	}
	return string(b)
}

// keyLine returns a verb followed by n distinct keys and "\r\n".
func keyLine(verb string, n int) string {
	var b strings.Builder
	b.WriteString(verb)
	for i := range n {
		b.WriteString(" mk" + strconv.Itoa(i))
	}
	return b.String() + "\r\n"
}

// unchanged checks that key still holds value.
func unchanged(key, value string) func(*testing.T, *memcache.Client) {
	return func(t *testing.T, mc *memcache.Client) {
		t.Helper()
		it, err := mc.Get(key)
		if err != nil || string(it.Value) != value {
			t.Errorf("%s after the input: %v, %v; want %q", key, it, err, value)
		}
	}
}

// gone checks that key holds nothing.
func gone(key string) func(*testing.T, *memcache.Client) {
	return func(t *testing.T, mc *memcache.Client) {
		t.Helper()
		if it, err := mc.Get(key); !errors.Is(err, memcache.ErrCacheMiss) {
			t.Errorf("%s after the input: %v, %v; want a miss", key, it, err)
		}
	}
}

func hostileCases() []hostileCase {
	lineTooLong := &transcript{replies: "CLIENT_ERROR line too long\r\n", closed: true}
	return []hostileCase{
		// Lines.
		{name: "overlong_set_line", in: "set " + strings.Repeat("a", 300_000) + " 0 0 1\r\nb\r\n",
			want: lineTooLong, differs: "memcached hangs up without a word"},
		{name: "overlong_line_without_newline", in: strings.Repeat("x", 300_000),
			want: lineTooLong, differs: "memcached hangs up without a word"},
		{name: "overlong_get_line", in: "get " + strings.Repeat("k ", 140_000) + "\r\n",
			want: lineTooLong, differs: "memcached reads get lines of any length; hashproxy stops at max_line_length"},
		{name: "nul_bytes", in: "\x00\x00\x00\r\n"},
		{name: "http_request", in: "GET / HTTP/1.1\r\nHost: x\r\n\r\n"},
		{name: "binary_magic_byte", in: "\x80\x0a\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00",
			want:    &transcript{replies: "CLIENT_ERROR binary protocol not supported\r\n", closed: true},
			differs: "memcached speaks the binary protocol; hashproxy does not"},

		// Declared lengths.
		{name: "huge_declared_length", in: "set hk 0 0 2000000000\r\n",
			want:    &transcript{replies: "SERVER_ERROR object too large for cache\r\n", waiting: true},
			differs: "memcached holds its reply back until the refused block has arrived",
			after:   gone("hk")},
		{name: "declared_length_over_32_bits", in: "set hk 0 0 4294967297\r\nb\r\n",
			want:    &transcript{replies: "CLIENT_ERROR bad command line format\r\nERROR\r\n"},
			differs: "memcached truncates the length to 32 bits", after: unchanged("hk", "old")},
		{name: "negative_length", in: "set hk 0 0 -1\r\nb\r\n", after: unchanged("hk", "old")},
		{name: "length_longer_than_block", in: "set hk 0 0 10\r\nabc\r\nget hk\r\n", after: unchanged("hk", "old")},
		{name: "length_shorter_than_block", in: "set hk 0 0 1\r\nabc\r\n", after: unchanged("hk", "old")},

		// Numbers.
		{name: "negative_flags", in: "set hk -1 0 1\r\nb\r\n", after: unchanged("hk", "old")},
		{name: "flags_over_64_bits", in: "set hk 18446744073709551616 0 1\r\nb\r\n", after: unchanged("hk", "old")},
		{name: "exptime_over_64_bits", in: "set hk 0 99999999999999999999 1\r\nb\r\n", after: unchanged("hk", "old")},
		{name: "incr_delta_over_64_bits", in: "incr hn 18446744073709551616\r\n", after: unchanged("hn", "5")},
		{name: "negative_incr_delta", in: "decr hn -1\r\n", after: unchanged("hn", "5")},
		{name: "touch_exptime_garbage", in: "touch hk 1x\r\n", after: unchanged("hk", "old")},
		{name: "cas_unique_over_64_bits", in: "cas hk 0 0 1 18446744073709551616\r\nb\r\n", after: unchanged("hk", "old")},

		// Keys.
		{name: "control_byte_in_get_key", in: "get a\x01b\r\n",
			want:    &transcript{replies: "CLIENT_ERROR bad command line format\r\n"},
			differs: "keys with control characters are refused"},
		{name: "nul_in_set_key", in: "set hk\x00x 0 0 1\r\nb\r\n",
			want:    &transcript{replies: "CLIENT_ERROR bad command line format\r\n"},
			differs: "keys with control characters are refused", after: unchanged("hk", "old")},
		{name: "key_of_251_bytes", in: "get " + strings.Repeat("k", 251) + "\r\n"},

		// Garbage.
		{name: "random_garbage_1", in: garbage(1, 1000), slow: true},
		{name: "random_garbage_long", in: garbage(2, 100_000), check: onlyErrors, slow: true},
		{name: "random_garbage_many", in: garbage(4, 1_000_000), check: onlyErrors, slow: true},
		{name: "random_garbage_lines", in: strings.ReplaceAll(garbage(3, 3000), "\x80", "\n"), slow: true},

		// Many keys.
		{name: "get_10000_keys", in: keyLine("get", 10_000)},
		{name: "gets_10000_keys", in: keyLine("gets", 10_000)},
		{name: "get_10001_keys", in: keyLine("get", 10_001),
			want:    &transcript{replies: "CLIENT_ERROR too many keys\r\n"},
			differs: "max_keys bounds a retrieval; memcached has no such limit"},

		// Disconnects in the middle of a request.
		{name: "hangup_in_command_line", in: "get a b c", hangup: true},
		{name: "hangup_in_data_block", in: "set hk 0 0 10\r\nabc", hangup: true, after: unchanged("hk", "old")},
		{name: "hangup_in_large_data_block", in: "set hk 0 0 500000\r\n" + strings.Repeat("z", 100_000), hangup: true,
			after: unchanged("hk", "old")},
		{name: "hangup_after_10000_key_get", in: keyLine("get", 10_000), hangup: true},
		// Meta commands.
		{name: "meta_huge_declared_length", in: "ms hk 2000000000\r\n",
			want:    &transcript{replies: "SERVER_ERROR object too large for cache\r\n", waiting: true},
			differs: "memcached holds its reply back until the refused block has arrived",
			after:   gone("hk")},
		{name: "meta_length_over_32_bits", in: "ms hm 4294967297\r\nb\r\n"},
		{name: "meta_negative_length", in: "ms hk -1\r\nb\r\n", after: unchanged("hk", "old")},
		{name: "meta_length_shorter_than_block", in: "ms hk 1 q\r\nabc\r\n", after: unchanged("hk", "old")},
		{name: "meta_numbers_over_64_bits", in: "ma hn D18446744073709551616\r\nma hn J-1 N0\r\nms hk 1 C18446744073709551616\r\nb\r\n",
			after: unchanged("hn", "5")},
		{name: "meta_bad_base64_key", in: "mg !!!! b v\r\nms ==== 1 b\r\nb\r\nmd a b\r\n"},
		{name: "meta_nul_in_line", in: "mg hk\x00junk v\r\nmn\x00\r\n"},
		{name: "meta_repeated_flags", in: "mg hk " + strings.Repeat("v ", 100) + "\r\nms hk 1 " + strings.Repeat("q ", 30) + "\r\nb\r\n",
			after: unchanged("hk", "old")},
		{name: "meta_overlong_line", in: "mg hk v P" + strings.Repeat("x", 3000) + "\r\n", want: lineTooLong,
			differs: "memcached answers a meta line over 2048 bytes that arrives in one read, and hangs up on one it holds in pieces; hashproxy refuses it, so that a node never holds it"},
		{name: "quiet_meta_without_mn", in: strings.Repeat("mg hmiss q v\r\nmd hmiss q\r\n", 1000)},
		{name: "hangup_in_meta_data_block", in: "ms hk 10\r\nabc", hangup: true, after: unchanged("hk", "old")},
		{name: "hangup_after_pipelined_sets", in: strings.Repeat("set hp 0 0 1\r\n1\r\n", 1000) + "set hp 0 0 5\r\nab", hangup: true,
			after: unchanged("hp", "1")},
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

func (tr transcript) String() string {
	s := strconv.Quote(clipString(tr.replies, 300))
	switch {
	case tr.closed:
		s += ", then closed"
	case tr.waiting:
		s += ", then waiting for more input"
	default:
		s += ", then kept open"
	}
	return s
}

func clipString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n/2] + "..." + s[len(s)-n/2:] + " (" + strconv.Itoa(len(s)) + " bytes)"
}

// hostileExchange sends in and the probe on a new connection to addr, and
// returns what the server did with them. A server that swallows the probe
// (it awaits a data block) is found waiting after a short quiet time.
func hostileExchange(t *testing.T, addr, in string) transcript {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		_, _ = io.WriteString(c, in+probe) // fails when the server hangs up
	}()
	defer func() { c.Close(); <-wrote }()
	var out []byte
	buf := make([]byte, 64<<10)
	quiet := 500 * time.Millisecond
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		_ = c.SetReadDeadline(time.Now().Add(quiet))
		n, err := c.Read(buf)
		out = append(out, buf[:n]...)
		if rest, ok := bytes.CutSuffix(out, []byte(probeReply)); ok {
			return transcript{replies: normalise(rest)}
		}
		var ne net.Error
		switch {
		case err == nil:
		case errors.As(err, &ne) && ne.Timeout():
			return transcript{replies: normalise(out), waiting: true}
		default: // EOF or reset
			return transcript{replies: normalise(out), closed: true}
		}
	}
	t.Fatalf("%s kept sending for 10s: %q", addr, clipString(string(out), 300))
	return transcript{}
}

// hangup sends in and closes the connection without reading.
func hangup(t *testing.T, addr, in string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, in); err != nil {
		t.Fatal(err)
	}
	c.Close()
}

// storeIntact stores n keys through mc and returns them with their values.
func storeIntact(t *testing.T, mc *memcache.Client, n int) map[string]string {
	t.Helper()
	kv := make(map[string]string, n)
	for i := range n {
		k := "intact:" + strconv.Itoa(i)
		v := strings.Repeat(strconv.Itoa(i), 1+i%50) + "\r\n"
		if err := mc.Set(&memcache.Item{Key: k, Value: []byte(v), Flags: uint32(i)}); err != nil {
			t.Fatal(err)
		}
		kv[k] = v
	}
	return kv
}

// checkIntact checks that every stored key still holds its value.
func checkIntact(t *testing.T, mc *memcache.Client, kv map[string]string) {
	t.Helper()
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	got, err := mc.GetMulti(keys)
	if err != nil {
		t.Fatalf("reading back stored data: %v", err)
	}
	for k, v := range kv {
		if it, ok := got[k]; !ok || string(it.Value) != v {
			t.Errorf("stored data changed: %s = %v, want %q", k, it, v)
			return
		}
	}
}

// bystander is a well-behaved client working through the proxy while
// others misbehave.
type bystander struct {
	halt  atomic.Bool
	wg    sync.WaitGroup
	done  chan struct{} // closed when run returns
	pairs atomic.Int64
	err   error
}

func startBystander(addr string) *bystander {
	b := &bystander{done: make(chan struct{})}
	b.wg.Add(1)
	go b.run(addr)
	return b
}

// run sets and gets keys until stopped or a request fails.
func (b *bystander) run(addr string) {
	defer b.wg.Done()
	defer close(b.done)
	mc := memcache.New(addr)
	mc.Timeout = 2 * time.Second
	defer mc.Close()
	for i := 0; !b.halt.Load() && i < 1_000_000; i++ {
		k := "bystander:" + strconv.Itoa(i%100)
		v := k + "=" + strconv.Itoa(i)
		if err := mc.Set(&memcache.Item{Key: k, Value: []byte(v)}); err != nil {
			b.err = err
			return
		}
		it, err := mc.Get(k)
		if err != nil || string(it.Value) != v {
			b.err = errors.Join(err, errors.New("bystander: "+k+" does not read back as "+v))
			return
		}
		b.pairs.Add(1)
		time.Sleep(time.Millisecond)
	}
}

// await waits, up to limit, until the bystander has made n set+get pairs
// or has failed.
func (b *bystander) await(n int64, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for b.pairs.Load() < n && time.Now().Before(deadline) {
		select {
		case <-b.done:
			return
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// stop ends the bystander and returns its count of set+get pairs and its
// first failure.
func (b *bystander) stop() (int64, error) {
	b.halt.Store(true)
	b.wg.Wait()
	return b.pairs.Load(), b.err
}
