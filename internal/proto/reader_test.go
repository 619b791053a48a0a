package proto

import (
	"errors"
	"io"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
)

// outcome renders one Read result: a request as forwarded upstream, or a
// refusal as its reply.
func outcome(req *Request, err error) string {
	var perr *Error
	switch {
	case errors.As(err, &perr):
		s := "refused " + strconv.Quote(string(perr.Reply))
		if perr.Close {
			s += " close"
		}
		return s
	case err != nil:
		return "error " + err.Error()
	}
	s := strconv.Quote(string(req.AppendUpstream(nil)))
	if req.NoReply {
		s += " noreply"
	}
	return s
}

// readAll reads requests from rd until an I/O error or a closing refusal
// (at most 1000), rendering each.
func readAll(rd io.Reader, lim Limits) []string {
	r := NewReader(rd, lim)
	var req Request
	var out []string
	for range 1000 {
		err := r.Read(&req)
		out = append(out, outcome(&req, err))
		var perr *Error
		if err != nil && (!errors.As(err, &perr) || perr.Close) {
			break
		}
	}
	return out
}

func TestReadFields(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Request
		up   string
	}{
		{"get_one_key", "get a\r\n", Request{Cmd: CmdGet, Keys: keys("a")}, "get a\r\n"},
		{"gets_many_keys", "gets a  b c\r\n", Request{Cmd: CmdGets, Keys: keys("a", "b", "c")}, "gets a b c\r\n"},
		{"gat_exptime_and_keys", "gat -5 a b\r\n", Request{Cmd: CmdGat, Exptime: -5, Keys: keys("a", "b")}, "gat -5 a b\r\n"},
		{"gats_plus_sign", "gats +7 a\r\n", Request{Cmd: CmdGats, Exptime: 7, Keys: keys("a")}, "gats 7 a\r\n"},
		{"get_noreply_is_a_key", "get a noreply\r\n", Request{Cmd: CmdGet, Keys: keys("a", "noreply")}, "get a noreply\r\n"},
		{"set", "set k 7 100 3\r\nabc\r\n", Request{Cmd: CmdSet, Keys: keys("k"), Flags: 7, Exptime: 100, Data: []byte("abc\r\n")}, "set k 7 100 3\r\nabc\r\n"},
		{"set_noreply_dropped_upstream", "set k 0 0 1 noreply\r\nx\r\n", Request{Cmd: CmdSet, Keys: keys("k"), NoReply: true, Data: []byte("x\r\n")}, "set k 0 0 1\r\nx\r\n"},
		{"add_sixth_token_dropped", "add k 0 0 1 junk\r\nx\r\n", Request{Cmd: CmdAdd, Keys: keys("k"), Data: []byte("x\r\n")}, "add k 0 0 1\r\nx\r\n"},
		{"replace_normalised", "replace  k  +1  -1  1\nx\r\n", Request{Cmd: CmdReplace, Keys: keys("k"), Flags: 1, Exptime: -1, Data: []byte("x\r\n")}, "replace k 1 -1 1\r\nx\r\n"},
		{"append", "append k 0 0 2\r\nxy\r\n", Request{Cmd: CmdAppend, Keys: keys("k"), Data: []byte("xy\r\n")}, "append k 0 0 2\r\nxy\r\n"},
		{"prepend", "prepend k 0 0 0\r\n\r\n", Request{Cmd: CmdPrepend, Keys: keys("k"), Data: []byte("\r\n")}, "prepend k 0 0 0\r\n\r\n"},
		{"cas", "cas k 1 2 1 18446744073709551615 noreply\r\nx\r\n", Request{Cmd: CmdCas, Keys: keys("k"), Flags: 1, Exptime: 2, CAS: 1<<64 - 1, NoReply: true, Data: []byte("x\r\n")}, "cas k 1 2 1 18446744073709551615\r\nx\r\n"},
		{"delete", "delete k\r\n", Request{Cmd: CmdDelete, Keys: keys("k")}, "delete k\r\n"},
		{"delete_hold_zero_noreply", "delete k 0 noreply\r\n", Request{Cmd: CmdDelete, Keys: keys("k"), NoReply: true}, "delete k\r\n"},
		{"incr", "incr k 18446744073709551615\r\n", Request{Cmd: CmdIncr, Keys: keys("k"), Delta: 1<<64 - 1}, "incr k 18446744073709551615\r\n"},
		{"decr_noreply", "decr k 5 noreply\r\n", Request{Cmd: CmdDecr, Keys: keys("k"), Delta: 5, NoReply: true}, "decr k 5\r\n"},
		{"touch", "touch k 2147483647\r\n", Request{Cmd: CmdTouch, Keys: keys("k"), Exptime: 1<<31 - 1}, "touch k 2147483647\r\n"},
		{"flush_all", "flush_all\r\n", Request{Cmd: CmdFlushAll}, "flush_all\r\n"},
		{"flush_all_delay_noreply", "flush_all 10 noreply\r\n", Request{Cmd: CmdFlushAll, Exptime: 10, NoReply: true, Args: keys("10")}, "flush_all 10\r\n"},
		{"flush_all_padded_delay", "flush_all +" + strings.Repeat("0", 3000) + "5\r\n", Request{Cmd: CmdFlushAll, Exptime: 5, Args: keys("+" + strings.Repeat("0", 3000) + "5")}, "flush_all 5\r\n"},
		{"verbosity", "verbosity 1\r\n", Request{Cmd: CmdVerbosity, Args: keys("1")}, "verbosity 1\r\n"},
		{"stats_args", "stats slabs  x\r\n", Request{Cmd: CmdStats, Args: keys("slabs", "x")}, "stats slabs x\r\n"},
		{"version_args_ignored", "version please\r\n", Request{Cmd: CmdVersion}, "version\r\n"},
		{"quit", "quit\r\n", Request{Cmd: CmdQuit}, "quit\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(strings.NewReader(tt.in), Limits{})
			var req Request
			if err := r.Read(&req); err != nil {
				t.Fatalf("Read: %v", err)
			}
			if !sameRequest(&req, &tt.want) {
				t.Errorf("Read = %+v\nwant %+v", req, tt.want)
			}
			if up := string(req.AppendUpstream(nil)); up != tt.up {
				t.Errorf("AppendUpstream = %q, want %q", up, tt.up)
			}
			if err := r.Read(&req); err != io.EOF {
				t.Errorf("second Read = %v, want io.EOF", err)
			}
		})
	}
}

