package ring

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

// update rewrites testdata/nutcracker.txt from a live capture.
var update = flag.Bool("update", false, "rewrite testdata/nutcracker.txt from nutcracker")

// scenario is one server list and set of options placed by nutcracker.
type scenario struct {
	name   string
	nodes  []Node
	opts   Options
	keyset string // "plain" or "tagged"
}

// scenarioKeys is how many keys each scenario places.
const scenarioKeys = 10000

// plainKey is key i of the "plain" set: "key-<i>", every tenth one with a
// byte >= 0x80 appended (as testdata/md5ring.py writes it).
func plainKey(i int) []byte {
	k := strconv.AppendInt([]byte("key-"), int64(i), 10)
	if i%10 == 0 {
		k = append(k, byte(0x80+i%128))
	}
	return k
}

// taggedKey is key i of the "tagged" set: mostly keys with a "{...}" tag
// shared by seven keys, some without a tag, some with an empty one.
func taggedKey(i int) []byte {
	switch i % 5 {
	case 0:
		return plainKey(i)
	case 1:
		return fmt.Appendf(nil, "{}key-%d", i)
	default:
		return fmt.Appendf(nil, "obj:{%d}:%d", i/7, i)
	}
}

func (s scenario) key(i int) []byte {
	if s.keyset == "tagged" {
		return taggedKey(i)
	}
	return plainKey(i)
}

// header describes the scenario in the golden file, so a changed table
// cannot be checked against stale placements.
func (s scenario) header() string {
	var b strings.Builder
	fmt.Fprintf(&b, "scenario %s distribution=%s hash=%s hash_tag=%q keys=%s/%d\n",
		s.name, s.opts.Distribution, s.opts.Hash, s.opts.HashTag, s.keyset, scenarioKeys)
	for _, n := range s.nodes {
		fmt.Fprintf(&b, "server %s:%d %s\n", n.Addr, n.Weight, n.Alias)
	}
	return strings.TrimRight(strings.ReplaceAll(b.String(), " \n", "\n"), "\n")
}

// fixedNodes returns n nodes on 127.77.0.1..n at port with the weights
// (1 when nil) and aliases (none when nil).
func fixedNodes(n, port int, weights []int, aliases []string) []Node {
	nodes := make([]Node, n)
	for i := range nodes {
		nodes[i] = Node{Addr: fmt.Sprintf("127.77.0.%d:%d", i+1, port), Weight: 1}
		if weights != nil {
			nodes[i].Weight = weights[i]
		}
		if aliases != nil {
			nodes[i].Alias = aliases[i]
		}
	}
	return nodes
}

// Ports the fixed memcached nodes listen on: the ketama default, whose
// names leave the port out, and another.
const (
	portDefault = 11211
	portOther   = 22211
)

