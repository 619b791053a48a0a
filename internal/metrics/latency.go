package metrics

import (
	"math"
	"slices"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// latency is a node's upstream request latencies summed over its commands,
// as the buckets of their native histograms: bucket i holds the requests
// that took more than base^(i-1) and at most base^i seconds, base being
// 2^(2^-schema); the zero bucket those that took at most zeroThreshold.
type latency struct {
	schema        int32
	zeroThreshold float64
	zero          uint64
	counts        map[int32]uint64
}

// addHistogram adds the buckets of one histogram, at the coarser of its
// schema and the one held.
func (l *latency) addHistogram(h *dto.Histogram) {
	if h.Schema == nil {
		return // no native buckets
	}
	s := h.GetSchema()
	if l.counts == nil {
		l.schema = s
		l.counts = make(map[int32]uint64)
	} else if s < l.schema {
		l.reduce(s)
	}
	l.zeroThreshold = max(l.zeroThreshold, h.GetZeroThreshold())
	l.zero += h.GetZeroCount()
	var idx int32
	var count int64
	deltas := h.GetPositiveDelta()
	for _, span := range h.GetPositiveSpan() {
		idx += span.GetOffset()
		for range span.GetLength() {
			if len(deltas) == 0 {
				return
			}
			count += deltas[0]
			deltas = deltas[1:]
			l.counts[reduceIndex(idx, s-l.schema)] += uint64(count)
			idx++
		}
	}
}

// reduce merges the buckets down to schema s, coarser than the one held.
func (l *latency) reduce(s int32) {
	counts := make(map[int32]uint64, len(l.counts))
	for i, c := range l.counts {
		counts[reduceIndex(i, l.schema-s)] += c
	}
	l.schema, l.counts = s, counts
}

// reduceIndex maps bucket i to the bucket holding it at a schema d lower:
// the upper bound base^i falls in bucket ceil(i / 2^d).
func reduceIndex(i, d int32) int32 {
	if d <= 0 {
		return i
	}
	return ((i - 1) >> d) + 1
}

// minus returns the requests in l but not in base, an earlier reading of
// the same node. A histogram that started afresh in between is taken whole.
func (l latency) minus(base latency) latency {
	if base.counts == nil || l.counts == nil {
		return l
	}
	if base.schema > l.schema {
		base.reduce(l.schema)
	} else if base.schema < l.schema {
		l.reduce(base.schema)
	}
	out := latency{schema: l.schema, zeroThreshold: l.zeroThreshold, counts: make(map[int32]uint64, len(l.counts))}
	if l.zero < base.zero || l.total() < base.total() {
		return l
	}
	out.zero = l.zero - base.zero
	for i, c := range l.counts {
		b := base.counts[i]
		if c < b {
			return l
		}
		if c > b {
			out.counts[i] = c - b
		}
	}
	return out
}

func (l latency) total() uint64 {
	t := l.zero
	for _, c := range l.counts {
		t += c
	}
	return t
}

// quantile returns the latency, in seconds, below which a fraction q of the
// requests fall, interpolating within the bucket that holds it; false when
// there were no requests.
func (l latency) quantile(q float64) (float64, bool) {
	total := l.total()
	if total == 0 {
		return 0, false
	}
	rank := q * float64(total)
	if rank <= float64(l.zero) {
		return l.zeroThreshold, true
	}
	cum := float64(l.zero)
	idx := make([]int32, 0, len(l.counts))
	for i := range l.counts {
		idx = append(idx, i)
	}
	slices.Sort(idx)
	base := math.Exp2(math.Exp2(-float64(l.schema)))
	for _, i := range idx {
		c := float64(l.counts[i])
		if cum+c >= rank {
			upper := math.Pow(base, float64(i))
			lower := upper / base
			return lower + (upper-lower)*(rank-cum)/c, true
		}
		cum += c
	}
	last := idx[len(idx)-1]
	return math.Pow(base, float64(last)), true
}

// readLatency reads the native buckets of every latency histogram of s.
func (s *Server) readLatency() latency {
	var l latency
	for i := range s.durations {
		o := s.durations[i].Load()
		if o == nil {
			continue
		}
		h, ok := o.Observer.(prometheus.Histogram)
		if !ok {
			continue // discards: the server was removed
		}
		var m dto.Metric
		if err := h.Write(&m); err == nil && m.Histogram != nil {
			l.addHistogram(m.Histogram)
		}
	}
	return l
}
