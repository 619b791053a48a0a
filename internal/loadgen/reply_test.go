package loadgen

import (
	"bufio"
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"
)

func TestParseValueLine(t *testing.T) {
	for _, c := range []struct {
		line  string
		key   string
		flags uint32
		size  int
		ok    bool
	}{
		{"VALUE k 0 5", "k", 0, 5, true},
		{"VALUE key:1 4294967295 1048576", "key:1", 4294967295, 1048576, true},
		{"VALUE k 1 2 18446744073709551615", "k", 1, 2, true},
		{"VALUE k 0 0", "k", 0, 0, true},
		{"VALUE k 4294967296 5", "", 0, 0, false},
		{"VALUE k 0 1073741825", "", 0, 0, false},
		{"VALUE k 1 2 18446744073709551616", "", 0, 0, false},
		{"VALUE k 0 5 ", "", 0, 0, false},
		{"VALUE k 0 5 1 2", "", 0, 0, false},
		{"VALUE k  0 5", "", 0, 0, false},
		{"VALUE  k 0 5", "", 0, 0, false},
		{"VALUE k 0", "", 0, 0, false},
		{"VALUE k -1 5", "", 0, 0, false},
		{"VALUE k 0 +5", "", 0, 0, false},
		{"VALUE k 0 5x", "", 0, 0, false},
		{"VALUE", "", 0, 0, false},
		{"VALUE ", "", 0, 0, false},
		{"value k 0 5", "", 0, 0, false},
		{"END", "", 0, 0, false},
	} {
		key, flags, size, ok := parseValueLine([]byte(c.line))
		if ok != c.ok || string(key) != c.key || flags != c.flags || size != c.size {
			t.Errorf("parseValueLine(%q) = %q %d %d %v; want %q %d %d %v", c.line, key, flags, size, ok, c.key, c.flags, c.size, c.ok)
		}
	}
}

// getReply builds memcached's reply to a get of keys, all present.
func getReply(ks *keyspace, keys ...uint32) string {
	var b strings.Builder
	for _, k := range keys {
		b.WriteString("VALUE " + string(ks.appendKey(nil, k)) + " " + strconv.Itoa(int(ks.flags(k))) + " " + strconv.Itoa(ks.size) + "\r\n")
		b.Write(value(ks, k))
		b.WriteString("\r\n")
	}
	b.WriteString("END\r\n")
	return b.String()
}

func TestReadGetReply(t *testing.T) {
	ks := newKeyspace("k:", 100, 20)
	one := getReply(ks, 1)
	flipped := strings.Replace(one, string(value(ks, 1)[15:]), "#####", 1)
	otherFlags := strings.Replace(one, " "+strconv.Itoa(int(ks.flags(1)))+" ", " 7 ", 1)
	for _, c := range []struct {
		name    string
		want    []uint32
		reply   string
		hits    int
		problem string
		outOf   bool // out of step: the connection must go
		ioErr   bool
	}{
		{name: "hit", want: []uint32{1}, reply: one, hits: 1},
		{name: "miss", want: []uint32{1}, reply: "END\r\n"},
		{name: "multi all", want: []uint32{1, 2, 3}, reply: getReply(ks, 1, 2, 3), hits: 3},
		{name: "multi some", want: []uint32{1, 2, 3}, reply: getReply(ks, 1, 3), hits: 2},
		{name: "multi repeated key", want: []uint32{4, 4}, reply: getReply(ks, 4, 4), hits: 2},
		{name: "multi out of order", want: []uint32{1, 2}, reply: getReply(ks, 2, 1), hits: 1, problem: problemKey},
		{name: "another key", want: []uint32{1}, reply: getReply(ks, 2), problem: problemKey},
		{name: "key outside the key space", want: []uint32{1}, reply: "VALUE zz 0 2\r\nab\r\nEND\r\n", problem: problemKey},
		{name: "flipped byte", want: []uint32{1}, reply: flipped, problem: problemValue},
		{name: "wrong flags", want: []uint32{1}, reply: otherFlags, problem: problemFlags},
		{name: "wrong size", want: []uint32{1}, reply: "VALUE k:1 0 3\r\nabc\r\nEND\r\n", problem: problemValue},
		{name: "server error", want: []uint32{1}, reply: "SERVER_ERROR out of memory\r\n", problem: problemErrorReply},
		{name: "error", want: []uint32{1}, reply: "ERROR\r\n", problem: problemErrorReply},
		{name: "error after a value", want: []uint32{1, 2}, reply: strings.TrimSuffix(getReply(ks, 1), "END\r\n") + "SERVER_ERROR x\r\n", hits: 1, outOf: true},
		{name: "stored", want: []uint32{1}, reply: "STORED\r\n", outOf: true},
		{name: "bare newline", want: []uint32{1}, reply: "END\n", outOf: true},
		{name: "data without crlf", want: []uint32{1}, reply: strings.Replace(one, "\r\nEND", "xxEND", 1), outOf: true},
		{name: "wrong size without crlf", want: []uint32{1}, reply: "VALUE k:1 0 3\r\nabcdEND\r\n", problem: problemValue, outOf: true},
		{name: "truncated value", want: []uint32{1}, reply: one[:30], ioErr: true},
		{name: "truncated line", want: []uint32{1}, reply: "VALU", ioErr: true},
		{name: "empty", want: []uint32{1}, reply: "", ioErr: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := bufio.NewReaderSize(strings.NewReader(c.reply), 64)
			hits, problem, err := readGetReply(r, ks, c.want)
			if hits != c.hits || problem != c.problem {
				t.Errorf("hits %d problem %q; want %d %q", hits, problem, c.hits, c.problem)
			}
			switch {
			case c.outOf && !errors.Is(err, errOutOfStep):
				t.Errorf("err = %v, want out of step", err)
			case c.ioErr && (err == nil || errors.Is(err, errOutOfStep)):
				t.Errorf("err = %v, want a read error", err)
			case !c.outOf && !c.ioErr && err != nil:
				t.Errorf("err = %v", err)
			}
			if err == nil && r.Buffered() != 0 {
				t.Errorf("%d bytes left after the reply", r.Buffered())
			}
		})
	}
}

