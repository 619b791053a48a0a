package proxy

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"hashproxy/internal/config"
	"hashproxy/internal/testenv"
)

// BenchmarkProxyGet measures a single-key get of a 100-byte value through
// the proxy to a real memcached, over one client TCP connection, with 1 and
// with 16 requests in flight. Allocations are the whole process's, so they
// are the proxy's: the client side allocates nothing per request.
func BenchmarkProxyGet(b *testing.B) {
	benchOneKey(b, startProxy(b, 1, nil).addr, "get bench:get\r\n", func(value string) string {
		return "VALUE bench:get 0 " + strconv.Itoa(len(value)) + "\r\n" + value + "\r\nEND\r\n"
	})
}

// BenchmarkProxyGetHotKeys is BenchmarkProxyGet with hot keys counted
// (admin.hot_keys: on), for its cost against BenchmarkProxyGet.
func BenchmarkProxyGetHotKeys(b *testing.B) {
	pc := config.DefaultPool()
	pc.Listen = "127.0.0.1:0"
	pc.Timeout = 2 * time.Second
	mc := testenv.StartMemcached(b)
	pc.Servers = []config.Server{{Addr: mc.Addr, Host: "127.0.0.1", Port: mc.Port, Weight: 1}}
	addr := startPoolWith(b, pc, Options{HotKeys: config.HotKeysOn}).addr
	benchOneKey(b, addr, "get bench:get\r\n", func(value string) string {
		return "VALUE bench:get 0 " + strconv.Itoa(len(value)) + "\r\n" + value + "\r\nEND\r\n"
	})
}

// BenchmarkProxyMetaGet is BenchmarkProxyGet with mg: the same item read
// with "mg <key> v", to compare with get.
func BenchmarkProxyMetaGet(b *testing.B) {
	benchOneKey(b, startProxy(b, 1, nil).addr, "mg bench:get v\r\n", func(value string) string {
		return "VA " + strconv.Itoa(len(value)) + "\r\n" + value + "\r\n"
	})
}

// benchOneKey stores a 100-byte value under bench:get through the proxy
// at addr, over one memcached, then measures req, answered with
// reply(value), with 1 and 16 requests in flight over one client
// connection. cpu-ns/op is the
// test process's CPU time (the proxy's and the small client's, not
// memcached's) per request, steadier than ns/op on a busy machine.
func benchOneKey(b *testing.B, addr, req string, reply func(value string) string) {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	benchOneKeyOn(b, conn, req, reply)
}

// BenchmarkProxyGetTLS is BenchmarkProxyGet with TLS: to a memcached
// started with -Z (tls), and also from the client (client_tls). With
// client_tls, cpu-ns/op includes the benchmark client's own half of that
// TLS connection, as it runs in the same process.
func BenchmarkProxyGetTLS(b *testing.B) {
	ca := testenv.NewCA(b, "bench-ca")
	pair := ca.Issue(b, "bench", time.Now().Add(time.Hour), "127.0.0.1")
	mc := testenv.StartMemcachedTLS(b, pair, "")
	pc := config.DefaultPool()
	pc.Listen = "127.0.0.1:0"
	pc.Timeout = 2 * time.Second
	pc.Servers = []config.Server{{Addr: mc.Addr, Host: "127.0.0.1", Port: mc.Port, Weight: 1}}
	pc.TLS = &config.TLS{CAFile: ca.File, MinVersion: "1.2"}
	reply := func(value string) string {
		return "VALUE bench:get 0 " + strconv.Itoa(len(value)) + "\r\n" + value + "\r\nEND\r\n"
	}
	b.Run("to=node", func(b *testing.B) {
		benchOneKey(b, startPool(b, pc, nil).addr, "get bench:get\r\n", reply)
	})
	b.Run("to=node,from=client", func(b *testing.B) {
		withClient := pc
		withClient.ClientTLS = &config.ClientTLS{CertFile: pair.CertFile, KeyFile: pair.KeyFile}
		roots := x509.NewCertPool()
		pem, err := os.ReadFile(ca.File)
		if err != nil || !roots.AppendCertsFromPEM(pem) {
			b.Fatal("bench CA", err)
		}
		d := tls.Dialer{Config: &tls.Config{RootCAs: roots}}
		conn, err := d.DialContext(context.Background(), "tcp", startPool(b, withClient, nil).addr)
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close()
		benchOneKeyOn(b, conn, "get bench:get\r\n", reply)
	})
}

