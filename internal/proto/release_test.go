package proto

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// TestReleaseBetweenRequests reads the same pipelined stream with two
// Readers taking turns, each giving its buffer back whenever Release lets
// it, so that each takes up the other's old buffer: both must read what a
// Reader that never releases reads.
func TestReleaseBetweenRequests(t *testing.T) {
	in := "set a 0 0 5\r\nhello\r\nget a b\r\n" +
		"set big 0 0 6000\r\n" + strings.Repeat("x", 6000) + "\r\n" +
		"get " + strings.Repeat("k", 250) + " " + strings.Repeat("j", 250) + "\r\n" +
		"set huge 0 0 2000000\r\n" + strings.Repeat("y", 2_000_000) + "\r\n" +
		"bogus\r\nincr a 1\r\n"
	want := readAll(&chunkReader{s: in, n: 7}, Limits{})
	readers := []*Reader{
		NewReader(&chunkReader{s: in, n: 7}, Limits{}),
		NewReader(&lineReader{s: in}, Limits{}),
	}
	got := make([][]string, len(readers))
	done := make([]bool, len(readers))
	released := 0
	var req Request
	for range 1000 {
		for i, r := range readers {
			if done[i] {
				continue
			}
			err := r.Read(&req)
			got[i] = append(got[i], outcome(&req, err))
			var perr *Error
			done[i] = err != nil && !errors.As(err, &perr)
			if r.Release() {
				released++
				if r.buf != nil {
					t.Fatal("Release returned true and kept the buffer")
				}
			}
		}
	}
	for i := range readers {
		if !reflect.DeepEqual(got[i], want) {
			t.Errorf("reader %d read\n%q\nwant\n%q", i, clipAll(got[i]), clipAll(want))
		}
	}
	if released < 8 {
		t.Errorf("released %d times, want at least once per request of the line reader", released)
	}
}

// lineReader returns s one line (up to 4 KiB of it) per read, so that a
// read often ends where a request does.
type lineReader struct{ s string }

func (l *lineReader) Read(p []byte) (int, error) {
	if len(l.s) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), len(l.s), 4096)
	if i := strings.IndexByte(l.s[:n], '\n'); i >= 0 {
		n = i + 1
	}
	k := copy(p, l.s[:n])
	l.s = l.s[k:]
	return k, nil
}

// TestReleaseKeepsWhatIsNeeded checks that Release keeps the buffer while
// it holds unread bytes, while a refused block is being skipped, and after
// a read error.
func TestReleaseKeepsWhatIsNeeded(t *testing.T) {
	var req Request
	r := NewReader(strings.NewReader("get a\r\nget b\r\n"), Limits{})
	if err := r.Read(&req); err != nil {
		t.Fatal(err)
	}
	if r.Release() {
		t.Error("released a buffer holding the next request")
	}
	if err := r.Read(&req); err != nil || string(req.Keys[0]) != "b" {
		t.Fatalf("second request: %v %q", err, req.Keys)
	}
	if !r.Release() {
		t.Error("kept an empty buffer")
	}
	if !r.Release() {
		t.Error("a second Release of a released buffer said it still holds one")
	}

	r = NewReader(&chunkReader{s: "set c 0 0 100\r\n" + strings.Repeat("z", 102) + "get d\r\n", n: 20}, Limits{MaxItemSize: 10})
	if err := r.Read(&req); !errors.Is(err, errTooLarge.get(false)) {
		t.Fatalf("too large set: %v", err)
	}
	if r.Release() {
		t.Error("released the buffer while skipping a refused block")
	}
	if err := r.Read(&req); err != nil || string(req.Keys[0]) != "d" {
		t.Fatalf("request after the refused block: %v %q", err, req.Keys)
	}

	r = NewReader(iotest.ErrReader(io.ErrClosedPipe), Limits{})
	if err := r.Read(&req); !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("Read = %v", err)
	}
	if r.Release() {
		t.Error("released the buffer of a failed Reader")
	}
}
