package upstream

import (
	"sync/atomic"
	"testing"
	"time"

	"hashproxy/internal/proto"
	"hashproxy/internal/testenv"
)

// benchServer starts a memcached holding key "k" and a Server in front of it.
func benchServer(b *testing.B) *Server {
	b.Helper()
	mc := testenv.StartMemcached(b)
	s := New(Options{Addr: mc.Addr, Conns: 2, Timeout: 2 * time.Second})
	b.Cleanup(s.Close)
	op := NewOp()
	op.Cmd = proto.CmdSet
	op.Req = []byte("set k 0 0 100\r\n" + string(make([]byte, 100)) + "\r\n")
	s.Do(op, 0)
	op.Wait()
	if op.Err != nil {
		b.Fatal(op.Err)
	}
	return s
}

// BenchmarkRoundTrip is one get at a time: every reply finds the
// connection idle.
func BenchmarkRoundTrip(b *testing.B) {
	s := benchServer(b)
	op := NewOp()
	keys := [][]byte{[]byte("k")}
	b.ReportAllocs()
	for b.Loop() {
		op.Reset()
		op.Cmd = proto.CmdGet
		op.Req = append(op.Req, "get k\r\n"...)
		op.SetKeys(keys)
		s.Do(op, 0)
		op.Wait()
		if op.Err != nil {
			b.Fatal(op.Err)
		}
	}
}

// BenchmarkConcurrent is many gets in flight at once over both
// connections.
func BenchmarkConcurrent(b *testing.B) {
	s := benchServer(b)
	var affinity atomic.Uint32
	b.ReportAllocs()
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		op := NewOp()
		a := affinity.Add(1)
		keys := [][]byte{[]byte("k")}
		for pb.Next() {
			op.Reset()
			op.Cmd = proto.CmdGet
			op.Req = append(op.Req, "get k\r\n"...)
			op.SetKeys(keys)
			s.Do(op, a)
			op.Wait()
			if op.Err != nil {
				b.Error(op.Err)
				return
			}
		}
	})
}
