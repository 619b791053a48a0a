package loadgen

import (
	"math/rand/v2"
	"testing"
)

func TestHistogramBucketsCoverValues(t *testing.T) {
	values := []int64{0, 1, 63, 64, 65, 127, 128, 1000, 1 << 20, 1<<20 + 1, 1<<maxExp - 1}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		values = append(values, rng.Int64N(1<<maxExp))
	}
	for _, v := range values {
		i := bucketOf(v)
		if i < 0 || i >= numBuckets {
			t.Fatalf("bucketOf(%d) = %d, out of range", v, i)
		}
		if hi := bucketMax(i); hi < v || (i > 0 && bucketMax(i-1) >= v) {
			t.Fatalf("value %d in bucket %d whose range ends at %d (previous ends at %d)", v, i, hi, bucketMax(i-1))
		}
		if hi := bucketMax(i); float64(hi-v) > float64(v)/subBuckets+1 {
			t.Fatalf("value %d: bucket end %d is more than 1/%d above it", v, hi, subBuckets)
		}
	}
	if got := bucketOf(1 << 40); got != numBuckets-1 {
		t.Errorf("bucketOf(2^40) = %d, want the last bucket %d", got, numBuckets-1)
	}
	if got := bucketOf(-5); got != 0 {
		t.Errorf("bucketOf(-5) = %d, want 0", got)
	}
}

func TestHistogramQuantiles(t *testing.T) {
	var h Histogram
	if h.Quantile(0.5) != 0 || h.Mean() != 0 {
		t.Fatal("empty histogram: want zero quantile and mean")
	}
	for v := int64(1); v <= 10000; v++ {
		h.Record(v * 1000) // 1µs .. 10ms
	}
	for _, c := range []struct {
		q    float64
		want int64
	}{{0.5, 5_000_000}, {0.99, 9_900_000}, {0.999, 9_990_000}, {1, 10_000_000}} {
		got := h.Quantile(c.q)
		if got < c.want || float64(got-c.want) > float64(c.want)/subBuckets {
			t.Errorf("Quantile(%v) = %d, want %d within 1/%d above", c.q, got, c.want, subBuckets)
		}
	}
	if h.Max() != 10_000_000 || h.Count() != 10000 {
		t.Errorf("Max %d Count %d", h.Max(), h.Count())
	}
	if m := h.Mean(); m != 5_000_500 {
		t.Errorf("Mean = %v, want 5000500", m)
	}
}

func TestHistogramMerge(t *testing.T) {
	var a, b, all Histogram
	for v := int64(0); v < 5000; v += 7 {
		a.Record(v)
		all.Record(v)
		b.Record(v * 3)
		all.Record(v * 3)
	}
	a.Merge(&b)
	if a != all {
		t.Fatal("merged histogram differs from recording everything in one")
	}
}

func TestHistogramRecordDoesNotAllocate(t *testing.T) {
	var h Histogram
	v := int64(1)
	if n := testing.AllocsPerRun(1000, func() { h.Record(v); v = v*3 + 1 }); n != 0 {
		t.Errorf("Record allocates %v times", n)
	}
}
