package ring

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"hashproxy/internal/testenv"
)

// TestNutcrackerLive places every scenario's keys through a real
// nutcracker in front of real memcached nodes, reads back from each node
// where each key landed, and requires the golden file and Pick to agree on
// every key. With -update it rewrites the golden file instead.
func TestNutcrackerLive(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 20 memcached processes")
	}
	testenv.Need(t, "nutcracker")
	for i := 1; i <= 10; i++ {
		for _, port := range []int{portDefault, portOther} {
			testenv.StartMemcachedAt(t, fmt.Sprintf("127.77.0.%d", i), port)
		}
	}
	ss := scenarios()
	owners := make([][]int, len(ss))
	golden := map[string][]int{}
	if !*update {
		golden = readGolden(t)
	}
	for i, s := range ss {
		owners[i] = captureNutcracker(t, s)
		if *update {
			continue
		}
		want := golden[s.header()]
		r, err := New(s.nodes, s.opts)
		if err != nil {
			t.Fatal(err)
		}
		bad := 0
		for k, o := range owners[i] {
			if (k < len(want) && want[k] != o) || r.Pick(s.key(k)) != o {
				bad++
			}
		}
		if bad > 0 || len(want) != len(owners[i]) {
			t.Errorf("%s: %d of %d keys differ from the golden file or Pick", s.name, bad, len(owners[i]))
		}
	}
	if *update {
		writeGolden(t, ss, owners)
	}
}

// captureNutcracker writes the scenario's keys through nutcracker and
// returns, for each key, the index of the node it is stored on.
func captureNutcracker(t *testing.T, s scenario) []int {
	t.Helper()
	port := testenv.FreePort(t)
	var conf strings.Builder
	fmt.Fprintf(&conf, "pool:\n  listen: 127.0.0.1:%d\n  hash: %s\n  distribution: %s\n", port, s.opts.Hash, s.opts.Distribution)
	if s.opts.HashTag != "" {
		fmt.Fprintf(&conf, "  hash_tag: %q\n", s.opts.HashTag)
	}
	conf.WriteString("  timeout: 5000\n  server_connections: 1\n  auto_eject_hosts: false\n  servers:\n")
	for _, n := range s.nodes {
		fmt.Fprintf(&conf, "    - %s:%d %s\n", n.Addr, n.Weight, n.Alias)
	}
	nc := testenv.StartNutcracker(t, conf.String(), port)
	defer nc.Stop()

	keys := make([][]byte, scenarioKeys)
	for i := range keys {
		keys[i] = s.key(i)
	}
	value := []byte(s.name) // tells this scenario's copies from earlier ones
	setAll(t, nc.Addr, keys, value)

	at := make(map[string]int, len(keys))
	for node, n := range s.nodes {
		for _, k := range getAll(t, n.Addr, keys, value) {
			if prev, dup := at[k]; dup {
				t.Fatalf("%s: key %q on nodes %d and %d", s.name, k, prev, node)
			}
			at[k] = node
		}
	}
	owners := make([]int, len(keys))
	for i, k := range keys {
		node, ok := at[string(k)]
		if !ok {
			t.Fatalf("%s: key %q stored on no node", s.name, k)
		}
		owners[i] = node
	}
	return owners
}

// dial connects to addr with a deadline for the whole exchange.
func dial(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	return c, bufio.NewReader(c)
}

// setAll stores value under every key through addr, 200 pipelined sets at
// a time.
func setAll(t *testing.T, addr string, keys [][]byte, value []byte) {
	t.Helper()
	c, rd := dial(t, addr)
	for at := 0; at < len(keys); at += 200 {
		batch := keys[at:min(at+200, len(keys))]
		var req []byte
		for _, k := range batch {
			req = append(req, "set "...)
			req = append(req, k...)
			req = append(req, " 0 0 "...)
			req = strconv.AppendInt(req, int64(len(value)), 10)
			req = append(append(append(req, "\r\n"...), value...), "\r\n"...)
		}
		if _, err := c.Write(req); err != nil {
			t.Fatal(err)
		}
		for range batch {
			line, err := rd.ReadString('\n')
			if err != nil || line != "STORED\r\n" {
				t.Fatalf("set through %s: %q, %v", addr, line, err)
			}
		}
	}
}

// getAll returns the keys that memcached at addr holds with value.
func getAll(t *testing.T, addr string, keys [][]byte, value []byte) []string {
	t.Helper()
	c, rd := dial(t, addr)
	var found []string
	for at := 0; at < len(keys); at += 100 {
		req := []byte("get")
		for _, k := range keys[at:min(at+100, len(keys))] {
			req = append(append(req, ' '), k...)
		}
		if _, err := c.Write(append(req, "\r\n"...)); err != nil {
			t.Fatal(err)
		}
		for {
			line, err := rd.ReadBytes('\n')
			if err != nil {
				t.Fatalf("get from %s: %v", addr, err)
			}
			if string(line) == "END\r\n" {
				break
			}
			f := bytes.Split(bytes.TrimSuffix(line, []byte("\r\n")), []byte(" "))
			if len(f) != 4 || string(f[0]) != "VALUE" {
				t.Fatalf("get from %s: %q", addr, line)
			}
			data, err := rd.ReadBytes('\n')
			if err != nil {
				t.Fatalf("get from %s: %v", addr, err)
			}
			if bytes.Equal(bytes.TrimSuffix(data, []byte("\r\n")), value) {
				found = append(found, string(f[1]))
			}
		}
	}
	return found
}
