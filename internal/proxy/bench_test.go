package proxy

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"hashproxy/internal/config"
	"hashproxy/internal/metrics"
	"hashproxy/internal/testenv"
)

// benchProxy starts one memcached node and an in-process proxy in front of
// it, and returns the proxy's address.
func benchProxy(b *testing.B) string {
	b.Helper()
	mc := testenv.StartMemcached(b)
	pc := config.DefaultPool()
	pc.Listen = "127.0.0.1:0"
	pc.Servers = []config.Server{{Addr: mc.Addr, Host: "127.0.0.1", Port: mc.Port, Weight: 1}}
	met := metrics.New(prometheus.NewRegistry(), metrics.BuildInfo{Version: "bench"})
	px, err := New(&config.Config{Pools: []config.Pool{pc}}, Options{Version: "bench", Metrics: met})
	if err != nil {
		b.Fatal(err)
	}
	if err := px.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := px.Shutdown(ctx); err != nil {
			b.Errorf("shutdown: %v", err)
		}
	})
	return px.Addr(pc.Name).String()
}

// BenchmarkProxyGet measures a single-key get of a 100-byte value through
// the proxy to a real memcached, over one client TCP connection, with 1 and
// with 16 requests in flight. Allocations are the whole process's, so they
// are the proxy's: the client side allocates nothing per request.
func BenchmarkProxyGet(b *testing.B) {
	addr := benchProxy(b)
	value := bytes.Repeat([]byte("v"), 100)
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	set := "set bench:get 0 0 " + strconv.Itoa(len(value)) + "\r\n" + string(value) + "\r\n"
	if _, err := conn.Write([]byte(set)); err != nil {
		b.Fatal(err)
	}
	r := bufio.NewReaderSize(conn, 64<<10)
	if line, err := r.ReadString('\n'); err != nil || line != "STORED\r\n" {
		b.Fatalf("set: %q, %v", line, err)
	}
	oneReply := "VALUE bench:get 0 " + strconv.Itoa(len(value)) + "\r\n" + string(value) + "\r\nEND\r\n"

	for _, depth := range []int{1, 16} {
		b.Run("inflight="+strconv.Itoa(depth), func(b *testing.B) {
			req := bytes.Repeat([]byte("get bench:get\r\n"), depth)
			want := bytes.Repeat([]byte(oneReply), depth)
			got := make([]byte, len(want))
			_ = conn.SetDeadline(time.Now().Add(time.Minute))
			b.ReportAllocs()
			b.ResetTimer()
			for n := 0; n < b.N; n += depth {
				if _, err := conn.Write(req); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(r, got); err != nil {
					b.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					b.Fatalf("reply %q, want %q", got, want)
				}
			}
		})
	}
}
