package ring

import "strconv"

// SequentialKeys returns the keys prefix+"0" … prefix+(n-1), named as
// applications commonly name them ("user:0", "session-17").
func SequentialKeys(prefix string, n int) [][]byte {
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = strconv.AppendInt([]byte(prefix), int64(i), 10)
	}
	return keys
}

// KeyShares returns the share of keys that r places on each node.
func (r *Ring) KeyShares(keys [][]byte) []float64 {
	out := make([]float64, len(r.nodes))
	if len(keys) == 0 {
		return out
	}
	for _, k := range keys {
		out[r.Pick(k)]++
	}
	for i := range out {
		out[i] /= float64(len(keys))
	}
	return out
}

// Skew measures how unevenly r spreads keys: the largest relative
// difference between a node's share of keys and its share of the ring
// (Shares), 0 for a perfect spread, 0.5 when some node gets half again, or
// half, of what its share of the ring promises. It isolates what the hash
// does to these keys from what the ring's points do.
func (r *Ring) Skew(keys [][]byte) float64 {
	want := r.Shares()
	worst := 0.0
	for i, got := range r.KeyShares(keys) {
		if want[i] == 0 {
			continue
		}
		d := got/want[i] - 1
		if d < 0 {
			d = -d
		}
		worst = max(worst, d)
	}
	return worst
}

// Moved returns the share of keys that a and b place on different nodes,
// nodes being matched by index: what a move from one ring to the other
// over the same nodes costs a cache.
func Moved(a, b *Ring, keys [][]byte) float64 {
	if len(keys) == 0 {
		return 0
	}
	moved := 0
	for _, k := range keys {
		if a.Pick(k) != b.Pick(k) {
			moved++
		}
	}
	return float64(moved) / float64(len(keys))
}

// SkewThreshold is the Skew over sequential keys above which a ring's hash
// is reported as spreading real keys badly: a node with 15 % more or
// fewer keys than its share of the ring. A fair hash (md5, murmur) stays
// under about 10 % with SequentialSampleSize keys.
const SkewThreshold = 0.15

// SequentialPrefixes are the key names SequentialSkew tries.
var SequentialPrefixes = []string{"user:", "session-", "key:", "item"}

// SequentialSampleSize is how many sequential keys SequentialSkew hashes per
// prefix: as many as give each node about 1,000 by its share of the ring
// (at most 1,000,000), so that a fair hash's chance unevenness stays well
// under SkewThreshold.
func (r *Ring) SequentialSampleSize() int {
	least := 1.0
	for _, s := range r.Shares() {
		if s > 0 {
			least = min(least, s)
		}
	}
	return min(int(1000/least), 1_000_000)
}

// SequentialSkew returns the worst Skew of r over the keys prefix+"0"
// onwards, SequentialSampleSize of them, for each of SequentialPrefixes,
// and the prefix it was found with.
func (r *Ring) SequentialSkew() (worst float64, prefix string) {
	n := r.SequentialSampleSize()
	for _, p := range SequentialPrefixes {
		if s := r.Skew(SequentialKeys(p, n)); s > worst || prefix == "" {
			worst, prefix = s, p
		}
	}
	return worst, prefix
}
