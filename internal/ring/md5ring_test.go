package ring

import (
	"bufio"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestMD5RingReference checks placements against testdata/md5ring.txt,
// written by the independent reference script testdata/md5ring.py.
func TestMD5RingReference(t *testing.T) {
	f, err := os.Open("testdata/md5ring.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type ref struct {
		name     string
		replicas int
		nodes    []Node
		owners   []int
	}
	var refs []*ref
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		switch {
		case len(fields) == 0 || strings.HasPrefix(fields[0], "#"):
		case fields[0] == "scenario" && len(fields) == 6:
			replicas, err := strconv.Atoi(fields[3])
			if err != nil {
				t.Fatal(err)
			}
			refs = append(refs, &ref{name: fields[1], replicas: replicas})
		case fields[0] == "node" && len(refs) > 0 && len(fields) >= 3:
			w, err := strconv.Atoi(fields[2])
			if err != nil {
				t.Fatal(err)
			}
			n := Node{Addr: fields[1], Weight: w}
			if len(fields) == 4 {
				n.Alias = fields[3]
			}
			refs[len(refs)-1].nodes = append(refs[len(refs)-1].nodes, n)
		case fields[0] == "owners" && len(refs) > 0 && len(fields) == 2:
			for _, c := range fields[1] {
				refs[len(refs)-1].owners = append(refs[len(refs)-1].owners, int(c-'0'))
			}
		default:
			t.Fatalf("md5ring.txt: bad line %q", sc.Text())
		}
	}
	if len(refs) < 3 {
		t.Fatalf("md5ring.txt: %d scenarios, want 3", len(refs))
	}
	for _, rf := range refs {
		r, err := New(rf.nodes, Options{Distribution: MD5Ring, Replicas: rf.replicas})
		if err != nil {
			t.Fatal(err)
		}
		bad := 0
		for i, want := range rf.owners {
			if got := r.Pick(plainKey(i)); got != want {
				bad++
			}
		}
		if bad > 0 || len(rf.owners) < 5000 {
			t.Errorf("%s: %d of %d keys placed unlike the reference", rf.name, bad, len(rf.owners))
		}
	}
}

// TestMD5RingSpread is the recipe's own test: 10 servers with 100 replicas
// each, 1,000 random keys out of 10,000; the population standard deviation
// of keys per server is at most 20 and every server gets keys.
func TestMD5RingSpread(t *testing.T) {
	var nodes []Node
	for i := range 10 {
		nodes = append(nodes, Node{Addr: "192.168.0." + strconv.Itoa(i+1) + ":11211", Weight: 1})
	}
	r, err := New(nodes, Options{Distribution: MD5Ring})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	counts := make([]float64, len(nodes))
	for _, k := range rng.Perm(10000)[:1000] {
		counts[r.Pick([]byte(strconv.Itoa(k)))]++
	}
	var sq float64
	for _, c := range counts {
		if c == 0 {
			t.Fatalf("a server got no keys: %v", counts)
		}
		sq += (c - 100) * (c - 100)
	}
	if sd := math.Sqrt(sq / 10); sd > 20 {
		t.Fatalf("standard deviation %.1f > 20: %v", sd, counts)
	}
}

func TestMD5RingCollision(t *testing.T) {
	// An alias equal to another node's address puts both on the same
	// points.
	nodes := []Node{{Addr: "10.0.0.1:11211", Weight: 1}, {Addr: "10.0.0.2:11211", Alias: "10.0.0.1:11211", Weight: 1}}
	if _, err := New(nodes, Options{Distribution: MD5Ring}); err == nil {
		t.Fatal("New accepted two nodes on the same md5_ring points")
	}
	_, err := newMD5Ring(nodes, []string{"same", "same"}, 2)
	if err == nil || !strings.Contains(err.Error(), "same point") {
		t.Fatalf("colliding points: error %v", err)
	}
}
