package proxy

import (
	"bufio"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rawClient is a memcached text protocol connection for tests: raw
// requests, reply lines and whole retrieval replies. send and line fail the
// test on an error; the other methods return it, for goroutines and for
// tests that expect one.
type rawClient struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

// dialRaw connects to addr; the connection is closed when the test ends.
func dialRaw(t *testing.T, addr string) *rawClient {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawClient{t: t, c: c, br: bufio.NewReader(c)}
}

// send writes s.
func (r *rawClient) send(s string) {
	r.t.Helper()
	if _, err := io.WriteString(r.c, s); err != nil {
		r.t.Fatal(err)
	}
}

// line reads one reply line, without its "\r\n".
func (r *rawClient) line() string {
	r.t.Helper()
	l, err := r.readLine()
	if err != nil {
		r.t.Fatalf("read: %v (got %q)", err, l)
	}
	return l
}

// readLine reads one reply line, without "\r\n", within 5 seconds.
func (r *rawClient) readLine() (string, error) {
	_ = r.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	l, err := r.br.ReadString('\n')
	return strings.TrimSuffix(l, "\r\n"), err
}

// ask sends req and reads one reply line.
func (r *rawClient) ask(req string) (string, error) {
	if _, err := io.WriteString(r.c, req); err != nil {
		return "", err
	}
	return r.readLine()
}

// set stores value under key and returns the reply line.
func (r *rawClient) set(key, value string) (string, error) {
	return r.ask("set " + key + " 0 0 " + strconv.Itoa(len(value)) + "\r\n" + value + "\r\n")
}

// get asks for keys and returns the reply: the value of each hit, by key,
// and the final line ("END" or an error line).
func (r *rawClient) get(keys ...string) (map[string]string, string, error) {
	if _, err := io.WriteString(r.c, "get "+strings.Join(keys, " ")+"\r\n"); err != nil {
		return nil, "", err
	}
	return r.values()
}

// values reads a retrieval reply.
func (r *rawClient) values() (map[string]string, string, error) {
	hits := map[string]string{}
	for {
		l, err := r.readLine()
		if err != nil {
			return hits, "", err
		}
		f := strings.Fields(l)
		if len(f) < 4 || f[0] != "VALUE" {
			return hits, l, nil
		}
		n, err := strconv.Atoi(f[3])
		if err != nil {
			return hits, l, err
		}
		data := make([]byte, n+2)
		if _, err := io.ReadFull(r.br, data); err != nil {
			return hits, "", err
		}
		hits[f[1]] = string(data[:n])
	}
}
