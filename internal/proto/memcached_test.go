package proto

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"hashproxy/internal/testenv"
)

// wireCase is a byte stream a client sends, with the replies hashproxy
// gives to it. Each want was checked against a real memcached 1.6;
// TestWireCasesMatchMemcached checks it again whenever memcached is
// installed.
type wireCase struct {
	name string
	in   string
	want string
	// closed says the connection is closed after want.
	closed bool
	// differs, when set, says why hashproxy answers differently from
	// memcached on purpose, and memcached is memcached's answer.
	differs   string
	memcached string
	// memcachedClosed says memcached closes the connection after its
	// answer, when differs is set.
	memcachedClosed bool
	// memcachedWaits says memcached waits for more input after its answer
	// (it took the stream for the binary protocol): its answer is compared
	// without the sentinel.
	memcachedWaits bool
}

var (
	key250  = strings.Repeat("k", 250)
	key251  = strings.Repeat("k", 251)
	big     = strings.Repeat("x", 2_000_000)
	value10 = strings.Repeat("v", 10_000)
	// longGet is a retrieval line of about 50 KB, longer than the buffer.
	longGet = func() string {
		var b strings.Builder
		b.WriteString("get")
		for i := range 200 {
			fmt.Fprintf(&b, " %03d%s", i, strings.Repeat("k", 240))
		}
		return b.String() + "\r\n"
	}()
	manyTokens = "set a 0 0 1 noreply" + strings.Repeat(" x", 20) + "\r\n"
)