func keys(s ...string) [][]byte {
	out := make([][]byte, len(s))
	for i, k := range s {
		out[i] = []byte(k)
	}
	return out
}

// sameRequest compares requests, treating nil and empty slices alike.
func sameRequest(a, b *Request) bool {
	norm := func(r *Request) Request {
		c := *r
		if len(c.Keys) == 0 {
			c.Keys = nil
		}
		if len(c.Args) == 0 {
			c.Args = nil
		}
		if len(c.Data) == 0 && c.Data != nil {
			c.Data = []byte{}
		}
		return c
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

func TestReadRefusals(t *testing.T) {
	small := Limits{MaxLineLength: 20, MaxItemSize: 10, MaxKeys: 3}
	tests := []struct {
		name string
		in   string
		lim  Limits
		want []string
	}{
		{"too_many_keys", "get a b c d\r\nget a b c\r\n", small,
			[]string{`refused "CLIENT_ERROR too many keys\r\n"`, `"get a b c\r\n"`, "error EOF"}},
		{"gat_keys_counted_after_exptime", "gat 1 a b c\r\n", small, []string{`"gat 1 a b c\r\n"`, "error EOF"}},
		{"line_at_limit", "get " + strings.Repeat("k", 16) + "\r\n", small,
			[]string{`"get ` + strings.Repeat("k", 16) + `\r\n"`, "error EOF"}},
		{"line_over_limit", "get " + strings.Repeat("k", 17) + "\r\n", small,
			[]string{`refused "CLIENT_ERROR line too long\r\n" close`}},
		{"line_over_limit_without_newline", strings.Repeat("k", 5000), small,
			[]string{`refused "CLIENT_ERROR line too long\r\n" close`}},
		{"line_over_default_limit", "get " + strings.Repeat("k ", 150_000) + "\r\n", Limits{},
			[]string{`refused "CLIENT_ERROR line too long\r\n" close`}},
		{"item_at_limit", "set a 0 0 10\r\n0123456789\r\n", small,
			[]string{`"set a 0 0 10\r\n0123456789\r\n"`, "error EOF"}},
		{"item_over_limit_block_skipped", "set a 0 0 11\r\n012345678\r\n\r\nget a\r\n", small,
			[]string{`refused "SERVER_ERROR object too large for cache\r\n"`, `"get a\r\n"`, "error EOF"}},
		{"item_over_limit_truncated", "set a 0 0 11\r\n0123", small,
			[]string{`refused "SERVER_ERROR object too large for cache\r\n"`, "error unexpected EOF"}},
		{"huge_declared_length", "set a 0 0 2147483645\r\n", Limits{},
			[]string{`refused "SERVER_ERROR object too large for cache\r\n"`, "error unexpected EOF"}},
		{"declared_length_over_int32_limit", "set a 0 0 2147483646\r\nget a\r\n", Limits{},
			[]string{`refused "CLIENT_ERROR bad command line format\r\n"`, `"get a\r\n"`, "error EOF"}},
		{"binary_magic_first", "\x80\x00", Limits{},
			[]string{`refused "CLIENT_ERROR binary protocol not supported\r\n" close`}},
		{"binary_magic_after_a_request_is_an_unknown_command", "get a\r\n\x80\x00\r\nget b\r\n", Limits{},
			[]string{`"get a\r\n"`, `refused "ERROR\r\n"`, `"get b\r\n"`, "error EOF"}},
		{"http_post", "POST /x HTTP/1.0\r\n", Limits{}, []string{`refused "" close`}},
		{"http_like_known_letter", "gx / HTTP/1.0\r\n", Limits{}, []string{`refused "ERROR\r\n"`, "error EOF"}},
		{"one_letter_verb", "G / HTTP/1.0\r\n", Limits{}, []string{`refused "ERROR\r\n"`, "error EOF"}},
		{"truncated_line", "get a", Limits{}, []string{"error unexpected EOF"}},
		{"truncated_data_block", "set a 0 0 5\r\nab", Limits{}, []string{"error unexpected EOF"}},
		{"truncated_large_data_block", "set a 0 0 9000\r\n" + strings.Repeat("x", 5000), Limits{}, []string{"error unexpected EOF"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := readAll(strings.NewReader(tt.in), tt.lim)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestReadSplitReads checks that how the stream is cut into reads does not
// change what is parsed: every wire case read whole, one byte at a time,
// in halves and in 4000-byte chunks.
func TestReadSplitReads(t *testing.T) {
	for _, c := range allWireCases() {
		t.Run(c.name, func(t *testing.T) {
			want := readAll(strings.NewReader(c.in), Limits{})
			for name, rd := range map[string]io.Reader{
				"one_byte": iotest.OneByteReader(strings.NewReader(c.in)),
				"half":     iotest.HalfReader(strings.NewReader(c.in)),
				"chunks":   &chunkReader{s: c.in, n: 4000},
			} {
				if got := readAll(rd, Limits{}); !reflect.DeepEqual(got, want) {
					t.Errorf("%s reads:\n got %q\nwant %q", name, clipAll(got), clipAll(want))
				}
			}
		})
	}
}

// chunkReader returns s in reads of at most n bytes.
type chunkReader struct {
	s string
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.s) == 0 {
		return 0, io.EOF
	}
	k := copy(p[:min(len(p), c.n)], c.s)
	c.s = c.s[k:]
	return k, nil
}

func clipAll(s []string) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = clip(x)
	}
	return out
}

func TestReadTooLargeSetReportsKey(t *testing.T) {
	r := NewReader(strings.NewReader("set k 0 0 11\r\n0123456789a\r\n"), Limits{MaxItemSize: 10})
	var req Request
	err := r.Read(&req)
	var perr *Error
	if !errors.As(err, &perr) || string(perr.Reply) != "SERVER_ERROR object too large for cache\r\n" {
		t.Fatalf("Read = %v, want too large", err)
	}
	if req.Cmd != CmdSet || len(req.Keys) != 1 || string(req.Keys[0]) != "k" {
		t.Errorf("request = %v %q, want set of k", req.Cmd, req.Keys)
	}
}

func TestReadSwallowsWithoutBuffering(t *testing.T) {
	in := "set a 0 0 1000000\r\n" + strings.Repeat("x", 1_000_000) + "\r\nget a\r\n"
	r := NewReader(iotest.HalfReader(strings.NewReader(in)), Limits{MaxItemSize: 100})
	var req Request
	if err := r.Read(&req); err == nil {
		t.Fatal("too large item accepted")
	}
	if err := r.Read(&req); err != nil || req.Cmd != CmdGet {
		t.Fatalf("after the skipped block: %v %v, want get", req.Cmd, err)
	}
	if cap(r.data) != 0 || cap(r.long) != 0 {
		t.Errorf("scratch grew to %d and %d bytes for a refused block", cap(r.data), cap(r.long))
	}
}

func TestReadDropsLargeScratch(t *testing.T) {
	in := "set a 0 0 100000\r\n" + strings.Repeat("x", 100_000) + "\r\n" + longGet + "get a\r\n"
	r := NewReader(strings.NewReader(in), Limits{})
	var req Request
	for i := range 3 {
		if err := r.Read(&req); err != nil {
			t.Fatalf("Read %d: %v", i, err)
		}
	}
	if cap(r.data) > keepScratch || cap(r.long) > keepScratch || cap(r.tok.s)*16 > keepScratch {
		t.Errorf("scratch kept: data %d, line %d, tokens %d", cap(r.data), cap(r.long), cap(r.tok.s))
	}
}

func TestBuffered(t *testing.T) {
	r := NewReader(strings.NewReader("get a\r\nget b\r\nset c 0 0 100\r\n"+strings.Repeat("x", 102)), Limits{MaxItemSize: 10})
	var req Request
	wants := []int{len("get b\r\nset c 0 0 100\r\n") + 102, len("set c 0 0 100\r\n") + 102, 0}
	for i, want := range wants {
		_ = r.Read(&req)
		if got := r.Buffered(); got != want {
			t.Errorf("after Read %d: Buffered = %d, want %d", i, got, want)
		}
	}
}

func TestReadStickyError(t *testing.T) {
	boom := errors.New("boom")
	r := NewReader(iotest.TimeoutReader(strings.NewReader("get a\r\nget b\r\n")), Limits{})
	var req Request
	_ = r.Read(&req)
	// Both lines came in the first read; the second read times out.
	if err := r.Read(&req); err != nil {
		t.Fatalf("buffered request: %v", err)
	}
	if err := r.Read(&req); !errors.Is(err, iotest.ErrTimeout) {
		t.Fatalf("Read = %v, want timeout", err)
	}
	if err := r.Read(&req); !errors.Is(err, iotest.ErrTimeout) {
		t.Fatalf("Read again = %v, want the same timeout", err)
	}
	r = NewReader(iotest.ErrReader(boom), Limits{})
	if err := r.Read(&req); !errors.Is(err, boom) {
		t.Fatalf("Read = %v, want %v", err, boom)
	}
}

func TestReadNoProgress(t *testing.T) {
	r := NewReader(emptyReader{}, Limits{})
	var req Request
	if err := r.Read(&req); !errors.Is(err, io.ErrNoProgress) {
		t.Fatalf("Read = %v, want io.ErrNoProgress", err)
	}
}

type emptyReader struct{}

func (emptyReader) Read([]byte) (int, error) { return 0, nil }

func TestErrorText(t *testing.T) {
	for _, e := range []*Error{errBadDataChunk.loud, errBadDataChunk.quiet, errLineTooLong, errHTTP} {
		if !strings.HasPrefix(e.Error(), "proto: ") || strings.ContainsAny(e.Error(), "\r\n") {
			t.Errorf("Error() = %q", e.Error())
		}
	}
}
