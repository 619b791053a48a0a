package proxy

import (
	"bufio"
	"net"
	"sync"
	"testing"
)

// fakeNode is a TCP server on loopback that misbehaves on purpose, for what
// a real memcached cannot be made to do on demand.
type fakeNode struct {
	Addr string
	ln   net.Listener
	mu   sync.Mutex // guards conns
	conn map[net.Conn]struct{}
	wg   sync.WaitGroup
}

// startFake serves every accepted connection with behave until the test
// ends, then closes the listener and the connections and waits for behave
// to return.
func startFake(t *testing.T, behave func(net.Conn)) *fakeNode {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeNode{Addr: ln.Addr().String(), ln: ln, conn: make(map[net.Conn]struct{})}
	f.wg.Add(1)
	go f.accept(behave)
	t.Cleanup(f.close)
	return f
}

func (f *fakeNode) accept(behave func(net.Conn)) {
	defer f.wg.Done()
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		f.mu.Lock()
		f.conn[c] = struct{}{}
		f.mu.Unlock()
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			defer c.Close()
			behave(c)
		}()
	}
}

func (f *fakeNode) close() {
	_ = f.ln.Close()
	f.mu.Lock()
	for c := range f.conn {
		_ = c.Close()
	}
	f.mu.Unlock()
	f.wg.Wait()
}

// fakeSilent accepts requests and never answers.
func fakeSilent(c net.Conn) {
	buf := make([]byte, 4096)
	for {
		if _, err := c.Read(buf); err != nil {
			return
		}
	}
}

// fakeHalfReply answers the first request with the start of a value and
// closes the connection in the middle of it.
func fakeHalfReply(c net.Conn) {
	if _, err := bufio.NewReader(c).ReadSlice('\n'); err != nil {
		return
	}
	_, _ = c.Write([]byte("VALUE k 0 10\r\nhalf"))
}

// fakeGarbage answers every request line with bytes that are not a
// memcached reply.
func fakeGarbage(c net.Conn) {
	br := bufio.NewReader(c)
	for {
		if _, err := br.ReadSlice('\n'); err != nil {
			return
		}
		if _, err := c.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n")); err != nil {
			return
		}
	}
}

// fakeMisbehaving cycles through the three misbehaviours, one per
// connection.
func fakeMisbehaving() func(net.Conn) {
	var mu sync.Mutex
	n := 0
	ways := []func(net.Conn){fakeSilent, fakeHalfReply, fakeGarbage}
	return func(c net.Conn) {
		mu.Lock()
		way := ways[n%len(ways)]
		n++
		mu.Unlock()
		way(c)
	}
}
