package ring

// Arc is a stretch of a ring's hash space that one node owns, as fractions
// of the whole space from Start up to End.
type Arc struct {
	Start, End float64
	// Node is the owner's index into the nodes given to New.
	Node int
}

// Arcs returns the ring's hash space as arcs in order from 0 to 1, each the
// longest run owned by one node, for drawing the ring as a circle: ketama
// and md5_ring owners as their points share the space, modula's slots in
// table order. Each node's arcs add up to its Shares entry.
func (r *Ring) Arcs() []Arc {
	var arcs []Arc
	add := func(start, end float64, node int) {
		if end <= start {
			return
		}
		if n := len(arcs); n > 0 && arcs[n-1].Node == node {
			arcs[n-1].End = end
			return
		}
		arcs = append(arcs, Arc{Start: start, End: end, Node: node})
	}
	switch {
	case len(r.nodes) == 1:
		add(0, 1, 0)
	case r.kind == Ketama:
		// A point owns the values after the previous point up to and
		// including itself; the first point also owns the values past
		// the last.
		k := &r.ketama
		prev := 0.0
		for i, p := range k.points {
			end := (float64(p) + 1) / (1 << 32)
			add(prev, end, int(k.owners[i]))
			prev = end
		}
		add(prev, 1, int(k.owners[0]))
	case r.kind == Modula:
		n := float64(len(r.modula.slots))
		for i, owner := range r.modula.slots {
			add(float64(i)/n, float64(i+1)/n, int(owner))
		}
	default:
		// A point owns the positions from the previous point up to just
		// below itself; the first point also owns those from the last.
		m := &r.md5ring
		prev := 0.0
		for i, p := range m.points {
			end := p.fraction()
			add(prev, end, int(m.owners[i]))
			prev = end
		}
		add(prev, 1, int(m.owners[0]))
	}
	return arcs
}

// fraction returns p as a fraction of 2^128.
func (p md5Point) fraction() float64 {
	return float64(p.hi)/(1<<64) + float64(p.lo)/(1<<64)/(1<<64)
}