// benchOneKeyOn is benchOneKey over a connection to the proxy.
func benchOneKeyOn(b *testing.B, conn net.Conn, req string, reply func(value string) string) {
	value := string(bytes.Repeat([]byte("v"), 100))
	set := "set bench:get 0 0 " + strconv.Itoa(len(value)) + "\r\n" + value + "\r\n"
	if _, err := conn.Write([]byte(set)); err != nil {
		b.Fatal(err)
	}
	r := bufio.NewReaderSize(conn, 64<<10)
	if line, err := r.ReadString('\n'); err != nil || line != "STORED\r\n" {
		b.Fatalf("set: %q, %v", line, err)
	}
	oneReply := reply(value)

	for _, depth := range []int{1, 16} {
		b.Run("inflight="+strconv.Itoa(depth), func(b *testing.B) {
			req := bytes.Repeat([]byte(req), depth)
			want := bytes.Repeat([]byte(oneReply), depth)
			got := make([]byte, len(want))
			_ = conn.SetDeadline(time.Now().Add(time.Minute))
			b.ReportAllocs()
			b.ResetTimer()
			cpu := processCPU(b)
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
			b.ReportMetric(float64(processCPU(b)-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}

// processCPU returns the CPU time, user and system, the process has used,
// in nanoseconds.
func processCPU(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkProxyMultiGet measures a 10-key get over 4 real memcached nodes,
// one request at a time: the split into one request per node and the merge
// of their replies in the client's key order. Half the keys hit, with
// 100-byte values.
func BenchmarkProxyMultiGet(b *testing.B) {
	addr := startProxy(b, 4, nil).addr
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Minute))
	r := bufio.NewReaderSize(conn, 64<<10)
	value := string(bytes.Repeat([]byte("v"), 100))
	var req, want bytes.Buffer
	req.WriteString("get")
	for i := range 10 {
		key := "bench:multi:" + strconv.Itoa(i)
		req.WriteString(" " + key)
		if i%2 == 1 {
			continue
		}
		if _, err := io.WriteString(conn, "set "+key+" 0 0 100\r\n"+value+"\r\n"); err != nil {
			b.Fatal(err)
		}
		if line, err := r.ReadString('\n'); err != nil || line != "STORED\r\n" {
			b.Fatalf("set: %q, %v", line, err)
		}
		want.WriteString("VALUE " + key + " 0 100\r\n" + value + "\r\n")
	}
	req.WriteString("\r\n")
	want.WriteString("END\r\n")
	got := make([]byte, want.Len())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := conn.Write(req.Bytes()); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(r, got); err != nil {
			b.Fatal(err)
		}
		if !bytes.Equal(got, want.Bytes()) {
			b.Fatalf("reply %q, want %q", got, want.Bytes())
		}
	}
}

// BenchmarkProxySetCopies measures a set of a 100-byte value over 2 real
// memcached nodes, one request at a time, keeping 1 and 2 copies of each
// key: the cost of writing the second copy.
func BenchmarkProxySetCopies(b *testing.B) {
	for _, copies := range []int{1, 2} {
		b.Run("copies="+strconv.Itoa(copies), func(b *testing.B) {
			addr := startProxy(b, 2, func(p *config.Pool) { p.ReplicationFactor = copies }).addr
			conn, err := net.DialTimeout("tcp", addr, time.Second)
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			r := bufio.NewReaderSize(conn, 64<<10)
			req := []byte("set bench:set 0 0 100\r\n" + string(bytes.Repeat([]byte("v"), 100)) + "\r\n")
			want := []byte("STORED\r\n")
			got := make([]byte, len(want))
			_ = conn.SetDeadline(time.Now().Add(time.Minute))
			b.ReportAllocs()
			for b.Loop() {
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
