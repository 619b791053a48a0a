package proxy

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
)

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