var wireCases = []wireCase{
	// Command lines.
	{name: "unknown_command", in: "foo\r\n", want: "ERROR\r\n"},
	{name: "empty_line", in: "\r\n", want: "ERROR\r\n"},
	{name: "bare_newline", in: "\n", want: "ERROR\r\n"},
	{name: "verb_is_case_sensitive", in: "GET a\r\n", want: "ERROR\r\n"},
	{name: "get_without_key", in: "get\r\n", want: "ERROR\r\n"},
	{name: "get_with_only_spaces", in: "get   \r\n", want: "ERROR\r\n"},
	{name: "newline_only_line_endings", in: "set a 0 0 1\nb\r\nget a\n", want: "STORED\r\nVALUE a 0 1\r\nb\r\nEND\r\n"},
	{name: "runs_of_spaces", in: "set  a 0  0 1 \r\nb\r\nget  a   b \r\n", want: "STORED\r\nVALUE a 0 1\r\nb\r\nEND\r\n"},
	{name: "too_many_tokens", in: manyTokens, want: "ERROR\r\n"},
	{name: "pipelined_mix", in: "set a 0 0 1\r\nb\r\nfoo\r\nget a zz\r\ndelete a\r\nget a\r\n",
		want: "STORED\r\nERROR\r\nVALUE a 0 1\r\nb\r\nEND\r\nDELETED\r\nEND\r\n"},
	{name: "long_get_line", in: longGet, want: "END\r\n"},
	{name: "http_request_hangs_up", in: "GET / HTTP/1.1\r\n", want: "", closed: true},
	{name: "quit", in: "quit\r\nget a\r\n", want: "", closed: true},
	{name: "binary_magic_byte", in: "\x80\x0a\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00",
		want: "CLIENT_ERROR binary protocol not supported\r\n", closed: true,
		differs: "the binary protocol is not supported", memcachedWaits: true, memcached: "\x81\x0a\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"},
	{name: "line_too_long", in: "set " + strings.Repeat("a", 300_000) + "\r\n",
		want: "CLIENT_ERROR line too long\r\n", closed: true,
		differs: "hashproxy says why it hangs up", memcached: "", memcachedClosed: true},

	// Keys.
	{name: "key_of_250_bytes", in: "set " + key250 + " 0 0 1\r\nb\r\nget " + key250 + "\r\n",
		want: "STORED\r\nVALUE " + key250 + " 0 1\r\nb\r\nEND\r\n"},
	{name: "get_key_of_251_bytes", in: "get a " + key251 + "\r\n", want: "CLIENT_ERROR bad command line format\r\n"},
	{name: "set_key_of_251_bytes", in: "set " + key251 + " 0 0 1\r\nb\r\n",
		want: "CLIENT_ERROR bad command line format\r\nERROR\r\n"},
	{name: "set_key_of_251_bytes_noreply", in: "set " + key251 + " 0 0 1 noreply\r\nb\r\n", want: "ERROR\r\n"},
	{name: "delete_key_of_251_bytes", in: "delete " + key251 + "\r\n", want: "CLIENT_ERROR bad command line format\r\n"},
	{name: "incr_key_of_251_bytes", in: "incr " + key251 + " 1\r\n", want: "CLIENT_ERROR bad command line format\r\n"},
	{name: "touch_key_of_251_bytes", in: "touch " + key251 + " 1\r\n", want: "CLIENT_ERROR bad command line format\r\n"},
	{name: "get_key_with_control_byte", in: "get a\x01b\r\n", want: "CLIENT_ERROR bad command line format\r\n",
		differs: "keys with control characters are refused", memcached: "END\r\n"},
	{name: "get_key_with_tab", in: "get a\tb\r\n", want: "CLIENT_ERROR bad command line format\r\n",
		differs: "keys with control characters are refused", memcached: "END\r\n"},
	{name: "get_key_ending_in_cr", in: "get a\r\r\n", want: "CLIENT_ERROR bad command line format\r\n",
		differs: "keys with control characters are refused", memcached: "END\r\n"},
	{name: "set_key_with_del_byte_skips_block", in: "set a\x7fb 0 0 1\r\nb\r\nget a\r\n",
		want:    "CLIENT_ERROR bad command line format\r\nEND\r\n",
		differs: "keys with control characters are refused", memcached: "STORED\r\nEND\r\n"},
	{name: "delete_key_with_control_byte", in: "delete a\x00b\r\n", want: "CLIENT_ERROR bad command line format\r\n",
		differs: "keys with control characters are refused", memcached: "NOT_FOUND\r\n"},

	// Storage command fields.
	{name: "set_missing_bytes", in: "set a 0 0\r\n", want: "ERROR\r\n"},
	{name: "set_negative_bytes", in: "set a 0 0 -1\r\n", want: "CLIENT_ERROR bad command line format\r\n"},
	{name: "set_non_numeric_bytes", in: "set a 0 0 x\r\n", want: "CLIENT_ERROR bad command line format\r\n"},
	{name: "set_bytes_over_int32", in: "set a 0 0 4294967297\r\nb\r\n", want: "CLIENT_ERROR bad command line format\r\nERROR\r\n",
		differs: "memcached truncates the length to 32 bits", memcached: "STORED\r\n"},
	{name: "set_non_numeric_flags_leaves_block", in: "set a x 0 1\r\nb\r\n", want: "CLIENT_ERROR bad command line format\r\nERROR\r\n"},
	{name: "set_negative_flags", in: "set a -1 0 1\r\nb\r\n", want: "CLIENT_ERROR bad command line format\r\nERROR\r\n"},
	{name: "set_largest_flags", in: "set a 4294967295 0 1\r\nb\r\nget a\r\n", want: "STORED\r\nVALUE a 4294967295 1\r\nb\r\nEND\r\n"},
	{name: "set_flags_over_32_bits", in: "set a 4294967296 0 1\r\nb\r\nget a\r\n", want: "CLIENT_ERROR bad command line format\r\nEND\r\n",
		differs: "memcached truncates flags to 32 bits", memcached: "STORED\r\nVALUE a 0 1\r\nb\r\nEND\r\n"},
	{name: "set_flags_over_64_bits", in: "set a 18446744073709551616 0 1\r\nb\r\n", want: "CLIENT_ERROR bad command line format\r\nERROR\r\n"},
	{name: "set_flags_with_plus_sign", in: "set a +5 0 1\r\nb\r\nget a\r\n", want: "STORED\r\nVALUE a 5 1\r\nb\r\nEND\r\n"},
	{name: "set_negative_exptime_expires", in: "set a 0 -1 1\r\nb\r\nget a\r\n", want: "STORED\r\nEND\r\n"},
	{name: "set_exptime_over_int32", in: "set a 0 4294967296 1\r\nb\r\nget a\r\n", want: "CLIENT_ERROR bad command line format\r\nEND\r\n",
		differs: "memcached truncates the expiration time to 32 bits", memcached: "STORED\r\nVALUE a 0 1\r\nb\r\nEND\r\n"},
	{name: "set_exptime_over_64_bits", in: "set a 0 99999999999999999999 1\r\nb\r\n", want: "CLIENT_ERROR bad command line format\r\nERROR\r\n"},
	{name: "set_sixth_token_ignored", in: "set a 0 0 1 foo\r\nb\r\n", want: "STORED\r\n"},
	{name: "set_noreply", in: "set a 0 0 1 noreply\r\nb\r\nget a\r\n", want: "VALUE a 0 1\r\nb\r\nEND\r\n"},
	{name: "set_noreply_in_place_of_bytes", in: "set a 0 0 noreply\r\nb\r\n", want: "ERROR\r\n"},
	{name: "binary_value", in: "set a 0 0 6\r\n\x00\r\n\x01\r\n\r\nget a\r\n", want: "STORED\r\nVALUE a 0 6\r\n\x00\r\n\x01\r\n\r\nEND\r\n"},
	{name: "empty_value", in: "set a 0 0 0\r\n\r\nget a\r\n", want: "STORED\r\nVALUE a 0 0\r\n\r\nEND\r\n"},
	{name: "value_larger_than_buffer", in: "set a 0 0 10000\r\n" + value10 + "\r\nget a\r\n",
		want: "STORED\r\nVALUE a 0 10000\r\n" + value10 + "\r\nEND\r\n"},
	{name: "data_block_too_long", in: "set a 0 0 1\r\nab\r\nget a\r\n", want: "CLIENT_ERROR bad data chunk\r\nERROR\r\nEND\r\n"},
	{name: "data_block_too_short", in: "set a 0 0 3\r\nab\r\nget a\r\n", want: "CLIENT_ERROR bad data chunk\r\nERROR\r\n"},
	{name: "data_block_newline_only", in: "set a 0 0 1\r\nb\nget a\r\n", want: "CLIENT_ERROR bad data chunk\r\nERROR\r\n"},
	{name: "bad_data_chunk_noreply", in: "set a 0 0 1 noreply\r\nbc\r\nget a\r\n", want: "ERROR\r\nEND\r\n"},
	{name: "object_too_large", in: "set a 0 0 2000000\r\n" + big + "\r\nget a\r\n", want: "SERVER_ERROR object too large for cache\r\nEND\r\n"},
	{name: "object_too_large_drops_old_value", in: "set a 0 0 1\r\nb\r\nset a 0 0 2000000\r\n" + big + "\r\nget a\r\n",
		want: "STORED\r\nSERVER_ERROR object too large for cache\r\nEND\r\n"},
	{name: "object_too_large_noreply", in: "set a 0 0 2000000 noreply\r\n" + big + "\r\nget a\r\n", want: "END\r\n"},
	{name: "append_missing", in: "append a 0 0 1\r\nb\r\n", want: "NOT_STORED\r\n"},
	{name: "prepend_existing", in: "set a 0 0 1\r\nb\r\nprepend a 0 0 1\r\nc\r\nget a\r\n", want: "STORED\r\nSTORED\r\nVALUE a 0 2\r\ncb\r\nEND\r\n"},
	{name: "add_replace", in: "add a 0 0 1\r\nb\r\nadd a 0 0 1\r\nc\r\nreplace zz 0 0 1\r\nd\r\n", want: "STORED\r\nNOT_STORED\r\nNOT_STORED\r\n"},
	{name: "cas_without_unique", in: "cas a 0 0 1\r\nb\r\n", want: "ERROR\r\nERROR\r\n"},
	{name: "cas_bad_unique", in: "cas a 0 0 1 x\r\nb\r\n", want: "CLIENT_ERROR bad command line format\r\nERROR\r\n"},
	{name: "cas_missing_item", in: "cas a 0 0 1 5\r\nb\r\n", want: "NOT_FOUND\r\n"},
	{name: "cas_noreply", in: "cas a 0 0 1 5 noreply\r\nb\r\n", want: ""},

	// Other commands.
	{name: "incr_missing_delta", in: "incr a\r\n", want: "ERROR\r\n"},
	{name: "incr_bad_delta", in: "incr a x\r\n", want: "CLIENT_ERROR invalid numeric delta argument\r\n"},
	{name: "incr_negative_delta", in: "incr a -1\r\n", want: "CLIENT_ERROR invalid numeric delta argument\r\n"},
	{name: "incr_delta_over_64_bits", in: "incr a 18446744073709551616\r\n", want: "CLIENT_ERROR invalid numeric delta argument\r\n"},
	{name: "incr_bad_delta_noreply", in: "incr a x noreply\r\n", want: ""},
	{name: "incr_wraps", in: "set n 0 0 1\r\n5\r\nincr n 18446744073709551615\r\n", want: "STORED\r\n4\r\n"},
	{name: "decr", in: "set n 0 0 2\r\n10\r\ndecr n 3\r\ndecr n 100\r\n", want: "STORED\r\n7\r\n0\r\n"},
	{name: "incr_non_numeric_value", in: "set n 0 0 1\r\nx\r\nincr n 1\r\n", want: "STORED\r\nCLIENT_ERROR cannot increment or decrement non-numeric value\r\n"},
	{name: "delete_hold_zero", in: "delete a 0\r\n", want: "NOT_FOUND\r\n"},
	{name: "delete_hold_nonzero", in: "delete a 1\r\n", want: "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n"},
	{name: "delete_extra_tokens", in: "delete a b c\r\n", want: "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n"},
	{name: "delete_noreply", in: "set a 0 0 1\r\nb\r\ndelete a noreply\r\nget a\r\n", want: "STORED\r\nEND\r\n"},
	{name: "delete_hold_zero_noreply", in: "delete a 0 noreply\r\n", want: ""},
	{name: "delete_bad_hold_noreply", in: "delete a x noreply\r\n", want: ""},
	{name: "delete_too_many_tokens", in: "delete a 0 noreply x\r\n", want: "ERROR\r\n"},
	{name: "touch_missing_exptime", in: "touch a\r\n", want: "ERROR\r\n"},
	{name: "touch_bad_exptime", in: "touch a x\r\n", want: "CLIENT_ERROR invalid exptime argument\r\n"},
	{name: "touch_bad_exptime_noreply", in: "touch a noreply\r\n", want: ""},
	{name: "touch_extra_token", in: "set a 0 0 1\r\nb\r\ntouch a 100 2\r\n", want: "STORED\r\nTOUCHED\r\n"},
	{name: "gat_without_keys", in: "gat 10\r\n", want: "END\r\n"},
	{name: "gat_without_exptime", in: "gat\r\n", want: "ERROR\r\n"},
	{name: "gat_bad_exptime", in: "gat x a\r\n", want: "CLIENT_ERROR invalid exptime argument\r\n"},
	{name: "gat_key_as_exptime", in: "gat a\r\n", want: "CLIENT_ERROR invalid exptime argument\r\n"},
	{name: "gat", in: "set a 0 0 1\r\nb\r\ngat 100 a zz\r\n", want: "STORED\r\nVALUE a 0 1\r\nb\r\nEND\r\n"},
	{name: "flush_all_bad_delay", in: "flush_all x\r\n", want: "CLIENT_ERROR invalid exptime argument\r\n"},
	{name: "flush_all_noreply", in: "set a 0 0 1\r\nb\r\nflush_all noreply\r\nget a\r\n", want: "STORED\r\nEND\r\n"},
	{name: "flush_all_delay_noreply", in: "flush_all 0 noreply\r\n", want: ""},
	{name: "flush_all_extra_token", in: "flush_all 0 foo\r\n", want: "OK\r\n"},
	{name: "flush_all_too_many_tokens", in: "flush_all 0 1 2\r\n", want: "ERROR\r\n"},
	{name: "verbosity_without_level", in: "verbosity\r\n", want: "ERROR\r\n"},
	{name: "verbosity", in: "verbosity 1\r\nverbosity 0 noreply\r\n", want: "OK\r\n"},
	{name: "verbosity_bad_level", in: "verbosity x\r\n", want: "CLIENT_ERROR bad command line format\r\n"},
	{name: "verbosity_too_many_tokens", in: "verbosity 1 2 3\r\n", want: "ERROR\r\n"},
	{name: "stats_unknown_group", in: "stats foo\r\n", want: "ERROR\r\n"},
}

