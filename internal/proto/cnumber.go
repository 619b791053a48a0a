package proto

import (
	"bytes"
	"math"
)

// Meta command flags are passed to memcached unchanged, so the proxy must
// accept and refuse exactly the numbers memcached's safe_strtol,
// safe_strtoul and safe_strtoull do (util.c), which read them with C's
// strtol family: leading white space is skipped, a sign is allowed (even
// on unsigned numbers, which then wrap), the digits may be followed by
// white space and anything after it, and a value too wide for the C type
// the result is stored in is truncated, not refused. The node truncates
// the same way when it reads the token, so the proxy only has to agree on
// which tokens are numbers.

// cNumber is what C's strtoull reads at the start of a token.
type cNumber struct {
	mag   uint64 // the digits' value; meaningless when wide
	neg   bool   // a minus sign came before the digits
	wide  bool   // the digits exceed 64 bits (strtoull's ERANGE)
	valid bool   // at least one digit, followed by the token's end or white space
}

// isCSpace reports whether c is white space to C's isspace.
func isCSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// readCNumber reads b as strto(u)l(l) with base 10 does.
func readCNumber(b []byte) cNumber {
	var n cNumber
	i := 0
	for i < len(b) && isCSpace(b[i]) {
		i++
	}
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		n.neg = b[i] == '-'
		i++
	}
	start := i
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		d := uint64(b[i] - '0')
		if n.mag > (math.MaxUint64-d)/10 {
			n.wide = true
		}
		n.mag = n.mag*10 + d
	}
	n.valid = i > start && (i == len(b) || isCSpace(b[i]))
	return n
}

// cStrtol reports whether memcached's safe_strtol accepts b, and the int32
// it stores.
func cStrtol(b []byte) (int32, bool) {
	n := readCNumber(b)
	if !n.valid || n.wide {
		return 0, false
	}
	if n.neg {
		if n.mag > 1<<63 {
			return 0, false // below LONG_MIN: ERANGE
		}
		return int32(-int64(n.mag)), true
	}
	if n.mag > math.MaxInt64 {
		return 0, false // above LONG_MAX: ERANGE
	}
	return int32(int64(n.mag)), true
}

// cStrtoull reports whether memcached's safe_strtoull accepts b, and the
// value it stores: a negative number whose wrapped value looks negative as
// a signed one is refused when b holds a minus sign anywhere.
func cStrtoull(b []byte) (uint64, bool) {
	n := readCNumber(b)
	if !n.valid || n.wide {
		return 0, false
	}
	v := n.mag
	if n.neg {
		v = -v
	}
	if int64(v) < 0 && bytes.IndexByte(b, '-') >= 0 {
		return 0, false
	}
	return v, true
}

// cStrtoul reports whether memcached's safe_strtoul accepts b (the same
// rule as safe_strtoull, with a 64-bit unsigned long), and the uint32 it
// stores.
func cStrtoul(b []byte) (uint32, bool) {
	v, ok := cStrtoull(b)
	return uint32(v), ok
}
