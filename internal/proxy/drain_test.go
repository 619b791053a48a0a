package proxy

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"hashproxy/internal/config"
	"hashproxy/internal/metrics"
)

// fakeSlowMisses answers every request line with END after a pause.
func fakeSlowMisses(pause time.Duration) func(net.Conn) {
	return func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			if _, err := br.ReadSlice('\n'); err != nil {
				return
			}
			time.Sleep(pause)
			if _, err := c.Write([]byte("END\r\n")); err != nil {
				return
			}
		}
	}
}

// Requests a client sent before the shutdown are all answered, even when
// answering them takes the proxy longer than stopGrace: here one at a time
// (max_inflight 1) from a node that takes 15 ms each. Their 16 KiB are
// more than the proxy's read buffer, so most wait in the socket when the
// shutdown begins. The connection then ends with EOF, not a reset.
func TestShutdownAnswersWhatWasSentBefore(t *testing.T) {
	t.Parallel()
	const n, pause = 80, 15 * time.Millisecond // 1.2 s of answering, over stopGrace
	node := startFake(t, fakeSlowMisses(pause))
	pc := faultPool(node.Addr)
	pc.Timeout = 5 * time.Second
	pc.MaxInflight = 1
	met := metrics.New(prometheus.NewRegistry(), metrics.BuildInfo{Version: "test"}, MetricLabels())
	px, err := New(&config.Config{Pools: []config.Pool{pc}}, Options{Version: "test", Metrics: met})
	if err != nil {
		t.Fatal(err)
	}
	if err := px.Start(); err != nil {
		t.Fatal(err)
	}
	c, err := net.DialTimeout("tcp", px.Addr(pc.Name).String(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var req strings.Builder
	pad := strings.Repeat("x", 196)
	for i := range n {
		req.WriteString("get " + pad + strconv.Itoa(1000+i) + "\r\n")
	}
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(c, req.String()); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	if l, err := br.ReadString('\n'); l != "END\r\n" {
		t.Fatalf("first reply %q, %v", l, err)
	}

	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		shut <- px.Shutdown(ctx)
	}()
	start := time.Now()
	for i := 1; i < n; i++ {
		if l, err := br.ReadString('\n'); l != "END\r\n" {
			t.Fatalf("reply %d of %d: %q, %v", i+1, n, l, err)
		}
	}
	if took := time.Since(start); took < stopGrace {
		t.Errorf("the replies took %v, not over stopGrace: the test proves nothing", took)
	}
	if b, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		t.Errorf("after every reply: %q, %v; want EOF", b, err)
	}
	if err := <-shut; err != nil {
		t.Errorf("shutdown: %v", err)
	}
}
