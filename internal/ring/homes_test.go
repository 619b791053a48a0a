package ring

import (
	"bytes"
	"cmp"
	"crypto/md5"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

// TestHomesMD5RingOnePoint pins the homes on an md5_ring with one point per
// node, where the clockwise order of the nodes is the order of
// md5("<addr>:0"), computed here by sorting the four digests.
func TestHomesMD5RingOnePoint(t *testing.T) {
	nodes := nodesN(4)
	r, err := New(nodes, Options{Distribution: MD5Ring, Replicas: 1})
	if err != nil {
		t.Fatal(err)
	}
	type point struct {
		pos  [16]byte
		node int
	}
	points := make([]point, len(nodes))
	for i, n := range nodes {
		points[i] = point{md5.Sum([]byte(n.Addr + ":0")), i}
	}
	slices.SortFunc(points, func(a, b point) int { return bytes.Compare(a.pos[:], b.pos[:]) })
	for k := range 2000 {
		key := plainKey(k)
		pos := md5.Sum(key)
		first := 0 // the first point strictly above the key, wrapping
		for first < len(points) && bytes.Compare(points[first].pos[:], pos[:]) <= 0 {
			first++
		}
		var want []int
		for j := range len(points) {
			want = append(want, points[(first+j)%len(points)].node)
		}
		for n := 1; n <= 5; n++ {
			got := r.Homes(nil, key, n)
			if w := want[:min(n, 4)]; !slices.Equal(got, w) {
				t.Fatalf("Homes(%q, %d) = %v, want %v", key, n, got, w)
			}
		}
	}
}

// TestHomesExact checks the homes on a five-node ketama ring against the
// continuum built here point by point (160 per node, four from each
// md5("<host>-<j>"), little-endian), walked clockwise from the first point
// at or above the key's fnv1a_64 hash; and on a weighted modula table.
func TestHomesExact(t *testing.T) {
	nodes := nodesN(5)
	ketama, err := New(nodes, Options{})
	if err != nil {
		t.Fatal(err)
	}
	type point struct {
		pos  uint32
		node int
	}
	var points []point
	for i, n := range nodes {
		host := n.Addr[:len(n.Addr)-len(":11211")]
		for j := range 40 {
			d := md5.Sum([]byte(host + "-" + strconv.Itoa(j)))
			for q := range 4 {
				points = append(points, point{binary.LittleEndian.Uint32(d[4*q:]), i})
			}
		}
	}
	slices.SortStableFunc(points, func(a, b point) int { return cmp.Compare(a.pos, b.pos) })
	fnv, _ := Hash("fnv1a_64")
	for k := range 2000 {
		key := plainKey(k)
		h := fnv(key)
		first := 0
		for first < len(points) && points[first].pos < h {
			first++
		}
		var want []int
		for j := range len(points) {
			if o := points[(first+j)%len(points)].node; !slices.Contains(want, o) {
				want = append(want, o)
			}
		}
		for n := 1; n <= 5; n++ {
			if got := ketama.Homes(nil, key, n); !slices.Equal(got, want[:n]) {
				t.Fatalf("ketama Homes(%q, %d) = %v, want %v", key, n, got, want[:n])
			}
		}
	}

	// Weights 2, 1, 1 deal the slots 0 0 1 2: a key in slot s has the
	// homes of slots s, s+1, ... with repeats left out.
	nodes = nodesN(3)
	nodes[0].Weight = 2
	modula, err := New(nodes, Options{Distribution: Modula, Hash: "crc32a"})
	if err != nil {
		t.Fatal(err)
	}
	hash, _ := Hash("crc32a")
	bySlot := [][]int{{0, 1, 2}, {0, 1, 2}, {1, 2, 0}, {2, 0, 1}}
	for k := range 100 {
		key := []byte("key:" + strconv.Itoa(k))
		want := bySlot[hash(key)%4]
		if got := modula.Homes(nil, key, 3); !slices.Equal(got, want) {
			t.Fatalf("modula Homes(%q, 3) = %v, want %v", key, got, want)
		}
	}
}

// TestHomesAppend checks that Homes appends after what dst holds, counting
// only its own homes as repeats, and caps n at the number of nodes.
func TestHomesAppend(t *testing.T) {
	r, err := New(nodesN(3), Options{})
	if err != nil {
		t.Fatal(err)
	}
	key := []byte("foo")
	all := r.Homes(nil, key, 3)
	got := r.Homes([]int{all[0]}, key, 2)
	if want := []int{all[0], all[0], all[1]}; !slices.Equal(got, want) {
		t.Errorf("Homes after %v = %v, want %v", all[:1], got, want)
	}
	if got := r.Homes(nil, key, 10); !slices.Equal(got, all) {
		t.Errorf("Homes(10) = %v, want the 3 nodes %v", got, all)
	}
	if got := r.Homes(nil, key, 0); len(got) != 0 {
		t.Errorf("Homes(0) = %v, want none", got)
	}
	one, err := New(nodesN(1), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := one.Homes(nil, key, 3); !slices.Equal(got, []int{0}) {
		t.Errorf("one node: Homes(3) = %v, want [0]", got)
	}
}

// TestHomesProperties builds random rings and checks, for many keys: the
// homes are distinct nodes, the first is Pick's owner; and, for ketama and
// md5_ring with one node added, the first home changes for about 1/(N+1)
// of the keys, and every other change only inserts the new node.
func TestHomesProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 14))
	const keys = 20000
	for trial := range 12 {
		dist := []string{Ketama, Modula, MD5Ring}[trial%3]
		n := 2 + rng.IntN(14)
		nodes := make([]Node, n+1)
		for i := range nodes {
			nodes[i] = Node{Addr: fmt.Sprintf("10.%d.%d.%d:%d", rng.IntN(256), rng.IntN(256), rng.IntN(256), 1024+rng.IntN(60000)), Weight: 1}
		}
		weighted := slices.Clone(nodes[:n])
		for i := range weighted {
			weighted[i].Weight = 1 + rng.IntN(4)
		}
		copies := 1 + rng.IntN(min(n, 4))
		opts := Options{Distribution: dist, Hash: HashNames()[rng.IntN(len(HashNames()))], Replicas: 40}
		name := fmt.Sprintf("%s/%d nodes/%d copies/%s", dist, n, copies, opts.Hash)
		t.Run(name, func(t *testing.T) {
			for _, ns := range [][]Node{nodes[:n], weighted} {
				r, err := New(ns, opts)
				if err != nil {
					t.Fatal(err)
				}
				var buf []int
				for k := range keys {
					key := plainKey(k)
					buf = r.Homes(buf[:0], key, copies)
					if len(buf) != copies {
						t.Fatalf("key %q: %d homes %v, want %d", key, len(buf), buf, copies)
					}
					if buf[0] != r.Pick(key) {
						t.Fatalf("key %q: first home %d, owner %d", key, buf[0], r.Pick(key))
					}
					for i, h := range buf {
						if slices.Contains(buf[:i], h) {
							t.Fatalf("key %q: homes %v repeat node %d", key, buf, h)
						}
					}
				}
			}
			if dist == Modula {
				return // modula moves most keys when a node is added
			}
			before, err := New(nodes[:n], opts)
			if err != nil {
				t.Fatal(err)
			}
			after, err := New(nodes, opts)
			if err != nil {
				t.Fatal(err)
			}
			firstMoved := 0
			var a, b, kept []int
			for k := range keys {
				key := plainKey(k)
				a = before.Homes(a[:0], key, copies)
				b = after.Homes(b[:0], key, copies)
				if a[0] != b[0] {
					firstMoved++
					if b[0] != n {
						t.Fatalf("key %q: first home moved from %d to %d, not to the new node", key, a[0], b[0])
					}
				}
				kept = kept[:0]
				for _, h := range b {
					if h != n {
						kept = append(kept, h)
					}
				}
				if !slices.Equal(kept, a[:len(kept)]) {
					t.Fatalf("key %q: homes %v became %v: more than the new node %d inserted", key, a, b, n)
				}
			}
			if frac := float64(firstMoved) / keys; frac < 0.4/float64(n+1) || frac > 1.6/float64(n+1) {
				t.Errorf("adding a node moved the first home of %.3f of the keys, want about %.3f", frac, 1/float64(n+1))
			}
		})
	}
}

