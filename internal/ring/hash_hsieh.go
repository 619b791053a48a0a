package ring

// hsieh is Paul Hsieh's SuperFastHash as in twemproxy, whose empty key
// hashes to 0 and whose 3-byte tail sign-extends its last byte.
func hsieh(key []byte) uint32 {
	if len(key) == 0 {
		return 0
	}
	var h uint32
	rest := len(key) & 3
	for ; len(key) >= 4; key = key[4:] {
		h += get16(key)
		tmp := (get16(key[2:]) << 11) ^ h
		h = (h << 16) ^ tmp
		h += h >> 11
	}
	switch rest {
	case 3:
		h += get16(key)
		h ^= h << 16
		h ^= signExtend(key[2]) << 18
		h += h >> 11
	case 2:
		h += get16(key)
		h ^= h << 11
		h += h >> 17
	case 1:
		h += uint32(key[0])
		h ^= h << 10
		h += h >> 1
	}
	h ^= h << 3
	h += h >> 5
	h ^= h << 4
	h += h >> 17
	h ^= h << 25
	h += h >> 6
	return h
}

// get16 reads a little-endian uint16.
func get16(b []byte) uint32 { return uint32(b[0]) | uint32(b[1])<<8 }
