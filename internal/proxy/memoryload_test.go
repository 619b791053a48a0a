package proxy

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
)

// dialIdle opens n connections that each exchange one request and then
// stay idle.
func dialIdle(t *testing.T, addr string, n int) []net.Conn {
	t.Helper()
	conns := make([]net.Conn, n)
	errs := make(chan error, 50)
	var wg sync.WaitGroup
	for w := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 64)
			for i := w; i < n; i += 50 {
				c, err := net.DialTimeout("tcp", addr, 5*time.Second)
				if err != nil {
					errs <- err
					return
				}
				conns[i] = c
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				if _, err := io.WriteString(c, "get idle\r\n"); err != nil {
					errs <- err
					return
				}
				if _, err := io.ReadFull(c, buf[:5]); err != nil || string(buf[:5]) != "END\r\n" {
					errs <- fmt.Errorf("connection %d: %q, %v", i, buf[:5], err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	t.Cleanup(func() { closeAll(conns) })
	for err := range errs {
		t.Fatal(err)
	}
	return conns
}

func closeAll(conns []net.Conn) {
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
}

// pipelineBurst stores a few small values, then has clients connect at
// once, each write perGet pipelined gets in one write and check every
// reply.
func pipelineBurst(t *testing.T, addr string, clients, perClient int) {
	t.Helper()
	mc := memcache.New(addr)
	defer mc.Close()
	value := bytes.Repeat([]byte("v"), 100)
	for i := range 50 {
		if err := mc.Set(&memcache.Item{Key: "burst" + strconv.Itoa(i), Value: value}); err != nil {
			t.Fatal(err)
		}
	}
	var req []byte
	var want []string
	for i := range perClient {
		k := "burst" + strconv.Itoa(i%50)
		req = append(req, "get "+k+"\r\n"...)
		want = append(want, "VALUE "+k+" 0 100\r\n"+string(value)+"\r\nEND\r\n")
	}
	var failed burstFailures
	errs := make(chan error, clients)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs <- pipelineOnce(addr, req, want, &failed)
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := failed.n.Load(); n > 0 {
		t.Logf("%d of %d gets failed, the first with %q", n, clients*perClient, failed.first.Load())
	}
}

// burstFailures counts the SERVER_ERROR replies of a burst.
type burstFailures struct {
	n     atomic.Int64
	first atomic.Value // the first reply line
}

// pipelineOnce sends req in one write on a new connection and checks that
// each reply is the one wanted or, counted in failed, a SERVER_ERROR.
func pipelineOnce(addr string, req []byte, want []string, failed *burstFailures) error {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := c.Write(req); err != nil {
		return err
	}
	br := bufio.NewReader(c)
	for i, w := range want {
		line, err := br.ReadString('\n')
		if err != nil {
			return fmt.Errorf("reply %d: %w", i, err)
		}
		if strings.HasPrefix(line, "SERVER_ERROR ") {
			failed.n.Add(1)
			failed.first.CompareAndSwap(nil, line)
			continue
		}
		rest := make([]byte, len(w)-len(line))
		if _, err := io.ReadFull(br, rest); err != nil {
			return fmt.Errorf("reply %d: %w", i, err)
		}
		if got := line + string(rest); got != w {
			return fmt.Errorf("reply %d is %q, want %q", i, got, w)
		}
	}
	return nil
}

// hogNeverReads stores a 100 KiB value and has one client pipeline 100,000
// gets of it without reading a reply, while another client keeps working.
// It returns the proxy's memory 1s and 4s into the stall, and checks that
// the other client was served throughout and that the proxy lets go of the
// hog when it hangs up.
func hogNeverReads(t *testing.T, hp *hashproxyProc) (first, last memStatus) {
	t.Helper()
	mc := memcache.New(hp.addr)
	mc.Timeout = 2 * time.Second
	defer mc.Close()
	big := bytes.Repeat([]byte("b"), 100<<10)
	if err := mc.Set(&memcache.Item{Key: "big", Value: big}); err != nil {
		t.Fatal(err)
	}
	hog, err := net.DialTimeout("tcp", hp.addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer hog.Close()
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		_ = hog.SetWriteDeadline(time.Now().Add(10 * time.Second))
		w := bufio.NewWriterSize(hog, 64<<10)
		for range 100_000 {
			if _, err := w.WriteString("get big\r\n"); err != nil {
				return
			}
		}
		_ = w.Flush()
	}()

	var lat []time.Duration
	deadline := time.Now().Add(4 * time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		k := "other" + strconv.Itoa(i%20)
		t0 := time.Now()
		if err := mc.Set(&memcache.Item{Key: k, Value: []byte(k)}); err != nil {
			t.Fatalf("other client's set: %v", err)
		}
		it, err := mc.Get(k)
		if err != nil || string(it.Value) != k {
			t.Fatalf("other client's get %s: %v", k, err)
		}
		lat = append(lat, time.Since(t0))
		if first.rss == 0 && time.Until(deadline) < 3*time.Second {
			first = hp.memory(t)
		}
		time.Sleep(5 * time.Millisecond)
	}
	last = hp.memory(t)
	slices.Sort(lat)
	t.Logf("other client: %d set+get pairs, median %v, max %v", len(lat), lat[len(lat)/2], lat[len(lat)-1])
	if worst := lat[len(lat)-1]; worst > time.Second {
		t.Errorf("other client's slowest set+get took %v", worst)
	}
	hog.Close()
	<-wrote
	_ = mc.Close()
	hp.waitClients(t, 0)
	return first, last
}
