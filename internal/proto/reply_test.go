package proto

import (
	"bytes"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"hashproxy/internal/testenv"
)

// keysAC are the keys TestReadReply's retrievals ask for.
var keysAC = [][]byte{[]byte("a"), []byte("c")}

func TestReadReply(t *testing.T) {
	v10 := strings.Repeat("v", 10_000)
	tests := []struct {
		name   string
		cmd    Command
		in     string
		values int
		err    error  // nil: the whole input is the reply
		status Status // when err is nil
	}{
		{"miss", CmdGet, "END\r\n", 0, nil, StatusEnd},
		{"hit", CmdGet, "VALUE a 0 1\r\nb\r\nEND\r\n", 1, nil, StatusEnd},
		{"hits_with_cas", CmdGets, "VALUE a 1 1 5\r\nb\r\nVALUE c 4294967295 0 18446744073709551615\r\n\r\nEND\r\n", 2, nil, StatusEnd},
		{"value_with_crlf_inside", CmdGat, "VALUE a 0 4\r\n\r\n\r\n\r\nEND\r\n", 1, nil, StatusEnd},
		{"value_larger_than_buffer", CmdGats, "VALUE a 0 10000 1\r\n" + v10 + "\r\nEND\r\n", 1, nil, StatusEnd},
		{"retrieval_error", CmdGet, "SERVER_ERROR out of memory writing get response\r\n", 0, nil, StatusServerError},
		{"retrieval_client_error", CmdGet, "CLIENT_ERROR bad command line format\r\n", 0, nil, StatusClientError},
		{"error_after_values", CmdGet, "VALUE a 0 1\r\nb\r\nSERVER_ERROR out of memory\r\n", 1, nil, StatusServerError},
		{"stored", CmdSet, "STORED\r\n", 0, nil, StatusStored},
		{"not_stored", CmdAdd, "NOT_STORED\r\n", 0, nil, StatusNotStored},
		{"exists", CmdCas, "EXISTS\r\n", 0, nil, StatusExists},
		{"cas_not_found", CmdCas, "NOT_FOUND\r\n", 0, nil, StatusNotFound},
		{"storage_error", CmdAppend, "ERROR\r\n", 0, nil, StatusError},
		{"bad_data_chunk", CmdPrepend, "CLIENT_ERROR bad data chunk\r\n", 0, nil, StatusClientError},
		{"too_large", CmdReplace, "SERVER_ERROR object too large for cache\r\n", 0, nil, StatusServerError},
		{"deleted", CmdDelete, "DELETED\r\n", 0, nil, StatusDeleted},
		{"delete_miss", CmdDelete, "NOT_FOUND\r\n", 0, nil, StatusNotFound},
		{"incr_value", CmdIncr, "18446744073709551615\r\n", 0, nil, StatusNumber},
		{"decr_miss", CmdDecr, "NOT_FOUND\r\n", 0, nil, StatusNotFound},
		{"incr_non_numeric", CmdIncr, "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n", 0, nil, StatusClientError},
		{"touched", CmdTouch, "TOUCHED\r\n", 0, nil, StatusTouched},
		{"flush_all_ok", CmdFlushAll, "OK\r\n", 0, nil, StatusOK},
		{"verbosity_ok", CmdVerbosity, "OK\r\n", 0, nil, StatusOK},
		{"version", CmdVersion, "VERSION 1.6.18\r\n", 0, nil, StatusVersion},
		{"stats", CmdStats, "STAT pid 1\r\nSTAT uptime 2\r\nEND\r\n", 0, nil, StatusEnd},
		{"stats_error", CmdStats, "ERROR\r\n", 0, nil, StatusError},

		{"stored_to_get", CmdGet, "STORED\r\n", 0, ErrMalformedReply, 0},
		{"value_to_set", CmdSet, "VALUE a 0 1\r\nb\r\nEND\r\n", 0, ErrMalformedReply, 0},
		{"deleted_to_touch", CmdTouch, "DELETED\r\n", 0, ErrMalformedReply, 0},
		{"signed_incr_value", CmdIncr, "+5\r\n", 0, ErrMalformedReply, 0},
		{"empty_incr_value", CmdIncr, "\r\n", 0, ErrMalformedReply, 0},
		{"stats_garbage", CmdStats, "STAT a 1\r\nfoo\r\n", 0, ErrMalformedReply, 0},
		{"value_bad_flags", CmdGet, "VALUE a x 1\r\nb\r\nEND\r\n", 0, ErrMalformedReply, 0},
		{"value_flags_over_32_bits", CmdGet, "VALUE a 4294967296 1\r\nb\r\nEND\r\n", 0, ErrMalformedReply, 0},
		{"value_bad_cas", CmdGets, "VALUE a 0 1 x\r\nb\r\nEND\r\n", 0, ErrMalformedReply, 0},
		{"value_negative_length", CmdGet, "VALUE a 0 -1\r\nEND\r\n", 0, ErrMalformedReply, 0},
		{"value_double_space", CmdGet, "VALUE a  0 1\r\nb\r\nEND\r\n", 0, ErrMalformedReply, 0},
		{"value_without_key", CmdGet, "VALUE  0 1\r\nb\r\nEND\r\n", 0, ErrMalformedReply, 0},
		{"value_over_max_item_size", CmdGet, "VALUE a 0 20001\r\n", 0, ErrMalformedReply, 0},
		{"value_block_not_ending_in_crlf", CmdGet, "VALUE a 0 1\r\nbcd\r\nEND\r\n", 0, ErrMalformedReply, 0},
		{"line_without_cr", CmdSet, "STORED\n", 0, ErrMalformedReply, 0},
		{"line_longer_than_buffer", CmdGet, "VALUE " + strings.Repeat("k", 20000) + " 0 1\r\n", 0, ErrMalformedReply, 0},
		{"no_reply", CmdGet, "", 0, io.EOF, 0},
		{"truncated_line", CmdSet, "STOR", 0, io.ErrUnexpectedEOF, 0},
		{"truncated_value", CmdGet, "VALUE a 0 5\r\nab", 0, io.ErrUnexpectedEOF, 0},
		{"truncated_large_value", CmdGet, "VALUE a 0 10000\r\n" + v10[:5000], 0, io.ErrUnexpectedEOF, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for name, rd := range map[string]io.Reader{
				"whole":    strings.NewReader(tt.in),
				"one_byte": iotest.OneByteReader(strings.NewReader(tt.in)),
			} {
				rr := NewReplyReader(rd, 20_000)
				var res Result
				out, err := rr.ReadReply([]byte("prefix"), tt.cmd, keysAC, &res)
				if !errors.Is(err, tt.err) {
					t.Fatalf("%s: err = %v, want %v", name, err, tt.err)
				}
				if err != nil {
					continue
				}
				if string(out) != "prefix"+tt.in {
					t.Errorf("%s: out = %q, want %q", name, clip(string(out)), clip("prefix"+tt.in))
				}
				if len(res.Values) != tt.values || res.Status != tt.status {
					t.Errorf("%s: %d values, status %d; want %d, %d", name, len(res.Values), res.Status, tt.values, tt.status)
				}
			}
		})
	}
}

