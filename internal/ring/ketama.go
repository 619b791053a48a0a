package ring

import (
	"crypto/md5"
	"encoding/binary"
	"math"
	"slices"
	"strconv"
	"strings"
)

// ketamaPointsPerServer is the points an average-weight server gets.
const ketamaPointsPerServer = 160

// ketamaRing is twemproxy's ketama continuum: sorted points, each owned by
// a node.
type ketamaRing struct {
	points []uint32
	owners []int32
}

// ketamaName is the name twemproxy hashes for a node: its alias, else the
// host when the port is 11211 (libmemcached's convention), else host:port,
// all as written in the config. A Unix socket's name is its path and a
// colon: twemproxy takes the path and one byte more, the ':' before the
// weight, as it would the ':' before an empty port.
func ketamaName(n Node) string {
	if n.Alias != "" {
		return n.Alias
	}
	if isSocket(n.Addr) {
		return n.Addr + ":"
	}
	i := strings.LastIndexByte(n.Addr, ':')
	if n.Addr[i+1:] == "11211" {
		return n.Addr[:i]
	}
	return n.Addr
}

// ketamaPoints is how many points twemproxy gives a node of weight w out of
// total over n nodes. It computes in float32 and adds 1e-10 in double, as
// twemproxy's C does; the explicit conversions keep Go from fusing or
// widening any step, so rounding matches. A node whose weight is tiny next
// to the others' can get no points, and then owns no keys, as in
// twemproxy.
func ketamaPoints(w, total, n int) int {
	pct := float32(w) / float32(total)
	x := float32(float32(float32(pct*ketamaPointsPerServer)/4) * float32(n))
	x = float32(float64(x) + 0.0000000001)
	return int(math.Floor(float64(x))) * 4
}

func newKetama(nodes []Node, names []string) ketamaRing {
	total := 0
	for _, n := range nodes {
		total += n.Weight
	}
	// Each entry is point<<32 | insertion order, so sorting orders equal
	// points as glibc's stable qsort leaves them in twemproxy: by node
	// order, then point order. A key whose hash equals such a point goes to
	// the first of them.
	entries := make([]uint64, 0, ketamaPointsPerServer*len(nodes))
	owner := make([]int32, 0, cap(entries))
	buf := make([]byte, 0, 64)
	for i, n := range nodes {
		points := ketamaPoints(n.Weight, total, len(nodes))
		for j := 0; j < points/4; j++ {
			buf = strconv.AppendInt(append(append(buf[:0], names[i]...), '-'), int64(j), 10)
			d := md5.Sum(buf)
			for k := 0; k < 4; k++ {
				v := binary.LittleEndian.Uint32(d[4*k:])
				entries = append(entries, uint64(v)<<32|uint64(len(owner)))
				owner = append(owner, int32(i))
			}
		}
	}
	slices.Sort(entries)
	k := ketamaRing{points: make([]uint32, len(entries)), owners: make([]int32, len(entries))}
	for i, e := range entries {
		k.points[i] = uint32(e >> 32)
		k.owners[i] = owner[uint32(e)]
	}
	return k
}

// pick returns the owner of the first point >= h, wrapping to the first.
func (k *ketamaRing) pick(h uint32) int { return int(k.owners[k.at(h)]) }

// at returns the index of the first point >= h, wrapping to the first.
func (k *ketamaRing) at(h uint32) int {
	lo, hi := 0, len(k.points)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if k.points[mid] < h {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo == len(k.points) {
		lo = 0 // past the last point: wrap around
	}
	return lo
}

// shares returns the fraction of the 2^32 hash values each node owns: a
// point owns the values after the previous point, up to and including
// itself.
func (k *ketamaRing) shares(n int) []float64 {
	s := make([]float64, n)
	prev := k.points[len(k.points)-1]
	for i, p := range k.points {
		s[k.owners[i]] += float64(p-prev) / (1 << 32) // wraps for the first point
		prev = p
	}
	return s
}

// isSocket reports whether addr is a Unix socket's path.
func isSocket(addr string) bool { return strings.HasPrefix(addr, "/") }
