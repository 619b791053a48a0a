package ring

import (
	"fmt"
	"strings"
)

// HashFunc maps a key to a 32-bit hash value.
type HashFunc func(key []byte) uint32

// The key hashes, by the names twemproxy gives them in its config. Each
// function reproduces twemproxy's value bit for bit as built on amd64,
// where C's char is signed: several of them sign-extend bytes >= 0x80, and
// that quirk decides where such keys land.
var hashes = []struct {
	name string
	fn   HashFunc
}{
	{"one_at_a_time", oneAtATime},
	{"md5", md5Hash},
	{"crc16", crc16},
	{"crc32", crc32Short},
	{"crc32a", crc32a},
	{"fnv1_64", fnv1x64},
	{"fnv1a_64", fnv1ax64},
	{"fnv1_32", fnv1x32},
	{"fnv1a_32", fnv1ax32},
	{"hsieh", hsieh},
	{"murmur", murmur},
	{"jenkins", jenkins},
}

// DefaultHash is the key hash used when Options.Hash is empty, as in
// twemproxy.
const DefaultHash = "fnv1a_64"

// HashNames returns the names of the key hash functions, in twemproxy's
// order.
func HashNames() []string {
	names := make([]string, len(hashes))
	for i, h := range hashes {
		names[i] = h.name
	}
	return names
}

// Hash returns the key hash function called name ("" means DefaultHash).
func Hash(name string) (HashFunc, error) {
	if name == "" {
		name = DefaultHash
	}
	for _, h := range hashes {
		if h.name == name {
			return h.fn, nil
		}
	}
	return nil, fmt.Errorf("ring: unknown hash %q (valid: %s)", name, strings.Join(HashNames(), ", "))
}

// signExtend returns b as C's signed char converted to uint32 on amd64.
func signExtend(b byte) uint32 { return uint32(int32(int8(b))) }
