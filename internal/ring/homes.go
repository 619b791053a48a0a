package ring

// Homes appends to dst the indexes of key's homes, at most n of them: the
// node that owns key (Pick's answer), then the next distinct nodes
// clockwise from the key's point (for modula, the nodes of the next
// slots), so that no node appears twice. It returns fewer than n when the
// ring has fewer nodes that own points. It does not allocate when dst has
// room for n more indexes, and is safe for concurrent use.
//
// Adding a node to a ketama or md5_ring ring changes a key's homes only by
// inserting the new node into them (dropping the last when there are n
// already), so the copies of the other keys stay where they are.
func (r *Ring) Homes(dst []int, key []byte, n int) []int {
	if n <= 0 {
		return dst
	}
	if len(r.nodes) == 1 || n == 1 {
		return append(dst, r.Pick(key))
	}
	n = min(n, len(r.nodes))
	start := len(dst)
	key = r.tagged(key)
	var owners []int32
	var i int
	switch r.kind {
	case Ketama:
		owners, i = r.ketama.owners, r.ketama.at(r.keyHash(key))
	case Modula:
		owners = r.modula.slots
		i = int(r.keyHash(key) % uint32(len(owners)))
	default:
		owners, i = r.md5ring.owners, r.md5ring.at(key)
	}
	// Walk the points (slots) once around the ring from the key's.
	for range owners {
		o := int(owners[i])
		if !contains(dst[start:], o) {
			dst = append(dst, o)
			if len(dst)-start == n {
				break
			}
		}
		if i++; i == len(owners) {
			i = 0 // past the last point: wrap around
		}
	}
	return dst
}

// contains reports whether homes holds node i; homes are few, so a scan
// beats a set.
func contains(homes []int, i int) bool {
	for _, h := range homes {
		if h == i {
			return true
		}
	}
	return false
}
