package hotkeys

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"
)

// clock is a settable time source.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// TestIssueWorkload is hot keys' acceptance workload: of 50,000 gets, one
// key takes 30 % and nine others 5 % each, the rest spread over 10,000
// other keys. With the default sampling, those ten come first, the 30 %
// key at the top, each share within 3 points of the truth.
func TestIssueWorkload(t *testing.T) {
	const total = 50_000
	var stream []string
	hot := map[string]float64{"hot:0": 0.30}
	for range total * 30 / 100 {
		stream = append(stream, "hot:0")
	}
	for i := 1; i <= 9; i++ {
		k := fmt.Sprintf("hot:%d", i)
		hot[k] = 0.05
		for range total * 5 / 100 {
			stream = append(stream, k)
		}
	}
	for i := 0; len(stream) < total; i++ {
		stream = append(stream, fmt.Sprintf("cold:%d", i%10_000))
	}
	rand.Shuffle(len(stream), func(i, j int) { stream[i], stream[j] = stream[j], stream[i] })

	tr := New(Options{})
	for _, k := range stream {
		tr.Sample([]byte(k))
	}
	top := tr.Top(10)
	if len(top.Keys) != 10 {
		t.Fatalf("Top(10) gave %d keys", len(top.Keys))
	}
	if got := string(top.Keys[0].Key); got != "hot:0" {
		t.Errorf("first key %q, want hot:0", got)
	}
	for _, k := range top.Keys {
		want, ok := hot[string(k.Key)]
		if !ok {
			t.Errorf("%q (share %.3f) in the top ten, want only the ten hot keys", k.Key, k.Share)
			continue
		}
		if math.Abs(k.Share-want) > 0.03 {
			t.Errorf("%s: share %.3f, want %.2f ± 0.03", k.Key, k.Share, want)
		}
		if c := float64(k.Count); math.Abs(c-want*total) > 0.03*total {
			t.Errorf("%s: count %.0f, want %.0f ± %d", k.Key, c, want*total, total*3/100)
		}
	}
	if r := float64(top.Requests); math.Abs(r-total) > 0.05*total {
		t.Errorf("requests %0.f, want %d ± 5%%", r, total)
	}
}

// TestMemoryBounded feeds a million distinct keys, every one counted: the
// heap grows by no more than a small constant over what New allocated.
func TestMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("a million keys")
	}
	tr := New(Options{SampleEvery: 1})
	key := make([]byte, 0, 32)
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	for i := range 1_000_000 {
		key = fmt.Appendf(key[:0], "user:%d:profile", i)
		tr.Sample(key)
	}
	after := heap()
	grew := int64(after) - int64(before)
	if grew > 64<<10 {
		t.Errorf("heap grew %d bytes over a million distinct keys, want at most 64 KiB", grew)
	}
	top := tr.Top(-1)
	if max := DefaultSubWindows * DefaultCapacity; len(top.Keys) > max {
		t.Errorf("Top holds %d keys, want at most %d", len(top.Keys), max)
	}
	if top.Requests != 1_000_000 {
		t.Errorf("requests %d, want 1000000", top.Requests)
	}
	runtime.KeepAlive(tr)
}

// TestSampleDoesNotAllocate covers both a key already counted and a new
// key taking over a counter.
func TestSampleDoesNotAllocate(t *testing.T) {
	tr := New(Options{SampleEvery: 1, Capacity: 8})
	keys := make([][]byte, 100)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "key:%d", i)
	}
	i := 0
	allocs := testing.AllocsPerRun(10_000, func() {
		tr.Sample(keys[i%len(keys)])
		tr.Sample(keys[0])
		i++
	})
	if allocs != 0 {
		t.Errorf("Sample allocates %.1f times per call", allocs)
	}
}

