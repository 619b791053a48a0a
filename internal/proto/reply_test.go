package proto

import (
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"hashproxy/internal/testenv"
)

func TestReadReply(t *testing.T) {
	v10 := strings.Repeat("v", 10_000)
	tests := []struct {
		name   string
		cmd    Command
		in     string
		values int
		err    error // nil: the whole input is the reply
	}{
		{"miss", CmdGet, "END\r\n", 0, nil},
		{"hit", CmdGet, "VALUE a 0 1\r\nb\r\nEND\r\n", 1, nil},
		{"hits_with_cas", CmdGets, "VALUE a 1 1 5\r\nb\r\nVALUE c 4294967295 0 18446744073709551615\r\n\r\nEND\r\n", 2, nil},
		{"value_with_crlf_inside", CmdGat, "VALUE a 0 4\r\n\r\n\r\n\r\nEND\r\n", 1, nil},
		{"value_larger_than_buffer", CmdGats, "VALUE a 0 10000 1\r\n" + v10 + "\r\nEND\r\n", 1, nil},
		{"retrieval_error", CmdGet, "SERVER_ERROR out of memory writing get response\r\n", 0, nil},
		{"retrieval_client_error", CmdGet, "CLIENT_ERROR bad command line format\r\n", 0, nil},
		{"error_after_values", CmdGet, "VALUE a 0 1\r\nb\r\nSERVER_ERROR out of memory\r\n", 1, nil},
		{"stored", CmdSet, "STORED\r\n", 0, nil},
		{"not_stored", CmdAdd, "NOT_STORED\r\n", 0, nil},
		{"exists", CmdCas, "EXISTS\r\n", 0, nil},
		{"cas_not_found", CmdCas, "NOT_FOUND\r\n", 0, nil},
		{"storage_error", CmdAppend, "ERROR\r\n", 0, nil},
		{"bad_data_chunk", CmdPrepend, "CLIENT_ERROR bad data chunk\r\n", 0, nil},
		{"too_large", CmdReplace, "SERVER_ERROR object too large for cache\r\n", 0, nil},
		{"deleted", CmdDelete, "DELETED\r\n", 0, nil},
		{"delete_miss", CmdDelete, "NOT_FOUND\r\n", 0, nil},
		{"incr_value", CmdIncr, "18446744073709551615\r\n", 0, nil},
		{"decr_miss", CmdDecr, "NOT_FOUND\r\n", 0, nil},
		{"incr_non_numeric", CmdIncr, "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n", 0, nil},
		{"touched", CmdTouch, "TOUCHED\r\n", 0, nil},
		{"flush_all_ok", CmdFlushAll, "OK\r\n", 0, nil},
		{"verbosity_ok", CmdVerbosity, "OK\r\n", 0, nil},
		{"version", CmdVersion, "VERSION 1.6.18\r\n", 0, nil},
		{"stats", CmdStats, "STAT pid 1\r\nSTAT uptime 2\r\nEND\r\n", 0, nil},
		{"stats_error", CmdStats, "ERROR\r\n", 0, nil},

		{"stored_to_get", CmdGet, "STORED\r\n", 0, ErrMalformedReply},
		{"value_to_set", CmdSet, "VALUE a 0 1\r\nb\r\nEND\r\n", 0, ErrMalformedReply},
		{"deleted_to_touch", CmdTouch, "DELETED\r\n", 0, ErrMalformedReply},
		{"signed_incr_value", CmdIncr, "+5\r\n", 0, ErrMalformedReply},
		{"empty_incr_value", CmdIncr, "\r\n", 0, ErrMalformedReply},
		{"stats_garbage", CmdStats, "STAT a 1\r\nfoo\r\n", 0, ErrMalformedReply},
		{"value_bad_flags", CmdGet, "VALUE a x 1\r\nb\r\nEND\r\n", 0, ErrMalformedReply},
		{"value_flags_over_32_bits", CmdGet, "VALUE a 4294967296 1\r\nb\r\nEND\r\n", 0, ErrMalformedReply},
		{"value_bad_cas", CmdGets, "VALUE a 0 1 x\r\nb\r\nEND\r\n", 0, ErrMalformedReply},
		{"value_negative_length", CmdGet, "VALUE a 0 -1\r\nEND\r\n", 0, ErrMalformedReply},
		{"value_double_space", CmdGet, "VALUE a  0 1\r\nb\r\nEND\r\n", 0, ErrMalformedReply},
		{"value_without_key", CmdGet, "VALUE  0 1\r\nb\r\nEND\r\n", 0, ErrMalformedReply},
		{"value_over_max_item_size", CmdGet, "VALUE a 0 20001\r\n", 0, ErrMalformedReply},
		{"value_block_not_ending_in_crlf", CmdGet, "VALUE a 0 1\r\nbcd\r\nEND\r\n", 0, ErrMalformedReply},
		{"line_without_cr", CmdSet, "STORED\n", 0, ErrMalformedReply},
		{"line_longer_than_buffer", CmdGet, "VALUE " + strings.Repeat("k", 20000) + " 0 1\r\n", 0, ErrMalformedReply},
		{"no_reply", CmdGet, "", 0, io.EOF},
		{"truncated_line", CmdSet, "STOR", 0, io.ErrUnexpectedEOF},
		{"truncated_value", CmdGet, "VALUE a 0 5\r\nab", 0, io.ErrUnexpectedEOF},
		{"truncated_large_value", CmdGet, "VALUE a 0 10000\r\n" + v10[:5000], 0, io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for name, rd := range map[string]io.Reader{
				"whole":    strings.NewReader(tt.in),
				"one_byte": iotest.OneByteReader(strings.NewReader(tt.in)),
			} {
				rr := NewReplyReader(rd, 20_000)
				out, values, err := rr.ReadReply([]byte("prefix"), tt.cmd)
				if !errors.Is(err, tt.err) {
					t.Fatalf("%s: err = %v, want %v", name, err, tt.err)
				}
				if err != nil {
					continue
				}
				if string(out) != "prefix"+tt.in {
					t.Errorf("%s: out = %q, want %q", name, clip(string(out)), clip("prefix"+tt.in))
				}
				if values != tt.values {
					t.Errorf("%s: values = %d, want %d", name, values, tt.values)
				}
			}
		})
	}
}

