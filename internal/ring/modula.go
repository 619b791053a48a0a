package ring

// modulaRing is twemproxy's modula distribution: hash % total weight
// indexes a table where each node appears weight times, in node order.
// With equal weights this is hash % n, gomemcache's ServerList placement.
type modulaRing struct {
	slots []int32
}

func newModula(nodes []Node) modulaRing {
	var m modulaRing
	for i, n := range nodes {
		for range n.Weight {
			m.slots = append(m.slots, int32(i))
		}
	}
	return m
}

func (m *modulaRing) pick(h uint32) int {
	return int(m.slots[h%uint32(len(m.slots))])
}

// shares returns each node's share of the total weight.
func (m *modulaRing) shares(nodes []Node) []float64 {
	s := make([]float64, len(nodes))
	for i, n := range nodes {
		s[i] = float64(n.Weight) / float64(len(m.slots))
	}
	return s
}
