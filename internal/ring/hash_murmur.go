package ring

import "encoding/binary"

// murmur is MurmurHash2 as in twemproxy, seeded with 0xdeadbeef × length.
func murmur(key []byte) uint32 {
	const m = 0x5bd1e995
	n := uint32(len(key))
	h := (0xdeadbeef * n) ^ n
	for ; len(key) >= 4; key = key[4:] {
		k := binary.LittleEndian.Uint32(key)
		k *= m
		k ^= k >> 24
		k *= m
		h *= m
		h ^= k
	}
	switch len(key) {
	case 3:
		h ^= uint32(key[2]) << 16
		fallthrough
	case 2:
		h ^= uint32(key[1]) << 8
		fallthrough
	case 1:
		h ^= uint32(key[0])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return h
}
