package proxy

import (
	"errors"
	"math/rand"
	"strconv"
	"strings"
	"testing"

	"github.com/bradfitz/gomemcache/memcache"
)

// garbage returns n random bytes from seed, none of them the binary
// protocol's magic byte at the start.
func garbage(seed int64, n int) string {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	if b[0] == 0x80 {
		b[0] = 0
	}
	return string(b)
}

// keyLine returns a verb followed by n distinct keys and "\r\n".
func keyLine(verb string, n int) string {
	var b strings.Builder
	b.WriteString(verb)
	for i := range n {
		b.WriteString(" mk" + strconv.Itoa(i))
	}
	return b.String() + "\r\n"
}

// unchanged checks that key still holds value.
func unchanged(key, value string) func(*testing.T, *memcache.Client) {
	return func(t *testing.T, mc *memcache.Client) {
		t.Helper()
		it, err := mc.Get(key)
		if err != nil || string(it.Value) != value {
			t.Errorf("%s after the input: %v, %v; want %q", key, it, err, value)
		}
	}
}

// gone checks that key holds nothing.
func gone(key string) func(*testing.T, *memcache.Client) {
	return func(t *testing.T, mc *memcache.Client) {
		t.Helper()
		if it, err := mc.Get(key); !errors.Is(err, memcache.ErrCacheMiss) {
			t.Errorf("%s after the input: %v, %v; want a miss", key, it, err)
		}
	}
}