// TestSlidingWindow checks that counts leave the window as their
// sub-window turns over, and the window Top reports.
func TestSlidingWindow(t *testing.T) {
	c := &clock{t: time.Unix(1_000_000, 0)}
	tr := New(Options{SampleEvery: 1, Window: time.Minute, SubWindows: 6, Now: c.now})
	for range 100 {
		tr.Sample([]byte("early"))
	}
	c.t = c.t.Add(25 * time.Second)
	for range 50 {
		tr.Sample([]byte("late"))
	}
	top := tr.Top(10)
	if top.Window != 25*time.Second {
		t.Errorf("window %v, want 25s", top.Window)
	}
	if len(top.Keys) != 2 || string(top.Keys[0].Key) != "early" || top.Keys[0].Count != 100 || top.Keys[1].Count != 50 {
		t.Fatalf("top = %+v, want early 100, late 50", top.Keys)
	}
	if math.Abs(top.Keys[0].Share-2.0/3) > 1e-9 {
		t.Errorf("early share %v, want 2/3", top.Keys[0].Share)
	}
	// 61s after the start, the first sub-window [0s,10s) has left.
	c.t = c.t.Add(36 * time.Second)
	top = tr.Top(10)
	if len(top.Keys) != 1 || string(top.Keys[0].Key) != "late" || top.Keys[0].Share != 1 {
		t.Errorf("after a minute: top = %+v, want late alone", top.Keys)
	}
	if top.Window != 51*time.Second {
		t.Errorf("window %v, want 51s (from the sub-window at 10s)", top.Window)
	}
	// Idle for more than a window: nothing left.
	c.t = c.t.Add(2 * time.Minute)
	top = tr.Top(10)
	if len(top.Keys) != 0 || top.Requests != 0 {
		t.Errorf("after idling: top = %+v", top)
	}
	tr.Sample([]byte("fresh"))
	if top = tr.Top(10); len(top.Keys) != 1 || top.Requests != 1 {
		t.Errorf("after idling, one sample: top = %+v", top)
	}
}

// TestSampling checks that one request in SampleEvery is counted and the
// estimates are scaled back to requests.
func TestSampling(t *testing.T) {
	tr := New(Options{SampleEvery: 8})
	const n = 80_000
	for i := range n {
		if i%2 == 0 {
			tr.Sample([]byte("a"))
		} else {
			tr.Sample([]byte("b"))
		}
	}
	top := tr.Top(2)
	sampled := tr.subs[tr.cur].n
	if sampled < n/8*9/10 || sampled > n/8*11/10 {
		t.Errorf("sampled %d of %d, want about %d", sampled, n, n/8)
	}
	if top.Requests != sampled*8 {
		t.Errorf("requests %d, want sampled×8 = %d", top.Requests, sampled*8)
	}
	for _, k := range top.Keys {
		if math.Abs(k.Share-0.5) > 0.03 {
			t.Errorf("%s: share %.3f, want 0.5", k.Key, k.Share)
		}
	}
}

// TestDroppedSamplesScale: a sample that finds the lock held is dropped,
// and the estimates scale up for it.
func TestDroppedSamplesScale(t *testing.T) {
	tr := New(Options{SampleEvery: 1})
	for range 10 {
		tr.Sample([]byte("k"))
	}
	tr.mu.Lock()
	for range 10 {
		tr.Sample([]byte("k"))
	}
	tr.mu.Unlock()
	top := tr.Top(1)
	if top.Requests != 20 || top.Keys[0].Count != 20 || top.Keys[0].Share != 1 {
		t.Errorf("top = %+v, want 20 requests, all k", top)
	}
}

func TestConcurrentSample(t *testing.T) {
	tr := New(Options{SampleEvery: 1, Capacity: 16})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := make([]byte, 0, 16)
			for i := range 20_000 {
				key = fmt.Appendf(key[:0], "g%d:%d", g, i%50)
				tr.Sample(key)
				if i%5000 == 0 {
					tr.Top(5)
				}
			}
		}()
	}
	wg.Wait()
	if top := tr.Top(5); top.Requests != 80_000 {
		t.Errorf("requests %d, want 80000 counted or scaled", top.Requests)
	}
}

func TestNilTracker(t *testing.T) {
	var tr *Tracker
	tr.Sample([]byte("k"))
	if top := tr.Top(10); len(top.Keys) != 0 || top.Requests != 0 {
		t.Errorf("nil tracker top = %+v", top)
	}
}

func TestLongKeyIgnored(t *testing.T) {
	tr := New(Options{SampleEvery: 1})
	tr.Sample(make([]byte, 251))
	if top := tr.Top(1); top.Requests != 0 {
		t.Errorf("a 251-byte key was counted: %+v", top)
	}
}

func TestHashed(t *testing.T) {
	// echo -n foo | sha256sum
	if got, want := Hashed([]byte("foo")), "sha256:2c26b46b68ffc68f"; got != want {
		t.Errorf("Hashed(foo) = %q, want %q", got, want)
	}
}

// BenchmarkSample is the cost a request pays with hot keys on, against
// BenchmarkSampleOff, a nil Tracker.
func BenchmarkSample(b *testing.B) {
	tr := New(Options{})
	benchSample(b, tr)
}

func BenchmarkSampleOff(b *testing.B) {
	benchSample(b, nil)
}

func benchSample(b *testing.B, tr *Tracker) {
	keys := make([][]byte, 1024)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "user:%d:profile", i*7919)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			tr.Sample(keys[i&1023])
			i++
		}
	})
}
