package proxy

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"hashproxy/internal/config"
)

// TestClientConnectionLimit checks that a client over client_connections
// gets memcached's error line and a closed connection, is counted, and
// that a freed slot is given to the next client.
func TestClientConnectionLimit(t *testing.T) {
	tp := startProxy(t, 1, func(pc *config.Pool) { pc.ClientConnections = 3 })
	var held []*rawClient
	for range 3 {
		c := dialRaw(t, tp.addr)
		c.send("get a\r\n")
		if got := c.line(); got != "END" {
			t.Fatalf("client within the limit: %q", got)
		}
		held = append(held, c)
	}
	for i := 1; i <= 2; i++ {
		c := dialRaw(t, tp.addr)
		if got := string(readQuiet(c.c, 2*time.Second)); got != "ERROR Too many open connections\r\n" {
			t.Fatalf("client over the limit: %q, want memcached's error line and a close", got)
		}
		if got := gathered(t, tp.reg, "hashproxy_client_connections_rejected_total", nil); got != float64(i) {
			t.Errorf("rejected connections counted %v, want %d", got, i)
		}
	}
	held[0].c.Close()
	waitFor(t, 5*time.Second, "a slot to free", func() bool { return tp.px.pools[0].nclients.Load() == 2 })
	c := dialRaw(t, tp.addr)
	c.send("get a\r\n")
	if got := c.line(); got != "END" {
		t.Fatalf("client after a slot freed: %q", got)
	}
	held[1].send("get a\r\n")
	if got := held[1].line(); got != "END" {
		t.Fatalf("a held client after the rejections: %q", got)
	}
}

// TestIdleTimeout checks that an idle client is closed after idle_timeout,
// not sooner, and that a client that keeps talking is not. The timeout is
// long next to the talker's pauses, so that a busy machine's stall does not
// make the talker idle.
func TestIdleTimeout(t *testing.T) {
	t.Parallel()
	const idle = time.Second
	tp := startProxy(t, 1, func(pc *config.Pool) { pc.IdleTimeout = idle })
	start := time.Now() // before the proxy can start the quiet client's clock
	quiet := dialRaw(t, tp.addr)
	talker := dialRaw(t, tp.addr)
	closed := make(chan error, 1)
	go func() {
		_ = quiet.c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, err := quiet.c.Read(make([]byte, 1))
		closed <- err
	}()
	for talking := true; talking; {
		talker.send("get a\r\n")
		if got := talker.line(); got != "END" {
			t.Fatalf("talking client: %q", got)
		}
		select {
		case err := <-closed:
			if !errors.Is(err, io.EOF) {
				t.Fatalf("idle client: %v; want the connection closed", err)
			}
			if took := time.Since(start); took < idle {
				t.Fatalf("idle client closed after %v, before its idle timeout %v", took, idle)
			}
			talking = false
		case <-time.After(idle / 10):
		}
	}
	talker.send("get a\r\n")
	if got := talker.line(); got != "END" {
		t.Fatalf("talking client after the idle one was closed: %q", got)
	}

	// Without a timeout an idle connection stays.
	tp = startProxy(t, 1, nil)
	quiet = dialRaw(t, tp.addr)
	time.Sleep(idle + idle/2)
	quiet.send("get a\r\n")
	if got := quiet.line(); got != "END" {
		t.Fatalf("idle client without idle_timeout: %q", got)
	}
}

