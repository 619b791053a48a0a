package ring

import (
	"slices"
	"strings"
)

// modulaRing is twemproxy's modula distribution: hash % total weight
// indexes a table where each node appears weight times, in the given
// order. With equal weights and the nodes in listed order this is
// hash % n, gomemcache's ServerList placement.
type modulaRing struct {
	slots []int32
}

// newModula deals the slots to nodes in order (indexes into nodes).
func newModula(nodes []Node, order []int) modulaRing {
	var m modulaRing
	for _, i := range order {
		for range nodes[i].Weight {
			m.slots = append(m.slots, int32(i))
		}
	}
	return m
}

// listedOrder is 0, 1, ..., n-1.
func listedOrder(n int) []int {
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	return order
}

// twemproxyOrder is the order in which twemproxy deals modula slots: it
// sorts a pool's servers by name (ketama's name: the alias, else the host
// when the port is 11211, else host:port), shorter names first, then
// bytewise, keeping the listed order for equal names.
func twemproxyOrder(names []string) []int {
	order := listedOrder(len(names))
	slices.SortStableFunc(order, func(a, b int) int {
		if d := len(names[a]) - len(names[b]); d != 0 {
			return d
		}
		return strings.Compare(names[a], names[b])
	})
	return order
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
