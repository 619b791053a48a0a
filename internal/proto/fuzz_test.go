package proto

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fuzzLimits are small, so that fuzzing reaches every limit.
var fuzzLimits = Limits{MaxLineLength: 1000, MaxItemSize: 5000, MaxKeys: 20}

func FuzzReader(f *testing.F) {
	for _, c := range allWireCases() {
		if len(c.in) <= 2*bufSize {
			f.Add([]byte(c.in))
		}
	}
	for _, s := range []string{
		"", "\x80", "get a", "set a 0 0 5\r\nab", "set a 0 0 4999\r\n", "set a 0 0 5001\r\nxx",
		"get a b c d e f g h i j k l m n o p q r s t u\r\n", "gat 1 a b c d e f g h i j k l m n o p q r s t\r\n",
		"flush_all noreply noreply\r\n", "delete a 0 0\r\n", "stats a b c d e f g h i j k l m n o p q r s t u v\r\n",
		"set a 0 0 1\r\n\x80\r\nget a\r\n", "incr a 1 noreply\r\ndecr a 2\r\ntouch a 3 noreply\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		// A hang shows up as a crash with its input, not as a stalled fuzzer.
		tm := time.AfterFunc(10*time.Second, func() { panic(fmt.Sprintf("hang on %q", in)) })
		defer tm.Stop()
		whole := checkRequests(t, bytes.NewReader(in), bufSize)
		// A 16-byte buffer read 3 bytes at a time takes every path for
		// lines and data blocks longer than the buffer.
		small := checkRequests(t, &chunkReader{s: string(in), n: 3}, 16)
		if !reflect.DeepEqual(whole, small) {
			t.Fatalf("read whole %q\nin 3-byte reads into a 16-byte buffer %q", whole, small)
		}
	})
}

// FuzzMetaRequest builds a meta request from a verb, a key and flags, so
// that the fuzzer spends its time in the meta parser: its key decoding,
// its flag and number checks, quiet mode and an ms's data block. The
// checks are FuzzReader's.
func FuzzMetaRequest(f *testing.F) {
	for _, s := range []struct{ key, flags, data string }{
		{"a", "v f t", ""}, {"YQ==", "b k q", ""}, {"a", "q q", ""}, {"a", "N30 T-1 R+5 F4294967301 C-0 J\t7 D5x", ""},
		{"a", "MX O12345678901234567890123456789012", ""}, {"Y!Q=!=", "b", "xy\r\n"}, {"a", "2 q T0", "xy\r\n"},
		{"a", "2000 q", "x"}, {"a\x00b", "v", ""}, {"a", "c f h k l s t u v O P L q N0 R0 T0 x", "1\r\nb\r\n"},
	} {
		for verb := range 6 {
			f.Add(uint8(verb), s.key, s.flags, []byte(s.data))
		}
	}
	verbs := []string{"mg", "ms", "md", "ma", "me", "mn"}
	f.Fuzz(func(t *testing.T, verb uint8, key, flags string, data []byte) {
		in := verbs[int(verb)%len(verbs)] + " " + key + " " + flags + "\r\n" + string(data)
		whole := checkRequests(t, strings.NewReader(in), bufSize)
		small := checkRequests(t, &chunkReader{s: in, n: 3}, 16)
		if !reflect.DeepEqual(whole, small) {
			t.Fatalf("read whole %q\nin 3-byte reads into a 16-byte buffer %q", whole, small)
		}
	})
}

