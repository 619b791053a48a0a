package ring

import (
	"crypto/md5"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
)

// md5Point is a 128-bit position on the md5 ring.
type md5Point struct{ hi, lo uint64 }

func (p md5Point) less(q md5Point) bool {
	return p.hi < q.hi || (p.hi == q.hi && p.lo < q.lo)
}

func md5Position(b []byte) md5Point {
	d := md5.Sum(b)
	return md5Point{binary.BigEndian.Uint64(d[:8]), binary.BigEndian.Uint64(d[8:])}
}

// md5Ring is the classic consistent-hashing ring: each node has replicas ×
// weight points, point i at md5("<name>:<i>") read as a 128-bit big-endian
// number; a key at md5(key) belongs to the first point strictly above it,
// wrapping to the first.
type md5Ring struct {
	points []md5Point
	owners []int32
}

func newMD5Ring(nodes []Node, names []string, replicas int) (md5Ring, error) {
	type entry struct {
		p     md5Point
		owner int32
	}
	var entries []entry
	buf := make([]byte, 0, 64)
	for i, n := range nodes {
		for j := 0; j < replicas*n.Weight; j++ {
			buf = strconv.AppendInt(append(append(buf[:0], names[i]...), ':'), int64(j), 10)
			entries = append(entries, entry{md5Position(buf), int32(i)})
		}
	}
	slices.SortFunc(entries, func(a, b entry) int {
		switch {
		case a.p.less(b.p):
			return -1
		case b.p.less(a.p):
			return 1
		}
		return int(a.owner - b.owner)
	})
	r := md5Ring{points: make([]md5Point, len(entries)), owners: make([]int32, len(entries))}
	for i, e := range entries {
		if i > 0 && e.p == entries[i-1].p && e.owner != entries[i-1].owner {
			return md5Ring{}, fmt.Errorf("ring: md5_ring: nodes %q and %q have the same point %016x%016x",
				names[entries[i-1].owner], names[e.owner], e.p.hi, e.p.lo)
		}
		r.points[i], r.owners[i] = e.p, e.owner
	}
	return r, nil
}

// pick returns the owner of the first point strictly greater than md5(key),
// wrapping to the first.
func (r *md5Ring) pick(key []byte) int { return int(r.owners[r.at(key)]) }

// at returns the index of the first point strictly greater than md5(key),
// wrapping to the first.
func (r *md5Ring) at(key []byte) int {
	h := md5Position(key)
	lo, hi := 0, len(r.points)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if h.less(r.points[mid]) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	if lo == len(r.points) {
		lo = 0 // at or past the last point: wrap around
	}
	return lo
}

// shares returns the fraction of the 2^128 positions each node owns: a
// point owns the positions from the previous point up to just below itself.
func (r *md5Ring) shares(n int) []float64 {
	s := make([]float64, n)
	if len(r.points) == 1 {
		s[r.owners[0]] = 1 // a lone point owns the whole ring
		return s
	}
	prev := r.points[len(r.points)-1]
	for i, p := range r.points {
		s[r.owners[i]] += p.minus(prev) // wraps for the first point
		prev = p
	}
	return s
}

// minus returns (p - q) mod 2^128 as a fraction of 2^128.
func (p md5Point) minus(q md5Point) float64 {
	lo := p.lo - q.lo
	hi := p.hi - q.hi
	if p.lo < q.lo {
		hi-- // borrow
	}
	return float64(hi)/(1<<64) + float64(lo)/(1<<64)/(1<<64)
}