// TestReadReplyValues checks which asked key each VALUE block of a
// retrieval reply answers, and that a block for a key not asked for, or
// out of the asked order, is a malformed reply.
func TestReadReplyValues(t *testing.T) {
	const (
		va  = "VALUE a 0 1\r\n1\r\n"
		vb  = "VALUE b 0 1\r\n2\r\n"
		end = "END\r\n"
	)
	tests := []struct {
		name   string
		cmd    Command
		keys   string // space-separated
		reply  string
		hits   []int // the asked keys' indexes the blocks answer, in order
		status Status
		err    error
	}{
		{"miss", CmdGet, "a", end, nil, StatusEnd, nil},
		{"hit", CmdGet, "a", va + end, []int{0}, StatusEnd, nil},
		{"two_hits", CmdGet, "a b", va + vb + end, []int{0, 1}, StatusEnd, nil},
		{"hit_after_miss", CmdGets, "a b", vb + end, []int{1}, StatusEnd, nil},
		{"hit_before_miss", CmdGets, "a b", va + end, []int{0}, StatusEnd, nil},
		{"asked_twice_answered_twice", CmdGet, "a a", va + va + end, []int{0, 1}, StatusEnd, nil},
		{"asked_twice_answered_once", CmdGet, "a b a", va + vb + end, []int{0, 1}, StatusEnd, nil},
		{"gat", CmdGat, "a", va + end, []int{0}, StatusEnd, nil},
		{"error_line", CmdGet, "a", "SERVER_ERROR out of memory\r\n", nil, StatusServerError, nil},
		{"error_after_a_value", CmdGet, "a b", va + "SERVER_ERROR out of memory\r\n", []int{0}, StatusServerError, nil},
		{"client_error", CmdGets, "a", "CLIENT_ERROR bad command line format\r\n", nil, StatusClientError, nil},
		{"other_key", CmdGet, "a", vb + end, nil, 0, errForeignValue},
		{"key_prefix_of_asked_key", CmdGet, "ab", va + end, nil, 0, errForeignValue},
		{"asked_key_prefix_of_value_key", CmdGet, "a", "VALUE ab 0 1\r\n1\r\n" + end, nil, 0, errForeignValue},
		{"out_of_order", CmdGet, "a b", vb + va + end, nil, 0, errForeignValue},
		{"answered_twice_asked_once", CmdGet, "a", va + va + end, nil, 0, errForeignValue},
		{"nothing_asked", CmdGet, "", va + end, nil, 0, errForeignValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var keys [][]byte
			for _, k := range strings.Fields(tt.keys) {
				keys = append(keys, []byte(k))
			}
			rr := NewReplyReader(strings.NewReader(tt.reply), 0)
			res := Result{Values: []Value{{Key: 9, Start: 9, End: 9}}} // reused: must be reset
			out, err := rr.ReadReply([]byte("prefix"), tt.cmd, keys, &res)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err != nil {
				return
			}
			if res.Status != tt.status {
				t.Errorf("status %d, want %d", res.Status, tt.status)
			}
			var hits []int
			for _, v := range res.Values {
				hits = append(hits, v.Key)
				key, block, _, ok := nextValue(out[v.Start:])
				if !ok || string(block) != string(out[v.Start:v.End]) || string(key) != string(keys[v.Key]) {
					t.Errorf("value %+v spans %q, not the block of key %q", v, out[v.Start:v.End], keys[v.Key])
				}
			}
			if !slices.Equal(hits, tt.hits) {
				t.Errorf("values answer keys %v, want %v", hits, tt.hits)
			}
		})
	}
}