// checkRequests reads every request in rd within fuzzLimits through a
// buffer of bufLen bytes, checking that scratch memory stays within the
// limits and that each accepted request, encoded by AppendUpstream, parses
// back to itself.
func checkRequests(t *testing.T, rd io.Reader, bufLen int) []string {
	r := NewReader(rd, fuzzLimits)
	r.buf = make([]byte, bufLen)
	var req, again Request
	var out []string
	for range 10_000 {
		err := r.Read(&req)
		out = append(out, outcome(&req, err))
		if cap(r.long) > 2*(fuzzLimits.MaxLineLength+2+bufLen) || cap(r.data) > fuzzLimits.MaxItemSize+2 ||
			cap(r.tok.s) > 2*(fuzzLimits.MaxKeys+2) {
			t.Fatalf("scratch beyond limits: line %d, data %d, tokens %d", cap(r.long), cap(r.data), cap(r.tok.s))
		}
		var perr *Error
		if errors.As(err, &perr) {
			if perr.Close {
				return out
			}
			continue
		}
		if err != nil {
			return out
		}
		up := req.AppendUpstream(nil)
		if req.Cmd.Meta() && req.Cmd != CmdMn {
			checkMeta(t, &req, up)
		}
		r2 := NewReader(bytes.NewReader(up), fuzzLimits)
		if err := r2.Read(&again); err != nil {
			t.Fatalf("re-encoded %q: %v", up, err)
		}
		want := req
		want.NoReply = false
		quiet := req.QuietMode()
		if quiet == QuietMiss || quiet == QuietHD {
			// The q flag is removed upstream.
			want.Quiet = false
			want.Args = slices.Clone(req.Args)
			start := req.metaFlagStart()
			want.Args = slices.DeleteFunc(want.Args, func(a []byte) bool {
				i := slices.IndexFunc(req.Args, func(b []byte) bool { return &a[0] == &b[0] })
				return i >= start && a[0] == 'q'
			})
			if !req.Base64Key {
				want.Keys = [][]byte{want.Args[0]}
			}
		}
		if req.Cmd == CmdFlushAll && len(req.Args) > 0 {
			// The delay goes as a plain number, without what follows it.
			want.Args = [][]byte{strconv.AppendInt(nil, int64(req.Exptime), 10)}
		}
		if !sameRequest(&again, &want) {
			t.Fatalf("re-encoded %q parses as %+v, want %+v", up, again, want)
		}
		if quiet == QuietUntilMN {
			// A quiet ma is followed by mn.
			if err := r2.Read(&again); err != nil || again.Cmd != CmdMn {
				t.Fatalf("re-encoded quiet ma %q not followed by mn: %v %v", up, again.Cmd, err)
			}
		}
		if err := r2.Read(&again); err != io.EOF {
			t.Fatalf("re-encoded %q holds more than one request: %v", up, err)
		}
	}
	return out
}

// checkMeta checks an accepted meta request: its routing key is its key
// token as memcached reads it, and what goes upstream fits memcached's line
// limit and has no q flag memcached would act on.
func checkMeta(t *testing.T, req *Request, up []byte) {
	t.Helper()
	if len(req.Keys) != 1 || len(req.Args) == 0 || len(req.Args[0]) > MaxKeyLength {
		t.Fatalf("meta request %q: keys %q args %q", up, req.Keys, req.Args)
	}
	if req.Base64Key {
		var dst [maxDecodedKey]byte
		n := decodeBase64Key(dst[:], req.Args[0])
		if n == 0 || !bytes.Equal(dst[:n], req.Keys[0]) {
			t.Fatalf("meta request %q: key %q, decoded %q", up, req.Keys[0], dst[:n])
		}
	} else if !bytes.Equal(req.Keys[0], req.Args[0]) {
		t.Fatalf("meta request %q: key %q, key token %q", up, req.Keys[0], req.Args[0])
	}
	line, _, _ := bytes.Cut(up, []byte("\n"))
	if len(line)+1 > maxMetaLine {
		t.Fatalf("meta line of %d bytes sent upstream", len(line)+1)
	}
	if q := req.QuietMode(); q == QuietMiss || q == QuietHD {
		for _, tok := range bytes.Split(line[:len(line)-1], []byte{' '})[2:] {
			if tok[0] == 'q' {
				t.Fatalf("quiet %v sent upstream as %q", req.Cmd, up)
			}
		}
	}
}

