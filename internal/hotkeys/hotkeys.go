// Package hotkeys estimates the keys requested most over a sliding window,
// in fixed memory and at a cost on the request path of one random number for
// most requests.
//
// A Tracker samples requests at random (one in SampleEvery) and counts the
// sampled keys in space-saving summaries, one per sub-window; the window is
// the last SubWindows sub-windows, the oldest dropped as a new one starts.
// Memory is fixed when the Tracker is made: SubWindows × Capacity counters
// with room for a key of memcached's longest length each.
//
// Error: a share from Top is a key's count among the sampled keys of the
// window. Counting overestimates it by at most 1/Capacity (each summary
// overestimates by at most its sampled keys over Capacity); sampling adds a
// random error of about sqrt(p(1-p)/s) for a share p of s sampled keys.
// A key with a share above 1/Capacity of a sub-window's samples always holds
// one of its counters.
package hotkeys

import (
	"hash/maphash"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"hashproxy/internal/proto"
)

// Defaults of Options.
const (
	DefaultCapacity    = 256
	DefaultSampleEvery = 8
	DefaultWindow      = time.Minute
	DefaultSubWindows  = 6
)

// Options configure a Tracker. A zero field takes its default.
type Options struct {
	// Capacity is the number of keys each sub-window counts; a share's
	// counting error is at most 1/Capacity.
	Capacity int
	// SampleEvery samples one request in SampleEvery, at random; 1 counts
	// every request.
	SampleEvery int
	// Window is the span Top covers, and SubWindows the number of parts
	// it turns over in: Top covers between Window×(SubWindows-1)/SubWindows
	// and Window.
	Window     time.Duration
	SubWindows int
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.Capacity <= 0 {
		o.Capacity = DefaultCapacity
	}
	if o.SampleEvery <= 0 {
		o.SampleEvery = DefaultSampleEvery
	}
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.SubWindows <= 0 {
		o.SubWindows = DefaultSubWindows
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Tracker counts sampled keys over a sliding window. Its methods are safe
// for concurrent use; a nil *Tracker counts nothing, so callers with hot
// keys turned off hold a nil one.
type Tracker struct {
	threshold uint32 // a request is sampled when a random uint32 is below it
	every     float64
	span      time.Duration // of one sub-window
	now       func() time.Time

	// mu guards the summaries. Sample only tries to take it: a sample that
	// finds it held is dropped and counted in dropped, so the request path
	// never waits for a lock.
	mu      sync.Mutex
	subs    []*summary
	starts  []time.Time // start of each sub-window; zero if never used
	cur     int         // index of the current sub-window
	dropped []atomic.Uint64
	curDrop atomic.Int32 // cur, for Sample's count of dropped samples
}

// New returns a Tracker that holds its memory, about
// SubWindows × Capacity × (250 + 64) bytes, from the start.
func New(o Options) *Tracker {
	o = o.withDefaults()
	seed := maphash.MakeSeed()
	t := &Tracker{
		every:   float64(o.SampleEvery),
		span:    o.Window / time.Duration(o.SubWindows),
		now:     o.Now,
		subs:    make([]*summary, o.SubWindows),
		starts:  make([]time.Time, o.SubWindows),
		dropped: make([]atomic.Uint64, o.SubWindows),
	}
	if o.SampleEvery == 1 {
		t.threshold = 0 // see Sample: every request
	} else {
		t.threshold = uint32((1 << 32) / uint64(o.SampleEvery))
	}
	for i := range t.subs {
		t.subs[i] = newSummary(o.Capacity, proto.MaxKeyLength, seed)
	}
	t.starts[0] = t.now()
	return t
}

// Sample counts key, a request's key, if this request is sampled. It does
// not keep key and does not allocate. A key longer than memcached's longest
// is ignored.
func (t *Tracker) Sample(key []byte) {
	if t == nil {
		return
	}
	if t.threshold != 0 && rand.Uint32() >= t.threshold {
		return
	}
	if len(key) > proto.MaxKeyLength {
		return
	}
	if !t.mu.TryLock() {
		t.dropped[t.curDrop.Load()].Add(1)
		return
	}
	t.rotate(t.now())
	t.subs[t.cur].add(key)
	t.mu.Unlock()
}

// rotate makes the current sub-window the one now falls in, emptying the
// ones it reuses. The caller holds t.mu.
func (t *Tracker) rotate(now time.Time) {
	start := t.starts[t.cur]
	if now.Sub(start) < t.span {
		return
	}
	if now.Sub(start) >= t.span*time.Duration(len(t.subs)) {
		// Idle for a whole window: start afresh.
		for i, s := range t.subs {
			s.reset()
			t.starts[i] = time.Time{}
			t.dropped[i].Store(0)
		}
		t.starts[t.cur] = now
		return
	}
	for now.Sub(start) >= t.span {
		start = start.Add(t.span)
		t.cur = (t.cur + 1) % len(t.subs)
		t.subs[t.cur].reset()
		t.dropped[t.cur].Store(0)
		t.starts[t.cur] = start
	}
	t.curDrop.Store(int32(t.cur))
}

// Key is one hot key.
type Key struct {
	// Key is the key as requested.
	Key []byte
	// Count estimates the requests for the key in the window.
	Count uint64
	// Share is the key's fraction of the requests in the window.
	Share float64
}

// Top is the hot keys of a window.
type Top struct {
	// Window is the span the counts cover, from the start of the oldest
	// sub-window counted to now.
	Window time.Duration
	// Requests estimates the requests in the window.
	Requests uint64
	// Keys are the hot keys, most requested first.
	Keys []Key
}

// Top returns up to k keys requested most in the window, most first; ties
// in order of key. A nil Tracker returns an empty Top.
func (t *Tracker) Top(k int) Top {
	if t == nil {
		return Top{}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	t.rotate(now)
	counts := make(map[string]uint64)
	var sampled, dropped uint64
	oldest := now
	for i, s := range t.subs {
		if t.starts[i].IsZero() {
			continue
		}
		if t.starts[i].Before(oldest) {
			oldest = t.starts[i]
		}
		sampled += s.n
		dropped += t.dropped[i].Load()
		for j := range s.entries {
			counts[string(s.key(int32(j)))] += s.entries[j].count
		}
	}
	top := Top{Window: now.Sub(oldest)}
	if sampled == 0 {
		return top
	}
	// Samples dropped under contention are spread over the keys like the
	// ones counted, so they scale every estimate alike.
	scale := t.every * float64(sampled+dropped) / float64(sampled)
	top.Requests = uint64(float64(sampled)*scale + 0.5)
	top.Keys = largest(counts, k)
	for i := range top.Keys {
		c := top.Keys[i].Count
		top.Keys[i].Count = uint64(float64(c)*scale + 0.5)
		top.Keys[i].Share = float64(c) / float64(sampled)
	}
	return top
}
