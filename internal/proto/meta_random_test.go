package proto

import (
	"math/rand"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"hashproxy/internal/testenv"
)

// metaVolatile matches reply tokens that may differ between two memcached
// instances or seconds: cas ids, TTLs, last-access times.
var metaVolatile = regexp.MustCompile(`( c| t| l|cas=|exp=|la=)-?\d+`)

// randomMetaLine returns a meta request (with an ms's data block) drawn
// from the shapes memcached distinguishes: every flag, repeated and
// unknown flags, numbers in the forms C's strtol reads and refuses, keys
// plain, base64 (valid or not), at and over the length limit.
func randomMetaLine(rng *rand.Rand) string {
	pick := func(s ...string) string { return s[rng.Intn(len(s))] }
	// No TTL expires during the test but -1's, at once: two memcached
	// clocks tick apart.
	numbers := []string{"0", "500", "+500", "-1", "-0", "\t700", "5x", "x", "", "4294967296", "4294967796",
		"99999999999999999999", "18446744073709551615", "9223372036854775808", "-9223372036854775809", "3000"}
	verb := pick("mg", "mg", "ms", "ms", "md", "ma", "me", "mn")
	key := pick("a", "b", "YQ==", "YWI=", "Y!Q=!=", "a\x01b", "q", strings.Repeat("k", 250), strings.Repeat("k", 251), "A===")
	var b strings.Builder
	b.WriteString(verb)
	if rng.Intn(20) > 0 {
		b.WriteString(" " + key)
	}
	size := 1
	if verb == "ms" {
		switch rng.Intn(6) {
		case 0:
			b.WriteString(" " + pick("x", "-1", "4294967297", "+1", "\t1"))
		case 1:
		default:
			size = rng.Intn(4)
			b.WriteString(" " + strconv.Itoa(size))
		}
	}
	for range rng.Intn(6) + rng.Intn(2)*rng.Intn(18) {
		f := pick("b", "c", "f", "h", "k", "l", "s", "t", "u", "v", "q", "P", "L", "I", "!", "x", "é", "O", "N", "T", "R", "F", "C", "J", "D", "M")
		switch f {
		case "O":
			f += strings.Repeat("o", []int{0, 5, 31, 32}[rng.Intn(4)])
		case "N", "T", "R", "F", "C", "J", "D":
			f += pick(numbers...)
		case "M":
			f += pick("E", "A", "P", "R", "S", "I", "+", "D", "-", "X", "", "EE")
		}
		b.WriteString(" " + f)
	}
	b.WriteString("\r\n")
	if verb == "ms" {
		b.WriteString(strings.Repeat("z", size) + "\r\n")
	}
	return b.String()
}

// TestMetaLinesMatchMemcached sends random meta requests, each with
// sentinel, to a memcached directly and through the parser to another:
// the replies, connection kept or closed, must be the same.
func TestMetaLinesMatchMemcached(t *testing.T) {
	if testing.Short() {
		t.Skip("random meta requests against memcached: not in -short")
	}
	direct := testenv.StartMemcached(t)
	proxied := testenv.StartMemcached(t)
	rng := rand.New(rand.NewSource(15))
	for i := range 3000 {
		in := randomMetaLine(rng)
		want, wantClosed := exchange(t, direct.Addr, in+sentinel)
		got, closed := throughParser(t, proxied.Addr, in+sentinel)
		want = metaVolatile.ReplaceAllString(want, "$1#")
		got = metaVolatile.ReplaceAllString(got, "$1#")
		if got != want || closed != wantClosed {
			t.Fatalf("request %d %q:\n got %q (closed %v)\nwant %q (closed %v)", i, in, got, closed, want, wantClosed)
		}
	}
}
