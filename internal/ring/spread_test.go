package ring

import (
	"strconv"
	"testing"
)

func equalNodes(n int) []Node {
	nodes := make([]Node, n)
	for i := range nodes {
		nodes[i] = Node{Addr: "127.0.0.1:" + strconv.Itoa(11311+i), Weight: 1}
	}
	return nodes
}

// TestKeySharesAndSkew pins KeyShares and Skew on a modula ring, whose
// placement is hash mod n: keys whose hash is known land where expected.
func TestKeySharesAndSkew(t *testing.T) {
	r, err := New(equalNodes(2), Options{Hash: "md5", Distribution: Modula})
	if err != nil {
		t.Fatal(err)
	}
	var even, odd [][]byte
	for i := 0; len(even) < 3 || len(odd) < 1; i++ {
		k := []byte("k" + strconv.Itoa(i))
		if r.Pick(k) == 0 && len(even) < 3 {
			even = append(even, k)
		} else if r.Pick(k) == 1 && len(odd) < 1 {
			odd = append(odd, k)
		}
	}
	keys := append(even, odd...)
	if got := r.KeyShares(keys); got[0] != 0.75 || got[1] != 0.25 {
		t.Errorf("KeyShares = %v, want [0.75 0.25]", got)
	}
	// Each node's ring share is 1/2: node 0 has half again its share.
	if got := r.Skew(keys); got != 0.5 {
		t.Errorf("Skew = %v, want 0.5", got)
	}
	if got := Moved(r, r, keys); got != 0 {
		t.Errorf("Moved(r, r) = %v, want 0", got)
	}
}

// TestSequentialSkewSeparatesHashes: over 3, 5 and 10 equal nodes, md5
// stays under SkewThreshold for sequential keys and fnv1a_64, twemproxy's
// default, goes over it.
func TestSequentialSkewSeparatesHashes(t *testing.T) {
	for _, n := range []int{3, 5, 10} {
		for hash, bad := range map[string]bool{"md5": false, "murmur": false, "fnv1a_64": true, "crc16": true} {
			r, err := New(equalNodes(n), Options{Hash: hash})
			if err != nil {
				t.Fatal(err)
			}
			skew, prefix := r.SequentialSkew()
			if (skew > SkewThreshold) != bad {
				t.Errorf("%d nodes, %s: skew %.2f (keys %s…), want over %.2f: %v", n, hash, skew, prefix, SkewThreshold, bad)
			}
		}
	}
}

// TestMovedBetweenHashes: moving 3 equal ketama nodes from one hash to an
// unrelated one moves about two keys in three.
func TestMovedBetweenHashes(t *testing.T) {
	a, _ := New(equalNodes(3), Options{Hash: "fnv1a_64"})
	b, _ := New(equalNodes(3), Options{Hash: "md5"})
	got := Moved(a, b, SequentialKeys("user:", 30000))
	if got < 0.6 || got > 0.73 {
		t.Errorf("Moved = %.3f, want about 2/3", got)
	}
}

// TestKetamaNameOfSocket: a Unix socket without a name is hashed as its
// path and a colon, as twemproxy does (checked against nutcracker in
// internal/proxy's TestUnixSocketServersPlacedAsNutcracker).
func TestKetamaNameOfSocket(t *testing.T) {
	if got := ketamaName(Node{Addr: "/tmp/mc.sock", Weight: 1}); got != "/tmp/mc.sock:" {
		t.Errorf("ketamaName = %q, want %q", got, "/tmp/mc.sock:")
	}
	if got := ketamaName(Node{Addr: "/tmp/mc.sock", Alias: "mc", Weight: 1}); got != "mc" {
		t.Errorf("named: ketamaName = %q, want %q", got, "mc")
	}
}
