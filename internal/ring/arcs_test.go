package ring

import (
	"fmt"
	"math"
	"testing"
)

// TestArcs checks, for every distribution, that the arcs tile [0, 1) in
// order, add up to Shares, and agree with Pick: a key whose position on the
// ring falls in an arc belongs to that arc's node.
func TestArcs(t *testing.T) {
	nodes := []Node{
		{Addr: "10.0.0.1:11211", Weight: 1},
		{Addr: "10.0.0.2:11211", Weight: 2},
		{Addr: "10.0.0.3:11211", Weight: 1},
	}
	for _, dist := range []string{Ketama, Modula, MD5Ring} {
		t.Run(dist, func(t *testing.T) {
			r, err := New(nodes, Options{Distribution: dist})
			if err != nil {
				t.Fatal(err)
			}
			arcs := r.Arcs()
			sums := make([]float64, len(nodes))
			prev := 0.0
			for i, a := range arcs {
				if a.Start != prev || a.End <= a.Start {
					t.Fatalf("arc %d = %+v after %v", i, a, prev)
				}
				if i > 0 && arcs[i-1].Node == a.Node {
					t.Errorf("arcs %d and %d of node %d not merged", i-1, i, a.Node)
				}
				sums[a.Node] += a.End - a.Start
				prev = a.End
			}
			if prev != 1 {
				t.Errorf("arcs end at %v, want 1", prev)
			}
			for i, s := range r.Shares() {
				if math.Abs(sums[i]-s) > 1e-9 {
					t.Errorf("node %d: arcs add up to %v, share %v", i, sums[i], s)
				}
			}
			for i := range 5000 {
				key := fmt.Appendf(nil, "key:%d", i)
				var pos float64
				switch dist {
				case Ketama:
					pos = float64(r.keyHash(key)) / (1 << 32)
				case Modula:
					n := uint32(len(r.modula.slots))
					pos = (float64(r.keyHash(key)%n) + 0.5) / float64(n)
				default:
					pos = md5Position(key).fraction()
				}
				if got, want := ownerAt(arcs, pos), r.Pick(key); got != want {
					t.Fatalf("%s at %v: arcs say node %d, Pick %d", key, pos, got, want)
				}
			}
		})
	}
}

// ownerAt returns the node of the arc holding pos.
func ownerAt(arcs []Arc, pos float64) int {
	for _, a := range arcs {
		if pos < a.End {
			return a.Node
		}
	}
	return arcs[0].Node
}

func TestArcsOneNode(t *testing.T) {
	r, err := New([]Node{{Addr: "a:1", Weight: 1}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if arcs := r.Arcs(); len(arcs) != 1 || arcs[0] != (Arc{0, 1, 0}) {
		t.Errorf("arcs = %+v, want one whole circle", arcs)
	}
}