// scenarios are the server lists captured from nutcracker.
func scenarios() []scenario {
	ss := []scenario{
		{"ketama-2-md5", fixedNodes(2, portDefault, nil, nil), Options{Hash: "md5", Distribution: Ketama}, "plain"},
		{"ketama-3-weights-fnv1a_64", fixedNodes(3, portDefault, []int{1, 2, 3}, nil), Options{Hash: "fnv1a_64", Distribution: Ketama}, "plain"},
		{"ketama-10-murmur", fixedNodes(10, portDefault, nil, nil), Options{Hash: "murmur", Distribution: Ketama}, "plain"},
		{"ketama-10-weights-port-one_at_a_time", fixedNodes(10, portOther, []int{1, 1, 2, 3, 5, 8, 1, 1, 4, 10}, nil), Options{Hash: "one_at_a_time", Distribution: Ketama}, "plain"},
		{"ketama-3-aliases-fnv1a_64", fixedNodes(3, portOther, []int{1, 1, 2}, []string{"cache-a", "cache-b", "cache-c"}), Options{Hash: "fnv1a_64", Distribution: Ketama}, "plain"},
		{"ketama-4-hash_tag-fnv1a_64", fixedNodes(4, portDefault, nil, nil), Options{Hash: "fnv1a_64", Distribution: Ketama, HashTag: "{}"}, "tagged"},
		// libmemcached's KETAMA_WEIGHTED test list, its names given as aliases.
		{"ketama-8-libmemcached-md5", fixedNodes(8, portDefault, []int{600, 300, 200, 350, 1000, 800, 950, 100},
			[]string{"10.0.1.1", "10.0.1.2", "10.0.1.3", "10.0.1.4", "10.0.1.5", "10.0.1.6", "10.0.1.7", "10.0.1.8"}), Options{Hash: "md5", Distribution: Ketama}, "plain"},
		// Weights where twemproxy's float32 arithmetic gives each node 4
		// points fewer than exact arithmetic would.
		{"ketama-5-weights-float32-md5", fixedNodes(5, portOther, []int{1, 4, 8, 4, 8}, nil), Options{Hash: "md5", Distribution: Ketama}, "plain"},
		{"modula-5-weights-crc32a", fixedNodes(5, portOther, []int{1, 2, 3, 1, 4}, nil), Options{Hash: "crc32a", Distribution: Modula}, "plain"},
	}
	// Every hash through both distributions: ketama pins all 32 bits of a
	// hash to a range, modula its remainder.
	for _, h := range HashNames() {
		ss = append(ss,
			scenario{"ketama-5-" + h, fixedNodes(5, portOther, nil, nil), Options{Hash: h, Distribution: Ketama}, "plain"},
			scenario{"modula-7-" + h, fixedNodes(7, portDefault, nil, nil), Options{Hash: h, Distribution: Modula}, "plain"})
	}
	return ss
}

const ownerDigits = "0123456789abcdefghijklmnopqrstuvwxyz"

// readGolden reads testdata/nutcracker.txt: for each scenario header, the
// owner of each key.
func readGolden(t *testing.T) map[string][]int {
	t.Helper()
	f, err := os.Open("testdata/nutcracker.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	golden := map[string][]int{}
	var header []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "owners "):
			h := strings.Join(header, "\n")
			for _, c := range strings.TrimPrefix(line, "owners ") {
				golden[h] = append(golden[h], strings.IndexRune(ownerDigits, c))
			}
		case strings.HasPrefix(line, "scenario "):
			header = []string{line}
		default:
			header = append(header, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return golden
}

// writeGolden writes captured owners, one scenario after another.
func writeGolden(t *testing.T, ss []scenario, owners [][]int) {
	t.Helper()
	var b strings.Builder
	b.WriteString("# Where nutcracker (twemproxy 0.5.0) put each key of each scenario in\n")
	b.WriteString("# scenarios_test.go: one character a key, the index of its server.\n")
	b.WriteString("# Regenerate with: go test ./internal/ring -run TestNutcrackerLive -update\n")
	for i, s := range ss {
		b.WriteString(s.header() + "\n")
		for at := 0; at < len(owners[i]); at += 100 {
			b.WriteString("owners ")
			for _, o := range owners[i][at:min(at+100, len(owners[i]))] {
				b.WriteByte(ownerDigits[o])
			}
			b.WriteByte('\n')
		}
	}
	if err := os.WriteFile("testdata/nutcracker.txt", []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestNutcrackerGolden checks every scenario's placement against what
// nutcracker did with the same server list (captured in the golden file).
func TestNutcrackerGolden(t *testing.T) {
	golden := readGolden(t)
	for _, s := range scenarios() {
		t.Run(s.name, func(t *testing.T) {
			want, ok := golden[s.header()]
			if !ok || len(want) != scenarioKeys {
				t.Fatalf("no capture of %d keys in testdata/nutcracker.txt for\n%s", scenarioKeys, s.header())
			}
			r, err := New(s.nodes, s.opts)
			if err != nil {
				t.Fatal(err)
			}
			bad := 0
			for i, w := range want {
				if got := r.Pick(s.key(i)); got != w {
					if bad++; bad <= 5 {
						t.Errorf("key %q: Pick = %d, nutcracker put it on %d", s.key(i), got, w)
					}
				}
			}
			if bad > 0 {
				t.Errorf("%d of %d keys placed unlike nutcracker", bad, len(want))
			}
		})
	}
}
