package proto

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func TestDecodeBase64Key(t *testing.T) {
	tests := []struct{ in, want string }{
		{"YQ==", "a"},
		{"YWI=", "ab"},
		{"YWJj", "abc"},
		{"YSBiDQo=", "a b\r\n"},
		{"Y!Q=!=", "a"},          // bytes outside the alphabet are skipped
		{"YQ==Yg==", "a"},        // decoding stops at the first padding
		{"YWJjZA==YWI=", "abcd"}, // whatever follows it is ignored
		{"YWJjZA==YQ", ""},       // but counts towards a multiple of 4
		{"Zm9v\tYmFy", "foobar"},
		{"a", ""},
		{"YQ", ""},        // not a multiple of 4
		{"A===", ""},      // three padding bytes
		{"====", ""},      // only padding
		{"!!!!", ""},      // nothing in the alphabet
		{"Y===", ""},      // three padding bytes in the last block
		{"YQ=a", "a\x00"}, // padding counts wherever it is in the block
	}
	for _, tt := range tests {
		var dst [maxDecodedKey]byte
		n := decodeBase64Key(dst[:], []byte(tt.in))
		if got := string(dst[:n]); got != tt.want {
			t.Errorf("decodeBase64Key(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	// Every standard encoding of a key decodes back to it.
	for _, key := range []string{"a", "key with spaces", "\x00\xff\r\n", strings.Repeat("k", maxDecodedKey)} {
		enc := base64.StdEncoding.EncodeToString([]byte(key))
		var dst [maxDecodedKey]byte
		if n := decodeBase64Key(dst[:], []byte(enc)); string(dst[:n]) != key {
			t.Errorf("decodeBase64Key(%q) = %q, want %q", enc, dst[:n], key)
		}
	}
}

func TestCNumbers(t *testing.T) {
	long := []struct {
		in   string
		want int32
		ok   bool
	}{
		{"5", 5, true}, {"+5", 5, true}, {"-5", -5, true}, {"\t 5", 5, true}, {"5\tx", 5, true},
		{"", 0, false}, {"+", 0, false}, {"x", 0, false}, {"5x", 0, false}, {"0x10", 0, false},
		{"4294967297", 1, true},           // truncated to 32 bits
		{"9223372036854775807", -1, true}, // LONG_MAX, truncated
		{"9223372036854775808", 0, false}, // beyond LONG_MAX: ERANGE
		{"-9223372036854775808", 0, true}, // LONG_MIN
		{"-9223372036854775809", 0, false},
	}
	for _, tt := range long {
		if got, ok := cStrtol([]byte(tt.in)); got != tt.want || ok != tt.ok {
			t.Errorf("cStrtol(%q) = %d, %v, want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
	ull := []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"18446744073709551615", 1<<64 - 1, true},
		{"18446744073709551616", 0, false}, // ERANGE
		{"-1", 0, false},                   // wraps to a "negative" value with a minus sign
		{"-0", 0, true},
		{"-9223372036854775809", 1<<63 - 1, true}, // wraps to a positive value
		{"18446744073709551615\t-", 0, false},     // a minus sign anywhere counts
	}
	for _, tt := range ull {
		if got, ok := cStrtoull([]byte(tt.in)); got != tt.want || ok != tt.ok {
			t.Errorf("cStrtoull(%q) = %d, %v, want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
	if got, ok := cStrtoul([]byte("4294967301")); got != 5 || !ok {
		t.Errorf("cStrtoul(4294967301) = %d, %v, want 5 (truncated), true", got, ok)
	}
}

func TestReadMeta(t *testing.T) {
	tests := []struct {
		name, in        string
		key             string
		args            []string
		quiet           Quiet
		replyCmd        Command
		upstream, data  string
		base64, refused bool
	}{
		{name: "mg", in: "mg a v f\r\n", key: "a", args: []string{"a", "v", "f"}, upstream: "mg a v f\r\n", replyCmd: CmdMg},
		{name: "mg_quiet", in: "mg  a  q v\r\n", key: "a", args: []string{"a", "q", "v"}, quiet: QuietMiss, upstream: "mg a v\r\n", replyCmd: CmdMg},
		{name: "mg_base64", in: "mg YSBi b k\r\n", key: "a b", args: []string{"YSBi", "b", "k"}, base64: true, upstream: "mg YSBi b k\r\n", replyCmd: CmdMg},
		{name: "ms", in: "ms a 2 T0 q\r\nxy\r\n", key: "a", args: []string{"a", "2", "T0", "q"}, quiet: QuietHD, upstream: "ms a 2 T0\r\nxy\r\n", replyCmd: CmdMs},
		{name: "ms_q_key", in: "ms q 1 q\r\nx\r\n", key: "q", args: []string{"q", "1", "q"}, quiet: QuietHD, upstream: "ms q 1\r\nx\r\n", replyCmd: CmdMs},
		{name: "md", in: "md a q I\r\n", key: "a", args: []string{"a", "q", "I"}, quiet: QuietHD, upstream: "md a I\r\n", replyCmd: CmdMd},
		{name: "ma_quiet_keeps_q", in: "ma a q N0\r\n", key: "a", args: []string{"a", "q", "N0"}, quiet: QuietUntilMN, upstream: "ma a q N0\r\nmn\r\n", replyCmd: CmdMn},
		{name: "me", in: "me YQ== b x y\r\n", key: "a", args: []string{"YQ==", "b"}, base64: true, upstream: "me YQ== b\r\n", replyCmd: CmdMe},
		{name: "me_plain", in: "me a v\r\n", key: "a", args: []string{"a"}, upstream: "me a\r\n", replyCmd: CmdMe},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(strings.NewReader(tt.in), Limits{})
			var req Request
			if err := r.Read(&req); err != nil {
				t.Fatal(err)
			}
			var args []string
			for _, a := range req.Args {
				args = append(args, string(a))
			}
			if len(req.Keys) != 1 || string(req.Keys[0]) != tt.key || strings.Join(args, "|") != strings.Join(tt.args, "|") {
				t.Errorf("keys %q args %q, want key %q args %q", req.Keys, args, tt.key, tt.args)
			}
			if req.QuietMode() != tt.quiet || req.ReplyCommand() != tt.replyCmd || req.Base64Key != tt.base64 {
				t.Errorf("quiet %v reply command %v base64 %v", req.QuietMode(), req.ReplyCommand(), req.Base64Key)
			}
			if up := string(req.AppendUpstream(nil)); up != tt.upstream {
				t.Errorf("upstream %q, want %q", up, tt.upstream)
			}
		})
	}
}

func TestMetaLineLimit(t *testing.T) {
	pad := func(n int) string { return "mg a P" + strings.Repeat("x", n-len("mg a P")) + "\r\n" }
	var req Request
	if err := NewReader(strings.NewReader(pad(maxMetaLine-2)), Limits{}).Read(&req); err != nil {
		t.Errorf("line of %d bytes: %v", maxMetaLine, err)
	}
	err := NewReader(strings.NewReader(pad(maxMetaLine-1)), Limits{}).Read(&req)
	var perr *Error
	if !errors.As(err, &perr) || !perr.Close {
		t.Errorf("line of %d bytes: %v, want a refusal that closes", maxMetaLine+1, err)
	}
}

func TestQuietVisible(t *testing.T) {
	tests := []struct {
		q           Quiet
		st          Status
		reply, want string
	}{
		{QuietNone, StatusEN, "EN\r\n", "EN\r\n"},
		{QuietMiss, StatusEN, "EN\r\n", ""},
		{QuietMiss, StatusEN, "EN kzz O1\r\n", ""},
		{QuietMiss, StatusHD, "HD\r\n", "HD\r\n"},
		{QuietMiss, StatusVA, "VA 1\r\nb\r\n", "VA 1\r\nb\r\n"},
		{QuietMiss, StatusClientError, "CLIENT_ERROR bad command line format\r\n", "CLIENT_ERROR bad command line format\r\n"},
		{QuietHD, StatusHD, "HD c5\r\n", ""},
		{QuietHD, StatusNS, "NS\r\n", "NS\r\n"},
		{QuietHD, StatusEX, "EX\r\n", "EX\r\n"},
		{QuietHD, StatusServerError, "SERVER_ERROR out of memory\r\n", "SERVER_ERROR out of memory\r\n"},
		{QuietUntilMN, StatusMN, "MN\r\n", ""},
		{QuietUntilMN, StatusMN, "HD\r\nMN\r\n", "HD\r\n"},
		{QuietUntilMN, StatusMN, "VA 1\r\n5\r\nMN\r\n", "VA 1\r\n5\r\n"},
	}
	for _, tt := range tests {
		if got := string(tt.q.Visible(tt.st, []byte(tt.reply))); got != tt.want {
			t.Errorf("%v.Visible(%d, %q) = %q, want %q", tt.q, tt.st, tt.reply, got, tt.want)
		}
	}
}

func TestReadMetaReply(t *testing.T) {
	tests := []struct {
		cmd Command
		in  string
		st  Status // zero: malformed
	}{
		{CmdMg, "VA 3 f5 t-1\r\nabc\r\n", StatusVA},
		{CmdMg, "VA 4\r\na\r\nb\r\n", StatusVA},
		{CmdMg, "HD\r\n", StatusHD},
		{CmdMg, "HD kfoo Oab\r\n", StatusHD},
		{CmdMg, "EN\r\n", StatusEN},
		{CmdMg, "EN kzz O1\r\n", StatusEN},
		{CmdMg, "CLIENT_ERROR bad command line format\r\n", StatusClientError},
		{CmdMg, "SERVER_ERROR out of memory\r\n", StatusServerError},
		{CmdMg, "NF\r\n", 0},
		{CmdMg, "VA 3\r\nabcd\r\n", 0},
		{CmdMg, "VA x\r\n", 0},
		{CmdMg, "VA\r\n", 0},
		{CmdMg, "HDX\r\n", 0},
		{CmdMg, "STORED\r\n", 0},
		{CmdMg, "MN\r\n", 0},
		{CmdMs, "HD c9\r\n", StatusHD},
		{CmdMs, "NS\r\n", StatusNS},
		{CmdMs, "EX\r\n", StatusEX},
		{CmdMs, "NF\r\n", StatusNF},
		{CmdMs, "EN\r\n", 0},
		{CmdMs, "VA 1\r\nb\r\n", 0},
		{CmdMd, "HD\r\n", StatusHD},
		{CmdMd, "NF kzz\r\n", StatusNF},
		{CmdMd, "NS\r\n", 0},
		{CmdMa, "VA 1 c5\r\n6\r\n", StatusVA},
		{CmdMa, "NS\r\n", StatusNS},
		{CmdMa, "EN\r\n", 0},
		{CmdMe, "ME a exp=-1 la=0 cas=2 fetch=no cls=1 size=63\r\n", StatusME},
		{CmdMe, "EN\r\n", StatusEN},
		{CmdMe, "ME\r\n", 0},
		{CmdMe, "HD\r\n", 0},
		{CmdMn, "MN\r\n", StatusMN},
		{CmdMn, "HD\r\nNF\r\nVA 2\r\nMN\r\nCLIENT_ERROR x\r\nMN\r\n", StatusMN},
		{CmdMn, "END\r\nMN\r\n", 0},
		{CmdMn, "ME a\r\nMN\r\n", 0},
	}
	for _, tt := range tests {
		rr := NewReplyReader(strings.NewReader(tt.in+"tail"), 0)
		var res Result
		got, err := rr.ReadReply(nil, tt.cmd, nil, &res)
		if tt.st == 0 {
			if !errors.Is(err, ErrMalformedReply) {
				t.Errorf("%v reply %q: err %v, want ErrMalformedReply", tt.cmd, tt.in, err)
			}
			continue
		}
		if err != nil || string(got) != tt.in || res.Status != tt.st {
			t.Errorf("%v reply %q: got %q, status %d, %v; want it whole, status %d", tt.cmd, tt.in, got, res.Status, err, tt.st)
		}
	}
}

func TestParseMetaReply(t *testing.T) {
	m, ok := ParseMetaReply([]byte("VA 3 f30 t-1 kfoo\r\nabc\r\n"))
	if !ok || string(m.Code) != "VA" || string(m.Value) != "abc" || string(m.Flags) != "f30 t-1 kfoo" {
		t.Fatalf("VA: %v %+v", ok, m)
	}
	if f, ok := m.Flag('f'); !ok || string(f) != "30" {
		t.Errorf("flag f = %q, %v", f, ok)
	}
	if f, ok := m.Flag('t'); !ok || string(f) != "-1" {
		t.Errorf("flag t = %q, %v", f, ok)
	}
	if _, ok := m.Flag('c'); ok {
		t.Error("flag c found in a reply without it")
	}
	m, ok = ParseMetaReply([]byte("VA 0\r\n\r\n"))
	if !ok || len(m.Value) != 0 || m.Value == nil || len(m.Flags) != 0 {
		t.Errorf("empty VA: %v %+v", ok, m)
	}
	m, ok = ParseMetaReply([]byte("EN\r\n"))
	if !ok || string(m.Code) != "EN" || m.Value != nil || len(m.Flags) != 0 {
		t.Errorf("EN: %v %+v", ok, m)
	}
	m, ok = ParseMetaReply([]byte("HD c12 Oxy\r\n"))
	if c, _ := m.Flag('c'); !ok || !bytes.Equal(c, []byte("12")) {
		t.Errorf("HD: %v %+v", ok, m)
	}
	for _, bad := range []string{"", "EN", "VA 3\r\nab\r\n", "HD\r\nEN\r\n", "SERVER_ERROR x\r\n", "HDX\r\n", "VA\r\n", "ZZ\r\n", "ERROR\r\n"} {
		if m, ok := ParseMetaReply([]byte(bad)); ok {
			t.Errorf("ParseMetaReply(%q) = %+v, want not ok", bad, m)
		}
	}
}