// sentinel follows every case's input: its VERSION reply shows that the
// connection is still open and that everything before it was answered.
const sentinel = "version\r\n"

// TestWireCasesMatchMemcached sends each case to a real memcached and checks
// that it answers want (or, where hashproxy differs on purpose, what the
// case says memcached answers).
func TestWireCasesMatchMemcached(t *testing.T) {
	mc := testenv.StartMemcached(t)
	for _, c := range allWireCases() {
		t.Run(c.name, func(t *testing.T) {
			flushAll(t, mc.Addr)
			want, wantClosed := c.want, c.closed
			if c.differs != "" {
				want, wantClosed = c.memcached, c.memcachedClosed
			}
			if c.memcachedWaits {
				got := exchangeWaiting(t, mc.Addr, c.in, len(want))
				checkTranscript(t, got, false, want, false)
				return
			}
			got, closed := exchange(t, mc.Addr, c.in+sentinel)
			checkTranscript(t, got, closed, want, wantClosed)
		})
	}
}

// TestWireCasesThroughParser runs each case through a Reader, answering
// refused requests with their Error and forwarding the others as
// AppendUpstream encodes them to a real memcached, whose replies come back
// through a ReplyReader: the client must see want.
func TestWireCasesThroughParser(t *testing.T) {
	mc := testenv.StartMemcached(t)
	for _, c := range allWireCases() {
		t.Run(c.name, func(t *testing.T) {
			flushAll(t, mc.Addr)
			got, closed := throughParser(t, mc.Addr, c.in+sentinel)
			checkTranscript(t, got, closed, c.want, c.closed)
		})
	}
}