func TestHomesAllocs(t *testing.T) {
	for _, dist := range []string{Ketama, Modula, MD5Ring} {
		r, err := New(nodesN(100), Options{Distribution: dist, HashTag: "{}"})
		if err != nil {
			t.Fatal(err)
		}
		key := []byte("user:{1234}:profile")
		buf := make([]int, 0, 3)
		if n := testing.AllocsPerRun(1000, func() { buf = r.Homes(buf[:0], key, 3) }); n != 0 {
			t.Errorf("%s: Homes allocates %v times", dist, n)
		}
	}
}

// FuzzHomes places arbitrary keys: the homes are valid, distinct, start
// with the owner, and a key and its hash tag's content share them.
func FuzzHomes(f *testing.F) {
	for _, seed := range []string{"", "a", "{}", "{a}", "x{y}z", "\xff\x80\x00"} {
		f.Add([]byte(seed), uint8(2))
	}
	var rings []*Ring
	for _, dist := range []string{Ketama, Modula, MD5Ring} {
		r, err := New(nodesN(7), Options{Distribution: dist, HashTag: "{}", Replicas: 10})
		if err != nil {
			f.Fatal(err)
		}
		rings = append(rings, r)
	}
	f.Fuzz(func(t *testing.T, key []byte, n uint8) {
		copies := int(n%9) + 1
		for _, r := range rings {
			homes := r.Homes(nil, key, copies)
			if len(homes) != min(copies, r.Len()) || homes[0] != r.Pick(key) {
				t.Fatalf("%s: Homes(%q, %d) = %v, owner %d", r.Distribution(), key, copies, homes, r.Pick(key))
			}
			for i, h := range homes {
				if h < 0 || h >= r.Len() || slices.Contains(homes[:i], h) {
					t.Fatalf("%s: Homes(%q, %d) = %v", r.Distribution(), key, copies, homes)
				}
			}
			if inner := r.tagged(key); !slices.Equal(r.Homes(nil, inner, copies), homes) {
				t.Fatalf("%s: %q and its tag %q have different homes", r.Distribution(), key, inner)
			}
		}
	})
}

// BenchmarkHomes measures the homes of a typical key, two and three of
// them, next to BenchmarkPick's one.
func BenchmarkHomes(b *testing.B) {
	keys := make([][]byte, 1024)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "user:%d:profile", i*7919)
	}
	for _, dist := range []string{Ketama, Modula, MD5Ring} {
		for _, n := range []int{3, 10, 100} {
			r, err := New(nodesN(n), Options{Distribution: dist})
			if err != nil {
				b.Fatal(err)
			}
			for _, copies := range []int{2, 3} {
				b.Run(fmt.Sprintf("%s/%d/%d", dist, n, copies), func(b *testing.B) {
					b.ReportAllocs()
					buf := make([]int, 0, copies)
					i := 0
					for b.Loop() {
						buf = r.Homes(buf[:0], keys[i&1023], copies)
						i++
					}
				})
			}
		}
	}
}