// FuzzReplyReader reads a stream of replies to one command, the keys of a
// retrieval being the words of keys. Every reply read is the input's next
// bytes, ends in "\r\n" and has a status; a retrieval's values are exactly
// its VALUE blocks, in order, each answering an asked key after the one
// before, and the reply ends in END or an error line after them.
func FuzzReplyReader(f *testing.F) {
	seeds := []string{
		"END\r\n", "VALUE a 0 1\r\nb\r\nEND\r\n", "VALUE a 1 1 5\r\nb\r\nVALUE c 2 0 7\r\n\r\nEND\r\n",
		"VALUE a 0 4\r\n\r\n\r\n\r\nEND\r\n", "SERVER_ERROR out of memory\r\n", "VALUE a 0 1\r\nb\r\nERROR\r\n",
		"STORED\r\n", "NOT_STORED\r\nEXISTS\r\n", "NOT_FOUND\r\n", "DELETED\r\n", "12\r\n", "TOUCHED\r\n",
		"OK\r\n", "VERSION 1.6.18\r\n", "STAT pid 1\r\nEND\r\n", "CLIENT_ERROR bad data chunk\r\n",
		"VALUE a 0 -1\r\n", "VALUE a 0 99999999999\r\n", "VALUE a 0 3\r\nab", "STORED\n", "",
		"VALUE c 0 1\r\nb\r\nVALUE a 0 1\r\nb\r\nEND\r\n", "VALUE a 0 1\r\nb\r\nVALUE a 0 1\r\nb\r\nEND\r\n",
		"VA 1 f0 t-1\r\nb\r\n", "HD\r\n", "EN\r\n", "HD c5 kfoo b\r\n", "NF Oab\r\n", "NS\r\nEX\r\n",
		"MN\r\n", "HD\r\nMN\r\n", "VA 2\r\nab\r\nEN\r\nMN\r\n", "ME a exp=-1 la=0\r\n", "VA x\r\n",
		"VA\r\n", "VA 4 \r\n\r\n\r\n", "VA 3\r\nab", "EN kzz O1\r\nHD\r\n",
	}
	for _, s := range seeds {
		for _, cmd := range []Command{CmdGet, CmdSet, CmdIncr, CmdStats, CmdMg, CmdMa, CmdMn} {
			for _, keys := range []string{"a c", "a a", ""} {
				f.Add([]byte(s), uint8(cmd), keys)
			}
		}
	}
	f.Fuzz(func(t *testing.T, in []byte, c uint8, keyList string) {
		cmd := Command(c%uint8(NumCommands-1)) + 1
		if cmd == CmdQuit {
			return
		}
		var keys [][]byte
		for _, k := range strings.Fields(keyList) {
			keys = append(keys, []byte(k))
		}
		rr := NewReplyReader(bytes.NewReader(in), 1000)
		var all []byte
		var res Result
		for range 10_000 {
			before := len(all)
			var err error
			all, err = rr.ReadReply(all, cmd, keys, &res)
			if errors.Is(err, errForeignValue) && answersInOrder(in[before:], keys) {
				t.Fatalf("reply %q to keys %q refused as foreign", in[before:], keyList)
			}
			if err != nil {
				break
			}
			reply := all[before:]
			if !bytes.HasSuffix(reply, crlf) || res.Status == 0 {
				t.Fatalf("reply %q: status %d", reply, res.Status)
			}
			if cmd.Meta() && cmd != CmdMn && !res.Status.IsError() {
				m, ok := ParseMetaReply(reply)
				if !ok || metaStatus(m.Code) != res.Status {
					t.Fatalf("%v reply %q: status %d, parsed %v as %+v", cmd, reply, res.Status, ok, m)
				}
			}
			if !cmd.Retrieval() {
				if len(res.Values) > 0 {
					t.Fatalf("reply %q to %s: values %v", reply, cmd, res.Values)
				}
				continue
			}
			pos, prev := before, -1
			for _, v := range res.Values {
				key, block, _, ok := nextValue(all[pos:])
				if !ok || v.Start != pos || v.End != pos+len(block) || v.Key <= prev || v.Key >= len(keys) ||
					!bytes.Equal(keys[v.Key], key) {
					t.Fatalf("reply %q to keys %q: value %+v after key %d", reply, keyList, v, prev)
				}
				pos, prev = v.End, v.Key
			}
			if _, _, _, ok := nextValue(all[pos:]); ok {
				t.Fatalf("reply %q: a value left out after %v", reply, res.Values)
			}
			rest := all[pos:]
			if (res.Status == StatusEnd) != bytes.Equal(rest, ReplyEnd) || (res.Status != StatusEnd && errorStatus(rest) != res.Status) {
				t.Fatalf("reply %q: status %d, ending in %q", reply, res.Status, rest)
			}
		}
		if !bytes.HasPrefix(in, all) {
			t.Fatalf("replies %q are not the input's beginning %q", all, in)
		}
	})
}

// nextValue splits the first "VALUE <key> <flags> <bytes> [<cas>]\r\n
// <data>\r\n" block off b, returning its key, the whole block and the
// rest; ok is false when b does not start with a whole VALUE block. It is
// the tests' own reading of a retrieval reply, to check ReadReply's.
func nextValue(b []byte) (key, block, rest []byte, ok bool) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return nil, nil, nil, false
	}
	key, n, ok := parseValueLine(b[:i+1])
	if !ok {
		return nil, nil, nil, false
	}
	end := i + 1 + n + 2
	if end > len(b) || !bytes.Equal(b[end-2:end], crlf) {
		return nil, nil, nil, false
	}
	return key, b[:end], b[end:], true
}

// answersInOrder reports whether every VALUE line at the start of b, each
// followed by its data block, is for one of keys, each after the one the
// line before answered.
func answersInOrder(b []byte, keys [][]byte) bool {
	for {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return true
		}
		key, n, ok := parseValueLine(b[:i+1])
		if !ok {
			return true
		}
		for len(keys) > 0 && !bytes.Equal(keys[0], key) {
			keys = keys[1:]
		}
		if len(keys) == 0 {
			return false
		}
		keys = keys[1:]
		if i+1+n+2 > len(b) {
			return true
		}
		b = b[i+1+n+2:]
	}
}
