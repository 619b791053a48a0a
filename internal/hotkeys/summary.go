package hotkeys

import (
	"bytes"
	"hash/maphash"
	"math/bits"
)

// summary is one space-saving summary (Metwally, Agrawal and El Abbadi,
// "Efficient computation of frequent and top-k elements in data streams",
// 2005): at most capacity counters, each a key with its count. A key already
// counted has its counter incremented; a new key, when every counter is in
// use, takes over the counter with the smallest count c and starts at c+1.
// Each count overestimates its key's true count by at most the count it took
// over (kept in err), and that is at most n/capacity for n keys added; every
// key whose true count exceeds n/capacity holds a counter.
//
// All memory is allocated by newSummary: keys live in one arena of
// capacity × maxKey bytes, counters in a min-heap by count, and an
// open-addressing table finds a key's counter, so add never allocates.
// A summary is not safe for concurrent use.
type summary struct {
	seed   maphash.Seed
	maxKey int

	n       uint64    // keys added since the last reset
	arena   []byte    // counter i's key is arena[i*maxKey:][:entries[i].klen]
	entries []counter // len is the number of counters in use
	heap    []int32   // counter indexes, a min-heap by count
	table   []int32   // counter index+1 by hash, linear probing; 0 is empty
	mask    uint64    // len(table)-1
}

// counter is one key's count in a summary.
type counter struct {
	hash  uint64
	count uint64
	err   uint64 // the count this counter took over: count-err <= true count
	klen  uint16
	hpos  int32 // index in heap
}

func newSummary(capacity, maxKey int, seed maphash.Seed) *summary {
	// A table at most half full keeps probe sequences short.
	size := uint64(1) << bits.Len(uint(2*capacity-1))
	return &summary{
		seed:    seed,
		maxKey:  maxKey,
		arena:   make([]byte, capacity*maxKey),
		entries: make([]counter, 0, capacity),
		heap:    make([]int32, 0, capacity),
		table:   make([]int32, size),
		mask:    size - 1,
	}
}

// reset empties the summary, keeping its memory.
func (s *summary) reset() {
	s.n = 0
	s.entries = s.entries[:0]
	s.heap = s.heap[:0]
	clear(s.table)
}

// key returns counter i's key, a view into the arena.
func (s *summary) key(i int32) []byte {
	off := int(i) * s.maxKey
	return s.arena[off : off+int(s.entries[i].klen)]
}

// add counts one occurrence of key, which must be at most maxKey bytes.
func (s *summary) add(key []byte) {
	s.n++
	h := maphash.Bytes(s.seed, key)
	slot := h & s.mask
	for {
		v := s.table[slot]
		if v == 0 {
			break
		}
		i := v - 1
		if s.entries[i].hash == h && bytes.Equal(s.key(i), key) {
			s.entries[i].count++
			s.down(int(s.entries[i].hpos))
			return
		}
		slot = (slot + 1) & s.mask
	}
	if len(s.entries) < cap(s.entries) {
		i := int32(len(s.entries))
		s.entries = append(s.entries, counter{hash: h, count: 1, hpos: int32(len(s.heap))})
		s.setKey(i, key)
		s.table[slot] = i + 1
		s.heap = append(s.heap, i)
		s.up(len(s.heap) - 1)
		return
	}
	// Every counter is in use: the key takes over the smallest.
	i := s.heap[0]
	s.unlink(i)
	e := &s.entries[i]
	e.hash = h
	e.err = e.count
	e.count++
	s.setKey(i, key)
	s.link(i)
	s.down(0)
}

func (s *summary) setKey(i int32, key []byte) {
	copy(s.arena[int(i)*s.maxKey:], key)
	s.entries[i].klen = uint16(len(key))
}

// link puts counter i into the table at the first free slot of its probe
// sequence.
func (s *summary) link(i int32) {
	slot := s.entries[i].hash & s.mask
	for s.table[slot] != 0 {
		slot = (slot + 1) & s.mask
	}
	s.table[slot] = i + 1
}

// unlink removes counter i from the table, shifting later entries of the
// probe run back so that no lookup stops early at the hole (deletion for
// linear probing without tombstones).
func (s *summary) unlink(i int32) {
	slot := s.entries[i].hash & s.mask
	for s.table[slot] != i+1 {
		slot = (slot + 1) & s.mask
	}
	hole := slot
	for {
		slot = (slot + 1) & s.mask
		v := s.table[slot]
		if v == 0 {
			break
		}
		home := s.entries[v-1].hash & s.mask
		// Move v into the hole unless its home lies cyclically in
		// (hole, slot], where the hole does not break its run.
		if (slot-home)&s.mask >= (slot-hole)&s.mask {
			s.table[hole] = v
			hole = slot
		}
	}
	s.table[hole] = 0
}

func (s *summary) less(a, b int) bool {
	return s.entries[s.heap[a]].count < s.entries[s.heap[b]].count
}

func (s *summary) swap(a, b int) {
	s.heap[a], s.heap[b] = s.heap[b], s.heap[a]
	s.entries[s.heap[a]].hpos = int32(a)
	s.entries[s.heap[b]].hpos = int32(b)
}

func (s *summary) up(j int) {
	for j > 0 {
		parent := (j - 1) / 2
		if !s.less(j, parent) {
			return
		}
		s.swap(j, parent)
		j = parent
	}
}

func (s *summary) down(j int) {
	n := len(s.heap)
	for {
		child := 2*j + 1
		if child >= n {
			return
		}
		if r := child + 1; r < n && s.less(r, child) {
			child = r
		}
		if !s.less(child, j) {
			return
		}
		s.swap(j, child)
		j = child
	}
}

// min returns the smallest count when every counter is in use, else 0: a
// key without a counter was added at most that many times.
func (s *summary) min() uint64 {
	if len(s.entries) < cap(s.entries) || len(s.heap) == 0 {
		return 0
	}
	return s.entries[s.heap[0]].count
}