func TestReadReplyPipelined(t *testing.T) {
	replies := []struct {
		cmd   Command
		reply string
	}{
		{CmdSet, "STORED\r\n"},
		{CmdGet, "VALUE a 0 1\r\nb\r\nEND\r\n"},
		{CmdIncr, "7\r\n"},
		{CmdGet, "END\r\n"},
		{CmdDelete, "DELETED\r\n"},
	}
	var in strings.Builder
	for _, r := range replies {
		in.WriteString(r.reply)
	}
	rr := NewReplyReader(iotest.HalfReader(strings.NewReader(in.String())), 0)
	var out []byte
	for _, r := range replies {
		var err error
		out, _, err = rr.ReadReply(out[:0], r.cmd)
		if err != nil || string(out) != r.reply {
			t.Fatalf("reply to %s = %q, %v; want %q", r.cmd, out, err, r.reply)
		}
	}
	if _, _, err := rr.ReadReply(out[:0], CmdGet); err != io.EOF {
		t.Fatalf("after the last reply: %v, want io.EOF", err)
	}
}

func TestNextValue(t *testing.T) {
	reply := []byte("VALUE a 0 1\r\nb\r\nVALUE cc 5 4 99\r\n\r\n\r\n\r\nEND\r\n")
	key, block, rest, ok := NextValue(reply)
	if !ok || string(key) != "a" || string(block) != "VALUE a 0 1\r\nb\r\n" {
		t.Fatalf("first = %q %q %v", key, block, ok)
	}
	key, block, rest, ok = NextValue(rest)
	if !ok || string(key) != "cc" || string(block) != "VALUE cc 5 4 99\r\n\r\n\r\n\r\n" {
		t.Fatalf("second = %q %q %v", key, block, ok)
	}
	if string(rest) != "END\r\n" {
		t.Fatalf("rest = %q", rest)
	}
	if _, _, _, ok := NextValue(rest); ok {
		t.Fatal("END taken for a value")
	}
	for _, bad := range []string{"", "VALUE a 0 1\r\nb", "VALUE a 0 1\r\nbc\r\n", "VALUE a 0\r\nb\r\n", "VALUE a 0 1", "SERVER_ERROR x\r\n"} {
		if _, _, _, ok := NextValue([]byte(bad)); ok {
			t.Errorf("NextValue(%q) ok", bad)
		}
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
		values int
	}{
		{"set a 1 0 1\r\nA\r\n", CmdSet, 0},
		{"set big 0 0 500000\r\n" + big + "\r\n", CmdSet, 0},
		{"add a 0 0 1\r\nx\r\n", CmdAdd, 0},
		{"gets a nope big\r\n", CmdGets, 2},
		{"gat 100 a\r\n", CmdGat, 1},
		{"cas a 0 0 1 1\r\nx\r\n", CmdCas, 0},
		{"set n 0 0 1\r\n1\r\n", CmdSet, 0},
		{"incr n 41\r\n", CmdIncr, 0},
		{"decr nope 1\r\n", CmdDecr, 0},
		{"touch a 100\r\n", CmdTouch, 0},
		{"delete a\r\n", CmdDelete, 0},
		{"stats\r\n", CmdStats, 0},
		{"verbosity 0\r\n", CmdVerbosity, 0},
		{"version\r\n", CmdVersion, 0},
		{"flush_all\r\n", CmdFlushAll, 0},
	}
	var out []byte
	for _, s := range steps {
		if _, err := io.WriteString(conn, s.send); err != nil {
			t.Fatal(err)
		}
		var values int
		out, values, err = rr.ReadReply(out[:0], s.cmd)
		if err != nil {
			t.Fatalf("%s: %v", s.cmd, err)
		}
		if values != s.values {
			t.Errorf("%s: %d values, want %d", s.cmd, values, s.values)
		}
		if s.cmd == CmdGets {
			var got []string
			for rest := out; ; {
				key, _, r, ok := NextValue(rest)
				if !ok {
					if string(rest) != "END\r\n" {
						t.Errorf("gets reply ends in %q", clip(string(rest)))
					}
					break
				}
				got = append(got, string(key))
				rest = r
			}
			if strings.Join(got, " ") != "a big" {
				t.Errorf("gets keys = %q, want a big", got)
			}
		}
	}
}