func TestReadReplyPipelined(t *testing.T) {
	replies := []struct {
		cmd    Command
		reply  string
		status Status
	}{
		{CmdSet, "STORED\r\n", StatusStored},
		{CmdGet, "VALUE a 0 1\r\nb\r\nEND\r\n", StatusEnd},
		{CmdIncr, "7\r\n", StatusNumber},
		{CmdGet, "END\r\n", StatusEnd},
		{CmdDelete, "DELETED\r\n", StatusDeleted},
	}
	var in strings.Builder
	for _, r := range replies {
		in.WriteString(r.reply)
	}
	rr := NewReplyReader(iotest.HalfReader(strings.NewReader(in.String())), 0)
	var out []byte
	var res Result
	for _, r := range replies {
		var err error
		out, err = rr.ReadReply(out[:0], r.cmd, keysAC, &res)
		if err != nil || string(out) != r.reply || res.Status != r.status {
			t.Fatalf("reply to %s = %q, status %d, %v; want %q, %d", r.cmd, out, res.Status, err, r.reply, r.status)
		}
	}
	if _, err := rr.ReadReply(out[:0], CmdGet, keysAC, &res); err != io.EOF {
		t.Fatalf("after the last reply: %v, want io.EOF", err)
	}
}

// TestReadReplyFromMemcached reads a real memcached's replies to every
// command the proxy forwards, and splits a multi-key gets reply.
func TestReadReplyFromMemcached(t *testing.T) {
	mc := testenv.StartMemcached(t)
	conn, err := net.Dial("tcp", mc.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	rr := NewReplyReader(conn, 0)
	big := strings.Repeat("z", 500_000)
	steps := []struct {
		send   string
		cmd    Command
		keys   string // a retrieval's, space-separated
		values int
	}{
		{"set a 1 0 1\r\nA\r\n", CmdSet, "", 0},
		{"set big 0 0 500000\r\n" + big + "\r\n", CmdSet, "", 0},
		{"add a 0 0 1\r\nx\r\n", CmdAdd, "", 0},
		{"gets a nope big\r\n", CmdGets, "a nope big", 2},
		{"gat 100 a\r\n", CmdGat, "a", 1},
		{"cas a 0 0 1 1\r\nx\r\n", CmdCas, "", 0},
		{"set n 0 0 1\r\n1\r\n", CmdSet, "", 0},
		{"incr n 41\r\n", CmdIncr, "", 0},
		{"decr nope 1\r\n", CmdDecr, "", 0},
		{"touch a 100\r\n", CmdTouch, "", 0},
		{"delete a\r\n", CmdDelete, "", 0},
		{"stats\r\n", CmdStats, "", 0},
		{"verbosity 0\r\n", CmdVerbosity, "", 0},
		{"version\r\n", CmdVersion, "", 0},
		{"flush_all\r\n", CmdFlushAll, "", 0},
	}
	var out []byte
	var res Result
	for _, s := range steps {
		if _, err := io.WriteString(conn, s.send); err != nil {
			t.Fatal(err)
		}
		var keys [][]byte
		for _, k := range strings.Fields(s.keys) {
			keys = append(keys, []byte(k))
		}
		out, err = rr.ReadReply(out[:0], s.cmd, keys, &res)
		if err != nil {
			t.Fatalf("%s: %v", s.cmd, err)
		}
		if len(res.Values) != s.values {
			t.Errorf("%s: %d values, want %d", s.cmd, len(res.Values), s.values)
		}
		if s.cmd == CmdGets && len(res.Values) == 2 {
			var got []string
			for _, v := range res.Values {
				got = append(got, string(keys[v.Key]))
				if !bytes.HasPrefix(out[v.Start:v.End], []byte("VALUE "+string(keys[v.Key])+" ")) {
					t.Errorf("value of %s spans %q", keys[v.Key], clip(string(out[v.Start:v.End])))
				}
			}
			if strings.Join(got, " ") != "a big" || string(out[res.Values[1].End:]) != "END\r\n" {
				t.Errorf("gets values for %q, then %q; want a big, then END", got, clip(string(out[res.Values[1].End:])))
			}
		}
	}
}
