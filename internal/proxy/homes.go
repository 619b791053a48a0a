package proxy

// homes is the list of a key's homes, the nodes that may hold it, in the
// order they are read: its replica homes (the ring owner, then the next
// distinct nodes on the ring, replication_factor in all), then, during a
// warm-up window, its homes under the previous ring that are not among
// those. Every rule of routing reads it: reads walk it until a hit, writes
// go to the replica homes, delete and touch to every home. A client
// connection reuses one, so computing it does not allocate.
type homes struct {
	nodes    []*node
	replicas int   // nodes[:replicas] are the replica homes, the rest warm-up homes
	idx      []int // scratch: ring indexes
}

// homesOf fills h with key's homes. It is the one place they are
// computed.
func (r *routes) homesOf(h *homes, key []byte) {
	h.nodes = h.nodes[:0]
	if r.single() {
		h.nodes = append(h.nodes, r.pick(key))
		h.replicas = 1
		return
	}
	h.idx = r.ring.Homes(h.idx[:0], key, r.copies)
	for _, i := range h.idx {
		h.nodes = append(h.nodes, r.nodes[i])
	}
	h.replicas = len(h.nodes)
	if p := r.prev; p != nil {
		h.idx = p.ring.Homes(h.idx[:0], key, p.copies)
		for _, i := range h.idx {
			if n := p.nodes[i]; !containsNode(h.nodes, n) {
				h.nodes = append(h.nodes, n)
			}
		}
	}
}

// containsNode reports whether nodes holds n; lists of homes are short.
func containsNode(nodes []*node, n *node) bool {
	for _, m := range nodes {
		if m == n {
			return true
		}
	}
	return false
}