func checkTranscript(t *testing.T, got string, closed bool, want string, wantClosed bool) {
	t.Helper()
	if closed != wantClosed {
		t.Errorf("connection closed = %v, want %v (replies %q)", closed, wantClosed, clip(got))
	}
	if got != want {
		t.Errorf("replies:\n got %q\nwant %q", clip(got), clip(want))
	}
}

// exchange writes in to a fresh connection to addr and returns what comes
// back up to the sentinel's VERSION reply (which it strips), or up to the
// server closing the connection.
func exchange(t *testing.T, addr, in string) (string, bool) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	go func() { _, _ = io.WriteString(conn, in) }()
	var out []byte
	buf := make([]byte, 64<<10)
	for {
		n, err := conn.Read(buf)
		out = append(out, buf[:n]...)
		if rest, ok := cutVersion(out); ok {
			return string(rest), false
		}
		if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || isReset(err) {
			return string(out), true
		}
		if err != nil {
			t.Fatalf("reading replies: %v (so far %q)", err, clip(string(out)))
		}
	}
}

// exchangeWaiting writes in to a fresh connection to addr and returns the
// first n bytes that come back.
func exchangeWaiting(t *testing.T, addr, in string, n int) string {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(conn, in); err != nil {
		t.Fatal(err)
	}
	out := make([]byte, n)
	if _, err := io.ReadFull(conn, out); err != nil {
		t.Fatalf("reading %d bytes of replies: %v", n, err)
	}
	return string(out)
}

