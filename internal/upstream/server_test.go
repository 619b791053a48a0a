package upstream

import (
	"bufio"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"hashproxy/internal/proto"
	"hashproxy/internal/testenv"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// do submits one request and waits for it.
func do(s *Server, cmd proto.Command, req string) *Op {
	op := NewOp()
	op.Cmd = cmd
	op.Req = append(op.Req, req...)
	op.SetKeys(retrievalKeys(cmd, req))
	s.Do(op, 0)
	op.Wait()
	return op
}

// retrievalKeys returns the keys of req if it is a retrieval by cmd.
func retrievalKeys(cmd proto.Command, req string) [][]byte {
	if !cmd.Retrieval() {
		return nil
	}
	words := strings.Fields(req)[1:]
	if cmd == proto.CmdGat || cmd == proto.CmdGats {
		words = words[1:]
	}
	var keys [][]byte
	for _, w := range words {
		keys = append(keys, []byte(w))
	}
	return keys
}

func TestPipelinedRequestsToRealMemcached(t *testing.T) {
	mc := testenv.StartMemcached(t)
	s := New(Options{Addr: mc.Addr, Conns: 2, Timeout: 2 * time.Second})
	defer s.Close()

	const n = 2000
	ops := make([]*Op, n)
	for i := range ops {
		k := "key" + strconv.Itoa(i)
		op := NewOp()
		if i%2 == 0 {
			op.Cmd = proto.CmdSet
			op.Req = []byte("set " + k + " 0 0 " + strconv.Itoa(len(k)) + "\r\n" + k + "\r\n")
		} else {
			op.Cmd = proto.CmdGet
			op.Req = []byte("get key" + strconv.Itoa(i-1) + "\r\n")
			op.SetKeys(retrievalKeys(op.Cmd, string(op.Req)))
		}
		ops[i] = op
		s.Do(op, uint32(i))
	}
	for i, op := range ops {
		op.Wait()
		if op.Err != nil {
			t.Fatalf("op %d: %v", i, op.Err)
		}
		if op.Cmd == proto.CmdSet {
			if string(op.Reply) != "STORED\r\n" {
				t.Fatalf("op %d: %q", i, op.Reply)
			}
			continue
		}
		// The get may run on the other connection before its set: a hit
		// must carry the right value, a miss is allowed.
		k := "key" + strconv.Itoa(i-1)
		want := "VALUE " + k + " 0 " + strconv.Itoa(len(k)) + "\r\n" + k + "\r\nEND\r\n"
		if string(op.Reply) != want && string(op.Reply) != "END\r\n" {
			t.Fatalf("op %d: %q", i, op.Reply)
		}
	}
}

// fakeServer accepts connections and hands each to behave.
func fakeServer(t *testing.T, behave func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() { defer wg.Done(); behave(c) }()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// answering starts a fake node that answers every request line with reply;
// dials receives a value per connection it accepts.
func answering(t *testing.T, reply string) (addr string, dials chan struct{}) {
	dials = make(chan struct{}, 16)
	addr = fakeServer(t, func(c net.Conn) {
		dials <- struct{}{}
		br := bufio.NewReader(c)
		for {
			if _, err := br.ReadString('\n'); err != nil {
				return
			}
			_, _ = c.Write([]byte(reply))
		}
	})
	return addr, dials
}

// silent reads requests and never answers.
func silent(c net.Conn) {
	buf := make([]byte, 4096)
	for {
		if _, err := c.Read(buf); err != nil {
			return
		}
	}
}

func TestFailures(t *testing.T) {
	cases := []struct {
		name   string
		behave func(net.Conn)
		kind   Kind
	}{
		{"never answers", silent, KindTimeout},
		{"closes mid reply", func(c net.Conn) {
			_, _ = bufio.NewReader(c).ReadString('\n')
			_, _ = c.Write([]byte("VALUE k 0 10\r\nabc"))
			c.Close()
		}, KindClosed},
		{"not memcached", func(c net.Conn) {
			_, _ = bufio.NewReader(c).ReadString('\n')
			_, _ = c.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"))
			silent(c)
		}, KindProtocol},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr := fakeServer(t, tc.behave)
			s := New(Options{Addr: addr, Timeout: 200 * time.Millisecond})
			defer s.Close()
			start := time.Now()
			op := do(s, proto.CmdGet, "get k\r\n")
			if op.Err == nil || op.Err.Kind != tc.kind {
				t.Fatalf("got err %v reply %q, want kind %v", op.Err, op.Reply, tc.kind)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("took %v, want within the timeout", d)
			}
			if string(op.Err.Reply) != "SERVER_ERROR "+addr+" "+reasons[tc.kind]+"\r\n" {
				t.Errorf("reply %q", op.Err.Reply)
			}
		})
	}
}

