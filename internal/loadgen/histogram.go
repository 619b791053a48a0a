package loadgen

import (
	"math"
	"math/bits"
)

// Histogram geometry: values below 2*subBuckets are exact; above, each power
// of two is split into subBuckets buckets (about 3 % relative error). Values
// of 2^maxExp or more (68 s in nanoseconds) fall into the last bucket.
const (
	subBits    = 5
	subBuckets = 1 << subBits
	maxExp     = 36
	numBuckets = 2*subBuckets + (maxExp-subBits-1)*subBuckets
)

// Histogram counts non-negative values (latencies in nanoseconds) in
// log-linear buckets, like HdrHistogram. Recording does not allocate. The
// zero value is empty and ready to use; it is not safe for concurrent use.
type Histogram struct {
	counts [numBuckets]uint64
	total  uint64
	sum    uint64
	max    int64
}

// bucketOf returns the bucket index of v.
func bucketOf(v int64) int {
	if v < 2*subBuckets {
		if v < 0 {
			return 0
		}
		return int(v)
	}
	if v >= 1<<maxExp {
		return numBuckets - 1
	}
	e := bits.Len64(uint64(v)) - 1 // v is in [2^e, 2^(e+1)), e > subBits
	shift := e - subBits
	return 2*subBuckets + (e-subBits-1)*subBuckets + int(v>>shift) - subBuckets
}

// bucketMax returns the largest value that falls into bucket i.
func bucketMax(i int) int64 {
	if i < 2*subBuckets {
		return int64(i)
	}
	j := i - 2*subBuckets
	shift := j/subBuckets + 1
	lower := int64(j%subBuckets+subBuckets) << shift
	return lower + 1<<shift - 1
}

// Record adds one value; a negative value counts as 0.
func (h *Histogram) Record(v int64) {
	v = max(v, 0)
	h.counts[bucketOf(v)]++
	h.total++
	h.sum += uint64(v)
	if v > h.max {
		h.max = v
	}
}

// Merge adds every value of o to h.
func (h *Histogram) Merge(o *Histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
	h.sum += o.sum
	h.max = max(h.max, o.max)
}

// Count returns the number of recorded values.
func (h *Histogram) Count() uint64 { return h.total }

// Max returns the largest recorded value, or 0.
func (h *Histogram) Max() int64 { return h.max }

// Mean returns the mean of the recorded values, or 0.
func (h *Histogram) Mean() float64 {
	if h.total == 0 {
		return 0
	}
	return float64(h.sum) / float64(h.total)
}

// Quantile returns a value at or above the q quantile (0 < q <= 1) of the
// recorded values, within the bucket precision and never above Max; it
// returns 0 when nothing was recorded.
func (h *Histogram) Quantile(q float64) int64 {
	if h.total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.total)))
	rank = min(max(rank, 1), h.total)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(bucketMax(i), h.max)
		}
	}
	return h.max
}