// TestClientThatNeverReads has one client pipeline gets of a 100 KiB value
// without reading a reply, over the same single upstream connection as a
// well-behaved client. The proxy must stop reading it (its write blocks)
// while the other client goes on being served quickly, and must let go of
// it when it hangs up.
func TestClientThatNeverReads(t *testing.T) {
	t.Parallel()
	tp := startProxy(t, 1, func(pc *config.Pool) { pc.ServerConnections = 1 })
	mc := memcache.New(tp.addr)
	t.Cleanup(func() { _ = mc.Close() })
	if err := mc.Set(&memcache.Item{Key: "big", Value: bytes.Repeat([]byte("b"), 100<<10)}); err != nil {
		t.Fatal(err)
	}
	others := tp.px.pools[0].nclients.Load()
	hog, err := net.DialTimeout("tcp", tp.addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer hog.Close()
	// 20 MB of requests: more than the socket buffers on both sides hold,
	// so the writes complete only if the proxy reads without bound.
	wrote := make(chan error, 1)
	go func() {
		_ = hog.SetWriteDeadline(time.Now().Add(20 * time.Second))
		w := bufio.NewWriterSize(hog, 64<<10)
		for range 2_000_000 {
			if _, err := w.WriteString("get big\r\n"); err != nil {
				wrote <- err
				return
			}
		}
		wrote <- w.Flush()
	}()

	bystander := startBystander(tp.addr)
	time.Sleep(2 * time.Second)
	if n, err := bystander.stop(); err != nil || n < 100 {
		t.Errorf("the other client made %d set+get pairs in 2s, failing with %v", n, err)
	}
	select {
	case err := <-wrote:
		t.Fatalf("the proxy read all 2,000,000 requests of a client that reads nothing (%v)", err)
	default:
	}
	in := gathered(t, tp.reg, "hashproxy_client_bytes_received_total", nil)
	time.Sleep(500 * time.Millisecond)
	if grew := gathered(t, tp.reg, "hashproxy_client_bytes_received_total", nil) - in; grew > 0 {
		t.Errorf("the proxy read %v more bytes from the stalled client", grew)
	}
	gets := func() float64 {
		return gathered(t, tp.reg, "hashproxy_requests_total", map[string]string{"command": "get"})
	}
	before := gets()
	hog.Close()
	if err := <-wrote; err == nil {
		t.Error("the stalled client's writes completed")
	}
	waitFor(t, 5*time.Second, "the proxy to let go of the stalled client", func() bool {
		return tp.px.pools[0].nclients.Load() == others
	})
	// Once the client is gone, at most what was in flight is still sent
	// on, not the requests left unread in the socket.
	if grew := gets() - before; grew > 2*float64(tp.cfg.MaxInflight) {
		t.Errorf("%v more gets went to the node after the client hung up", grew)
	}
}

// TestClientThatTrickles sends a request one byte at a time while another
// client works: the trickling client holds only its own connection (the
// single upstream connection is not held by its partial request) and is
// answered when its request is complete.
func TestClientThatTrickles(t *testing.T) {
	t.Parallel()
	tp := startProxy(t, 1, func(pc *config.Pool) { pc.ServerConnections = 1 })
	slow := dialRaw(t, tp.addr)
	bystander := startBystander(tp.addr)
	const req = "set trickle 0 0 5\r\nhello\r\nget trickle\r\n"
	for i := range len(req) {
		slow.send(req[i : i+1])
		time.Sleep(50 * time.Millisecond)
	}
	for _, want := range []string{"STORED", "VALUE trickle 0 5", "hello", "END"} {
		if got := slow.line(); got != want {
			t.Fatalf("trickling client: %q, want %q", got, want)
		}
	}
	if n, err := bystander.stop(); err != nil || n < 100 {
		t.Errorf("the other client made %d set+get pairs meanwhile, failing with %v", n, err)
	}
}

// TestDefaultListenIsLoopback checks that a sidecar listens on loopback
// unless its configuration says otherwise, for clients and for the admin
// endpoints.
func TestDefaultListenIsLoopback(t *testing.T) {
	for what, addr := range map[string]string{
		"pool":  config.DefaultPool().Listen,
		"admin": config.Default().Admin.Listen,
	} {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			t.Fatalf("%s listen %q: %v", what, addr, err)
		}
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			t.Errorf("%s listens on %q by default, want a loopback address", what, addr)
		}
	}
}
