package ring

// FNV constants.
const (
	fnv64Init  = 0xcbf29ce484222325
	fnv64Prime = 0x100000001b3
	fnv32Init  = 2166136261
	fnv32Prime = 16777619
)

// fnv1x64 is twemproxy's fnv1_64: 64-bit FNV-1 over sign-extended bytes,
// truncated to its low 32 bits.
func fnv1x64(key []byte) uint32 {
	h := uint64(fnv64Init)
	for _, b := range key {
		h *= fnv64Prime
		h ^= uint64(int64(int8(b)))
	}
	return uint32(h)
}

// fnv1ax64 is twemproxy's fnv1a_64, which despite its name is a 32-bit
// FNV-1a seeded and multiplied with the truncated 64-bit constants, over
// sign-extended bytes.
func fnv1ax64(key []byte) uint32 {
	h := uint32(fnv64Init & 0xffffffff)
	for _, b := range key {
		h ^= signExtend(b)
		h *= uint32(fnv64Prime & 0xffffffff)
	}
	return h
}

// fnv1x32 is 32-bit FNV-1 over sign-extended bytes.
func fnv1x32(key []byte) uint32 {
	h := uint32(fnv32Init)
	for _, b := range key {
		h *= fnv32Prime
		h ^= signExtend(b)
	}
	return h
}

// fnv1ax32 is 32-bit FNV-1a over sign-extended bytes.
func fnv1ax32(key []byte) uint32 {
	h := uint32(fnv32Init)
	for _, b := range key {
		h ^= signExtend(b)
		h *= fnv32Prime
	}
	return h
}
