package proto

import "math"

// Numbers on a command line are plain decimal: an optional sign and at least
// one digit, nothing else. memcached's strtol also skips whitespace other
// than spaces around them; no client sends that, and refusing it keeps every
// accepted number exactly what memcached reads.

// parseUint parses an unsigned decimal ("+" allowed) that fits in 64 bits.
func parseUint(b []byte) (uint64, bool) {
	if len(b) > 0 && b[0] == '+' {
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (math.MaxUint64-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// parseInt parses a signed decimal that fits in 64 bits.
func parseInt(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		b = b[1:]
	}
	u, ok := parseUint(b)
	if !ok || len(b) == 0 || b[0] == '+' {
		return 0, false
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return -int64(u), true
	}
	if u > math.MaxInt64 {
		return 0, false
	}
	return int64(u), true
}

// parseInt32 parses a signed decimal in int32's range. wide reports whether
// b was a valid 64-bit number, which memcached accepts and truncates to 32
// bits where hashproxy refuses it.
func parseInt32(b []byte) (n int32, ok, wide bool) {
	v, ok := parseInt(b)
	if !ok {
		return 0, false, false
	}
	if v < math.MinInt32 || v > math.MaxInt32 {
		return 0, false, true
	}
	return int32(v), true, true
}