func hostileCases() []hostileCase {
	lineTooLong := &transcript{replies: "CLIENT_ERROR line too long\r\n", closed: true}
	return []hostileCase{
		// Lines.
		{name: "overlong_set_line", in: "set " + strings.Repeat("a", 300_000) + " 0 0 1\r\nb\r\n",
			want: lineTooLong, differs: "memcached hangs up without a word"},
		{name: "overlong_line_without_newline", in: strings.Repeat("x", 300_000),
			want: lineTooLong, differs: "memcached hangs up without a word"},
		{name: "overlong_get_line", in: "get " + strings.Repeat("k ", 140_000) + "\r\n",
			want: lineTooLong, differs: "memcached reads get lines of any length; hashproxy stops at max_line_length"},
		{name: "nul_bytes", in: "\x00\x00\x00\r\n"},
		{name: "http_request", in: "GET / HTTP/1.1\r\nHost: x\r\n\r\n"},
		{name: "binary_magic_byte", in: "\x80\x0a\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00",
			want:    &transcript{replies: "CLIENT_ERROR binary protocol not supported\r\n", closed: true},
			differs: "memcached speaks the binary protocol; hashproxy does not"},

		// Declared lengths.
		{name: "huge_declared_length", in: "set hk 0 0 2000000000\r\n",
			want:    &transcript{replies: "SERVER_ERROR object too large for cache\r\n", waiting: true},
			differs: "memcached holds its reply back until the refused block has arrived",
			after:   gone("hk")},
		{name: "declared_length_over_32_bits", in: "set hk 0 0 4294967297\r\nb\r\n",
			want:    &transcript{replies: "CLIENT_ERROR bad command line format\r\nERROR\r\n"},
			differs: "memcached truncates the length to 32 bits", after: unchanged("hk", "old")},
		{name: "negative_length", in: "set hk 0 0 -1\r\nb\r\n", after: unchanged("hk", "old")},
		{name: "length_longer_than_block", in: "set hk 0 0 10\r\nabc\r\nget hk\r\n", after: unchanged("hk", "old")},
		{name: "length_shorter_than_block", in: "set hk 0 0 1\r\nabc\r\n", after: unchanged("hk", "old")},

		// Numbers.
		{name: "negative_flags", in: "set hk -1 0 1\r\nb\r\n", after: unchanged("hk", "old")},
		{name: "flags_over_64_bits", in: "set hk 18446744073709551616 0 1\r\nb\r\n", after: unchanged("hk", "old")},
		{name: "exptime_over_64_bits", in: "set hk 0 99999999999999999999 1\r\nb\r\n", after: unchanged("hk", "old")},
		{name: "incr_delta_over_64_bits", in: "incr hn 18446744073709551616\r\n", after: unchanged("hn", "5")},
		{name: "negative_incr_delta", in: "decr hn -1\r\n", after: unchanged("hn", "5")},
		{name: "touch_exptime_garbage", in: "touch hk 1x\r\n", after: unchanged("hk", "old")},
		{name: "cas_unique_over_64_bits", in: "cas hk 0 0 1 18446744073709551616\r\nb\r\n", after: unchanged("hk", "old")},

		// Keys.
		{name: "control_byte_in_get_key", in: "get a\x01b\r\n",
			want:    &transcript{replies: "CLIENT_ERROR bad command line format\r\n"},
			differs: "keys with control characters are refused"},
		{name: "nul_in_set_key", in: "set hk\x00x 0 0 1\r\nb\r\n",
			want:    &transcript{replies: "CLIENT_ERROR bad command line format\r\n"},
			differs: "keys with control characters are refused", after: unchanged("hk", "old")},
		{name: "key_of_251_bytes", in: "get " + strings.Repeat("k", 251) + "\r\n"},

		// Garbage.
		{name: "random_garbage_1", in: garbage(1, 1000), slow: true},
		{name: "random_garbage_long", in: garbage(2, 100_000), check: onlyErrors, slow: true},
		{name: "random_garbage_many", in: garbage(4, 1_000_000), check: onlyErrors, slow: true},
		{name: "random_garbage_lines", in: strings.ReplaceAll(garbage(3, 3000), "\x80", "\n"), slow: true},

		// Many keys.
		{name: "get_10000_keys", in: keyLine("get", 10_000)},
		{name: "gets_10000_keys", in: keyLine("gets", 10_000)},
		{name: "get_10001_keys", in: keyLine("get", 10_001),
			want:    &transcript{replies: "CLIENT_ERROR too many keys\r\n"},
			differs: "max_keys bounds a retrieval; memcached has no such limit"},

		// Disconnects in the middle of a request.
		{name: "hangup_in_command_line", in: "get a b c", hangup: true},
		{name: "hangup_in_data_block", in: "set hk 0 0 10\r\nabc", hangup: true, after: unchanged("hk", "old")},
		{name: "hangup_in_large_data_block", in: "set hk 0 0 500000\r\n" + strings.Repeat("z", 100_000), hangup: true,
			after: unchanged("hk", "old")},
		{name: "hangup_after_10000_key_get", in: keyLine("get", 10_000), hangup: true},
		// Meta commands.
		{name: "meta_huge_declared_length", in: "ms hk 2000000000\r\n",
			want:    &transcript{replies: "SERVER_ERROR object too large for cache\r\n", waiting: true},
			differs: "memcached holds its reply back until the refused block has arrived",
			after:   gone("hk")},
		{name: "meta_length_over_32_bits", in: "ms hm 4294967297\r\nb\r\n"},
		{name: "meta_negative_length", in: "ms hk -1\r\nb\r\n", after: unchanged("hk", "old")},
		{name: "meta_length_shorter_than_block", in: "ms hk 1 q\r\nabc\r\n", after: unchanged("hk", "old")},
		{name: "meta_numbers_over_64_bits", in: "ma hn D18446744073709551616\r\nma hn J-1 N0\r\nms hk 1 C18446744073709551616\r\nb\r\n",
			after: unchanged("hn", "5")},
		{name: "meta_bad_base64_key", in: "mg !!!! b v\r\nms ==== 1 b\r\nb\r\nmd a b\r\n"},
		{name: "meta_nul_in_line", in: "mg hk\x00junk v\r\nmn\x00\r\n"},
		{name: "meta_repeated_flags", in: "mg hk " + strings.Repeat("v ", 100) + "\r\nms hk 1 " + strings.Repeat("q ", 30) + "\r\nb\r\n",
			after: unchanged("hk", "old")},
		{name: "meta_overlong_line", in: "mg hk v P" + strings.Repeat("x", 3000) + "\r\n", want: lineTooLong,
			differs: "memcached answers a meta line over 2048 bytes that arrives in one read, and hangs up on one it holds in pieces; hashproxy refuses it, so that a node never holds it"},
		{name: "quiet_meta_without_mn", in: strings.Repeat("mg hmiss q v\r\nmd hmiss q\r\n", 1000)},
		{name: "hangup_in_meta_data_block", in: "ms hk 10\r\nabc", hangup: true, after: unchanged("hk", "old")},
		{name: "hangup_after_pipelined_sets", in: strings.Repeat("set hp 0 0 1\r\n1\r\n", 1000) + "set hp 0 0 5\r\nab", hangup: true,
			after: unchanged("hp", "1")},
	}
}
