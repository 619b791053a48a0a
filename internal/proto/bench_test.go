package proto

import (
	"fmt"
	"strings"
	"testing"
)

// loopReader returns the same bytes over and over.
type loopReader struct {
	b   []byte
	off int
}

func (l *loopReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		k := copy(p[n:], l.b[l.off:])
		n += k
		l.off = (l.off + k) % len(l.b)
	}
	return n, nil
}

// benchRead parses req, repeated, b.N times.
func benchRead(b *testing.B, req string) {
	r := NewReader(&loopReader{b: []byte(req)}, Limits{})
	var parsed Request
	b.SetBytes(int64(len(req)))
	b.ReportAllocs()
	for b.Loop() {
		if err := r.Read(&parsed); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadGet(b *testing.B) { benchRead(b, "get user:12345:profile\r\n") }

func BenchmarkReadGetTenKeys(b *testing.B) {
	benchRead(b, "get"+strings.Repeat(" user:12345:profile", 10)+"\r\n")
}

func BenchmarkReadSet100(b *testing.B) {
	benchRead(b, "set user:12345:profile 0 3600 100\r\n"+strings.Repeat("v", 100)+"\r\n")
}

func BenchmarkReadSet100K(b *testing.B) {
	benchRead(b, "set user:12345:profile 0 3600 100000\r\n"+strings.Repeat("v", 100_000)+"\r\n")
}

func BenchmarkAppendUpstream(b *testing.B) {
	r := NewReader(strings.NewReader("set user:12345:profile 0 3600 100 noreply\r\n"+strings.Repeat("v", 100)+"\r\n"), Limits{})
	var req Request
	if err := r.Read(&req); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = req.AppendUpstream(buf[:0])
	}
}

func BenchmarkReadReplyValue(b *testing.B)     { benchReadReply(b, 100) }
func BenchmarkReadReplyValue100K(b *testing.B) { benchReadReply(b, 100_000) }

// benchReadReply reads, again and again, the reply to a get that hits one
// value of size bytes.
func benchReadReply(b *testing.B, size int) {
	reply := fmt.Sprintf("VALUE user:12345:profile 0 %d\r\n%s\r\nEND\r\n", size, strings.Repeat("v", size))
	rr := NewReplyReader(&loopReader{b: []byte(reply)}, 0)
	out := make([]byte, 0, len(reply))
	keys := [][]byte{[]byte("user:12345:profile")}
	var res Result
	b.SetBytes(int64(len(reply)))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if out, err = rr.ReadReply(out[:0], CmdGet, keys, &res); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadMetaGet(b *testing.B) { benchRead(b, "mg user:12345:profile v f\r\n") }

func BenchmarkReadMetaGetBase64(b *testing.B) {
	benchRead(b, "mg dXNlcjoxMjM0NTpwcm9maWxl b v f\r\n")
}

func BenchmarkReadMetaSet100(b *testing.B) {
	benchRead(b, "ms user:12345:profile 100 T3600 q\r\n"+strings.Repeat("v", 100)+"\r\n")
}

func BenchmarkAppendUpstreamMetaQuiet(b *testing.B) {
	r := NewReader(strings.NewReader("mg user:12345:profile q v f t\r\n"), Limits{})
	var req Request
	if err := r.Read(&req); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = req.AppendUpstream(buf[:0])
	}
}

// BenchmarkReadReplyMetaValue reads, again and again, the reply to an mg
// that hits a 100-byte value: BenchmarkReadReplyValue's, in meta form.
func BenchmarkReadReplyMetaValue(b *testing.B) {
	reply := "VA 100 f0\r\n" + strings.Repeat("v", 100) + "\r\n"
	rr := NewReplyReader(&loopReader{b: []byte(reply)}, 0)
	out := make([]byte, 0, len(reply))
	var res Result
	b.SetBytes(int64(len(reply)))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if out, err = rr.ReadReply(out[:0], CmdMg, nil, &res); err != nil {
			b.Fatal(err)
		}
	}
}