func TestUnreachableFailsFastThenDown(t *testing.T) {
	addr := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t)) // nothing listens
	var states []bool
	var mu sync.Mutex
	s := New(Options{Addr: addr, Timeout: 200 * time.Millisecond, FailureLimit: 2, ProbeInterval: 50 * time.Millisecond,
		OnState: func(up bool) { mu.Lock(); states = append(states, up); mu.Unlock() }})
	defer s.Close()
	deadline := time.Now().Add(2 * time.Second)
	for s.Up() && time.Now().Before(deadline) {
		op := do(s, proto.CmdGet, "get k\r\n")
		if op.Err == nil {
			t.Fatal("request to an unreachable node succeeded")
		}
	}
	if s.Up() {
		t.Fatal("node never marked down")
	}
	start := time.Now()
	op := do(s, proto.CmdGet, "get k\r\n")
	if op.Err == nil || op.Err.Kind != KindDown || time.Since(start) > 10*time.Millisecond {
		t.Fatalf("down node: got %v after %v, want a fast %v", op.Err, time.Since(start), KindDown)
	}

	// Bring a memcached up on that port: the probe restores the node.
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("port taken meanwhile: %v", err)
	}
	ln.Close()
	mc := &testenv.Process{Addr: addr}
	mc.Port, _ = strconv.Atoi(addr[len("127.0.0.1:"):])
	testenv.RestartMemcached(t, mc)
	t.Cleanup(mc.Stop)
	for !s.Up() && time.Now().Before(deadline.Add(3*time.Second)) {
		time.Sleep(20 * time.Millisecond)
	}
	if !s.Up() {
		t.Fatal("node not restored after it answered")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(states) != 2 || states[0] || !states[1] {
		t.Errorf("state changes %v, want [false true]", states)
	}
}

func TestCloseFailsNothingSilently(t *testing.T) {
	addr := fakeServer(t, silent)
	s := New(Options{Addr: addr, Timeout: 300 * time.Millisecond})
	ops := make([]*Op, 50)
	for i := range ops {
		ops[i] = NewOp()
		ops[i].Cmd = proto.CmdGet
		ops[i].Req = []byte("get k\r\n")
		s.Do(ops[i], uint32(i))
	}
	s.Close() // waits: every op must have completed
	for i, op := range ops {
		if !op.Ready() {
			t.Fatalf("op %d not completed after Close", i)
		}
		if op.Err == nil {
			t.Fatalf("op %d succeeded against a silent server", i)
		}
	}
	op := do(s, proto.CmdGet, "get k\r\n")
	if op.Err == nil || op.Err.Kind != KindClosed {
		t.Errorf("after Close: %v", op.Err)
	}
}

// TestIdleConnectionClosedByNode: a node restarted while no request is in
// flight closes the idle connections; they are re-dialled at once, so the
// next request succeeds instead of failing on a dead connection.
func TestIdleConnectionClosedByNode(t *testing.T) {
	mc := testenv.StartMemcached(t)
	s := New(Options{Addr: mc.Addr, Conns: 2, Timeout: time.Second, FailureLimit: 2, ProbeInterval: 50 * time.Millisecond})
	defer s.Close()
	if op := do(s, proto.CmdVersion, "version\r\n"); op.Err != nil {
		t.Fatal(op.Err)
	}
	mc.Stop()
	testenv.RestartMemcached(t, mc)
	deadline := time.Now().Add(2 * time.Second)
	for (s.Stat().Connections < 2 || !s.Up()) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	for i := 0; i < 2; i++ { // one per connection
		op := NewOp()
		op.Cmd = proto.CmdSet
		op.Req = []byte("set k 0 0 1\r\nx\r\n")
		s.Do(op, uint32(i))
		op.Wait()
		if op.Err != nil || string(op.Reply) != "STORED\r\n" {
			t.Fatalf("request on connection %d after the restart: %v %q", i, op.Err, op.Reply)
		}
	}
}

// TestUnsolicitedBytesCloseTheConnection: a node that answers a request
// twice would have its second answer taken for the next request's reply;
// the extra bytes close the connection instead.
func TestUnsolicitedBytesCloseTheConnection(t *testing.T) {
	addr, dials := answering(t, "END\r\nEND\r\n")
	s := New(Options{Addr: addr, Timeout: time.Second})
	defer s.Close()
	if op := do(s, proto.CmdGet, "get a\r\n"); op.Err != nil || string(op.Reply) != "END\r\n" {
		t.Fatalf("first get: %v %q", op.Err, op.Reply)
	}
	timeout := time.After(2 * time.Second)
	for i := 0; i < 2; i++ {
		select {
		case <-dials:
		case <-timeout:
			t.Fatalf("%d dials, want a re-dial after the extra reply", i)
		}
	}
}

// A full queue makes the submitter wait for room rather than fail.
func TestFullQueueWaitsForRoom(t *testing.T) {
	mc := testenv.StartMemcached(t)
	s := New(Options{Addr: mc.Addr, QueueLen: 1, Timeout: 5 * time.Second})
	defer s.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				if op := do(s, proto.CmdGet, "get k\r\n"); op.Err != nil {
					errs <- op.Err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("request failed with a queue of one: %v", err)
	}
}

// A queue that never drains fails the waiting request at its deadline.
func TestFullQueueFailsAtDeadline(t *testing.T) {
	addr := fakeServer(t, silent)
	s := New(Options{Addr: addr, QueueLen: 1, Timeout: 300 * time.Millisecond})
	defer s.Close()
	ops := make([]*Op, 4)
	start := time.Now()
	for i := range ops {
		ops[i] = NewOp()
		ops[i].Cmd = proto.CmdGet
		ops[i].Req = []byte("get k\r\n")
		go s.Do(ops[i], 0)
	}
	kinds := map[Kind]int{}
	for _, op := range ops {
		op.Wait()
		if op.Err == nil {
			t.Fatal("a request to a silent node succeeded")
		}
		kinds[op.Err.Kind]++
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("requests took %v, want about the timeout", d)
	}
	if kinds[KindQueueFull]+kinds[KindTimeout]+kinds[KindClosed] != len(ops) {
		t.Errorf("failure kinds %v", kinds)
	}
}
