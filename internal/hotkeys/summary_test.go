package hotkeys

import (
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"testing"
)

// count returns the summary's count and error for key, and whether it holds
// a counter for it.
func (s *summary) count(key string) (count, err uint64, ok bool) {
	for i := range s.entries {
		if string(s.key(int32(i))) == key {
			return s.entries[i].count, s.entries[i].err, true
		}
	}
	return 0, 0, false
}

// check verifies the summary's structure: every counter is found through
// the table, and the heap is ordered.
func (s *summary) check(t *testing.T) {
	t.Helper()
	found := 0
	for _, v := range s.table {
		if v != 0 {
			found++
		}
	}
	if found != len(s.entries) {
		t.Fatalf("table holds %d counters, want %d", found, len(s.entries))
	}
	for i := range s.entries {
		e := &s.entries[i]
		slot := e.hash & s.mask
		for s.table[slot] != int32(i)+1 {
			if s.table[slot] == 0 {
				t.Fatalf("counter %d (%q) not reachable from its hash", i, s.key(int32(i)))
			}
			slot = (slot + 1) & s.mask
		}
		if s.heap[e.hpos] != int32(i) {
			t.Fatalf("counter %d: heap position %d holds %d", i, e.hpos, s.heap[e.hpos])
		}
	}
	for j := 1; j < len(s.heap); j++ {
		if s.less(j, (j-1)/2) {
			t.Fatalf("heap out of order at %d", j)
		}
	}
}

func TestSummaryExactUnderCapacity(t *testing.T) {
	s := newSummary(16, 250, maphash.MakeSeed())
	want := map[string]uint64{}
	for i := range 100 {
		k := fmt.Sprintf("key:%d", i%10)
		s.add([]byte(k))
		want[k]++
	}
	s.check(t)
	for k, w := range want {
		c, e, ok := s.count(k)
		if !ok || c != w || e != 0 {
			t.Errorf("%s: count %d err %d ok %v, want exactly %d", k, c, e, ok, w)
		}
	}
	if s.min() != 0 {
		t.Errorf("min = %d with free counters, want 0", s.min())
	}
}

// TestSummaryBounds checks space-saving's guarantees on a skewed stream
// far larger than the summary: each count is an overestimate by at most
// its err, err is at most n/capacity, and every key more frequent than
// n/capacity holds a counter. A small table makes removals from long probe
// runs common.
func TestSummaryBounds(t *testing.T) {
	const capacity, n = 32, 200_000
	s := newSummary(capacity, 250, maphash.MakeSeed())
	rng := rand.New(rand.NewPCG(1, 2))
	zipf := rand.NewZipf(rng, 1.1, 1, 5000)
	truth := map[string]uint64{}
	for i := range n {
		k := fmt.Sprintf("k%d", zipf.Uint64())
		s.add([]byte(k))
		truth[k]++
		if i%10_000 == 0 {
			s.check(t)
		}
	}
	s.check(t)
	if s.n != n {
		t.Fatalf("n = %d, want %d", s.n, n)
	}
	bound := uint64(n / capacity)
	for i := range s.entries {
		k := string(s.key(int32(i)))
		e := s.entries[i]
		tr := truth[k]
		if e.count < tr || e.count-e.err > tr || e.err > bound {
			t.Errorf("%s: count %d err %d, true %d, bound %d", k, e.count, e.err, tr, bound)
		}
	}
	for k, tr := range truth {
		if tr > bound {
			if _, _, ok := s.count(k); !ok {
				t.Errorf("%s: true count %d > n/capacity %d but no counter", k, tr, bound)
			}
		}
	}
	s.reset()
	s.check(t)
	s.add([]byte("again"))
	if c, _, _ := s.count("again"); c != 1 {
		t.Errorf("after reset: count %d, want 1", c)
	}
}
