package loadgen

import (
	"bufio"
	"context"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeServer is a tiny memcached (set and get only) whose get replies go
// through a mangling function, to show that the load generator counts bad
// replies as errors.
type fakeServer struct {
	ln    net.Listener
	mu    sync.Mutex
	items map[string]string // key -> "flags size\r\ndata"
	// reply writes the part of a get reply for one stored key; it returns
	// false to close the connection instead of finishing the reply.
	reply func(w *bufio.Writer, key, flags string, data []byte, items map[string]string) bool
	wg    sync.WaitGroup
	// close stops the server and closes its connections; calling it
	// twice is harmless.
	close func()
}

func startFake(t *testing.T, reply func(w *bufio.Writer, key, flags string, data []byte, items map[string]string) bool) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &fakeServer{ln: ln, items: map[string]string{}, reply: reply}
	var conns sync.Map
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Store(c, true)
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer conns.Delete(c)
				defer c.Close()
				s.serve(c)
			}()
		}
	}()
	s.close = func() {
		ln.Close()
		conns.Range(func(c, _ any) bool { c.(net.Conn).Close(); return true })
		s.wg.Wait()
	}
	t.Cleanup(s.close)
	return s
}

func (s *fakeServer) serve(c net.Conn) {
	r, w := bufio.NewReader(c), bufio.NewWriter(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		f := strings.Fields(line)
		switch {
		case len(f) == 5 && f[0] == "set":
			n, _ := strconv.Atoi(f[4])
			data := make([]byte, n+2)
			if _, err := io.ReadFull(r, data); err != nil {
				return
			}
			s.mu.Lock()
			s.items[f[1]] = f[2] + " " + string(data[:n])
			s.mu.Unlock()
			w.WriteString("STORED\r\n")
		case len(f) >= 2 && f[0] == "get":
			for _, key := range f[1:] {
				s.mu.Lock()
				it, ok := s.items[key]
				var flags, data string
				if ok {
					flags, data, _ = strings.Cut(it, " ")
				}
				ok = !ok || s.reply(w, key, flags, []byte(data), s.items)
				s.mu.Unlock()
				if !ok {
					w.Flush()
					return
				}
			}
			w.WriteString("END\r\n")
		default:
			w.WriteString("ERROR\r\n")
		}
		if r.Buffered() == 0 && w.Flush() != nil {
			return
		}
	}
}

// writeValue writes one VALUE entry.
func writeValue(w *bufio.Writer, key, flags string, data []byte) {
	w.WriteString("VALUE " + key + " " + flags + " " + strconv.Itoa(len(data)) + "\r\n")
	w.Write(data)
	w.WriteString("\r\n")
}

func fakeOptions(addr string) Options {
	o := DefaultOptions()
	o.Target = addr
	o.Conns = 2
	o.Keys = 20
	o.KeyPrefix = "f:"
	o.GetRatio = 0.5
	o.Duration = 200 * time.Millisecond
	o.Timeout = 200 * time.Millisecond
	return o
}

func TestFakeServerHonest(t *testing.T) {
	s := startFake(t, func(w *bufio.Writer, key, flags string, data []byte, _ map[string]string) bool {
		writeValue(w, key, flags, data)
		return true
	})
	o := fakeOptions(s.ln.Addr().String())
	// A count rather than a time, and a timeout that outlasts a busy
	// machine's stall: an honest server's replies are never errors.
	o.Duration, o.Requests = 0, 200
	o.Timeout = 5 * time.Second
	r, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if r.Errors != 0 || r.Hits != r.Gets || r.Gets == 0 {
		t.Fatalf("honest server: errors %d (%s), hits %d of %d gets", r.Errors, r.FirstError, r.Hits, r.Gets)
	}
}

func TestCorruptRepliesAreErrors(t *testing.T) {
	unstall := make(chan struct{}) // closed when the stall case ends
	for _, c := range []struct {
		name  string
		reply func(w *bufio.Writer, key, flags string, data []byte, items map[string]string) bool
		first string
	}{
		{"flipped byte", func(w *bufio.Writer, key, flags string, data []byte, _ map[string]string) bool {
			data[len(data)/2] ^= 1
			writeValue(w, key, flags, data)
			return true
		}, problemValue},
		{"another key's value", func(w *bufio.Writer, key, flags string, _ []byte, items map[string]string) bool {
			other := "f:0"
			if key == other {
				other = "f:1"
			}
			_, data, _ := strings.Cut(items[other]+" ", " ")
			writeValue(w, key, flags, []byte(strings.TrimSuffix(data, " ")))
			return true
		}, problemValue},
		{"reply for another key", func(w *bufio.Writer, key, flags string, data []byte, _ map[string]string) bool {
			writeValue(w, key+"0", flags, data)
			return true
		}, problemKey},
		{"wrong flags", func(w *bufio.Writer, key, _ string, data []byte, _ map[string]string) bool {
			writeValue(w, key, "70000", data)
			return true
		}, problemFlags},
		{"truncated value", func(w *bufio.Writer, key, flags string, data []byte, _ map[string]string) bool {
			w.WriteString("VALUE " + key + " " + flags + " " + strconv.Itoa(len(data)) + "\r\n")
			w.Write(data[:len(data)/2])
			return false
		}, ""},
		{"stall", func(*bufio.Writer, string, string, []byte, map[string]string) bool {
			<-unstall
			return false
		}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := startFake(t, c.reply)
			start := time.Now()
			o := fakeOptions(s.ln.Addr().String())
			// A request count and a timeout that outlasts a busy machine's
			// stall, except where the server stalls (until the case ends)
			// on purpose: there the timeout ends requests within the run.
			o.Duration, o.Requests, o.Timeout = 0, 100, 5*time.Second
			if c.name == "stall" {
				t.Cleanup(func() { close(unstall) }) // before the server closes
				o.Duration, o.Requests, o.Timeout = time.Second, 0, 250*time.Millisecond
			}
			r, err := Run(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			if r.Gets == 0 || r.Hits != 0 || r.Errors < r.Gets {
				t.Fatalf("gets %d, hits %d, errors %d: every get should be an error", r.Gets, r.Hits, r.Errors)
			}
			if c.first != "" && r.FirstError != c.first {
				t.Errorf("first error %q, want %q", r.FirstError, c.first)
			}
			if c.first == "" && r.Reconnects == 0 {
				t.Errorf("no reconnect after a broken connection (first error %q)", r.FirstError)
			}
			if took := time.Since(start); took > 3*time.Second {
				t.Errorf("run took %v", took)
			}
		})
	}
}

func TestRunEndsWhenTargetDies(t *testing.T) {
	s := startFake(t, func(w *bufio.Writer, key, flags string, data []byte, _ map[string]string) bool {
		writeValue(w, key, flags, data)
		return true
	})
	o := fakeOptions(s.ln.Addr().String())
	o.Duration = 0
	o.Requests = 1_000_000_000
	o.Timeout = 50 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	go func() {
		time.Sleep(100 * time.Millisecond)
		s.close()
	}()
	start := time.Now()
	if _, err := Run(ctx, o); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("cancelled run against a dead target took %v", took)
	}
}