func TestReadGetReplyLongLine(t *testing.T) {
	ks := newKeyspace("k:", 10, 5)
	r := bufio.NewReaderSize(strings.NewReader(strings.Repeat("x", 100)+"\r\n"), 16)
	if _, _, err := readGetReply(r, ks, []uint32{1}); !errors.Is(err, errOutOfStep) {
		t.Errorf("err = %v, want out of step", err)
	}
}

func TestReadSetReply(t *testing.T) {
	for _, c := range []struct {
		reply   string
		problem string
		fails   bool
	}{
		{"STORED\r\n", problemNone, false},
		{"SERVER_ERROR out of memory storing object\r\n", problemErrorReply, false},
		{"CLIENT_ERROR bad data chunk\r\n", problemErrorReply, false},
		{"NOT_STORED\r\n", problemNone, true},
		{"END\r\n", problemNone, true},
		{"STORED", problemNone, true},
	} {
		problem, err := readSetReply(bufio.NewReader(strings.NewReader(c.reply)))
		if problem != c.problem || (err != nil) != c.fails {
			t.Errorf("readSetReply(%q) = %q, %v; want %q, fails %v", c.reply, problem, err, c.problem, c.fails)
		}
	}
}

func FuzzParseValueLine(f *testing.F) {
	for _, s := range []string{"VALUE k 0 5", "VALUE k 1 2 3", "VALUE k 0 5 ", "VALUE  k 0 5", "VALUE k 4294967296 1",
		"VALUE k 0 1073741824", "VALUE k 0 99999999999999999999", "END", "VALUE", "VALUE k\x00 0 1"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		key, flags, size, ok := parseValueLine(line)
		if !ok {
			return
		}
		if len(key) == 0 || bytes.IndexByte(key, ' ') >= 0 || size < 0 || size > maxDeclaredSize {
			t.Fatalf("accepted %q as key %q size %d", line, key, size)
		}
		fields := strings.Split(string(line), " ")
		if len(fields) != 4 && len(fields) != 5 || fields[0] != "VALUE" || fields[1] != string(key) {
			t.Fatalf("accepted %q: fields %q, key %q", line, fields, key)
		}
		if f, err := strconv.ParseUint(fields[2], 10, 32); err != nil || uint32(f) != flags {
			t.Fatalf("accepted %q: flags %d, strconv says %d, %v", line, flags, f, err)
		}
		if n, err := strconv.ParseUint(fields[3], 10, 64); err != nil || n != uint64(size) {
			t.Fatalf("accepted %q: size %d, strconv says %d, %v", line, size, n, err)
		}
		if len(fields) == 5 {
			if _, err := strconv.ParseUint(fields[4], 10, 64); err != nil {
				t.Fatalf("accepted %q with cas %q: %v", line, fields[4], err)
			}
		}
	})
}

func FuzzReadGetReply(f *testing.F) {
	ks := newKeyspace("k:", 100, 8)
	f.Add([]byte(getReply(ks, 1, 2)), uint8(2))
	f.Add([]byte("END\r\n"), uint8(1))
	f.Add([]byte("VALUE k:1 0 8\r\nk:1xxxxx\r\nEND\r\n"), uint8(1))
	f.Add([]byte("VALUE k:1 0 1073741824\r\n"), uint8(1))
	f.Add([]byte("SERVER_ERROR x\r\nEND\r\n"), uint8(1))
	f.Add([]byte("VALUE k:2 0 8\r\n\r\n\r\n\r\n\r\nEND\r\n"), uint8(3))
	f.Fuzz(func(t *testing.T, reply []byte, n uint8) {
		want := make([]uint32, int(n%10)+1)
		for i := range want {
			want[i] = uint32(i + 1)
		}
		r := bufio.NewReaderSize(bytes.NewReader(reply), 64)
		hits, problem, err := readGetReply(r, ks, want)
		if hits < 0 || hits > len(want) {
			t.Fatalf("%d hits for %d keys", hits, len(want))
		}
		// Every hit needs its own right value somewhere in the reply.
		right := 0
		for _, k := range want {
			right += bytes.Count(reply, value(ks, k))
		}
		if hits > right {
			t.Fatalf("%d hits but %d right values in %q (problem %q, err %v)", hits, right, reply, problem, err)
		}
	})
}