func isReset(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection reset")
}

// throughParser plays a minimal proxy for one client stream, in.
func throughParser(t *testing.T, addr, in string) (string, bool) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	rd := NewReader(strings.NewReader(in), Limits{})
	up := NewReplyReader(conn, 0)
	var (
		req Request
		out []byte
		wr  []byte
		res Result
	)
	for {
		err := rd.Read(&req)
		var perr *Error
		switch {
		case errors.As(err, &perr):
			out = append(out, perr.Reply...)
			if perr.Close {
				return string(out), true
			}
			if perr.Invalidate && len(req.Keys) == 1 {
				// A set or ms refused as too large: drop the old value,
				// as memcached does.
				del, cmd := req.AppendInvalidate(wr[:0])
				if _, err := conn.Write(del); err != nil {
					t.Fatal(err)
				}
				if _, err := up.ReadReply(nil, cmd, nil, &res); err != nil {
					t.Fatal(err)
				}
			}
			continue
		case err != nil:
			t.Fatalf("read request: %v", err)
		case req.Cmd == CmdQuit:
			return string(out), true
		case req.Cmd == CmdMn:
			out = append(out, ReplyMN...)
			continue
		}
		wr = req.AppendUpstream(wr[:0])
		if _, err := conn.Write(wr); err != nil {
			t.Fatal(err)
		}
		before := len(out)
		var keys [][]byte
		if req.Cmd.Retrieval() {
			keys = req.Keys
		}
		out, err = up.ReadReply(out, req.ReplyCommand(), keys, &res)
		if err != nil {
			t.Fatalf("read reply to %q: %v", clip(string(wr)), err)
		}
		if req.NoReply {
			out = out[:before]
		}
		out = out[:before+len(req.QuietMode().Visible(res.Status, out[before:]))]
		if req.Cmd == CmdVersion {
			rest, ok := cutVersion(out)
			if !ok {
				t.Fatalf("no VERSION reply in %q", clip(string(out)))
			}
			return string(rest), false
		}
	}
}

// cutVersion strips a final "VERSION ...\r\n" line off out.
func cutVersion(out []byte) ([]byte, bool) {
	if !bytes.HasSuffix(out, []byte("\r\n")) {
		return nil, false
	}
	i := bytes.LastIndex(out, []byte("VERSION "))
	if i < 0 || (i > 0 && out[i-1] != '\n') || bytes.IndexByte(out[i:], '\n') != len(out[i:])-1 {
		return nil, false
	}
	return out[:i], true
}

func flushAll(t *testing.T, addr string) {
	t.Helper()
	got, closed := exchange(t, addr, "flush_all\r\n"+sentinel)
	if got != "OK\r\n" || closed {
		t.Fatalf("flush_all: %q closed=%v", got, closed)
	}
}

// clip shortens long transcripts in failure messages.
func clip(s string) string {
	if len(s) > 300 {
		return s[:300] + fmt.Sprintf("...(%d bytes)", len(s))
	}
	return s
}
