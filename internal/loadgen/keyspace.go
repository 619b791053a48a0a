package loadgen

import "strconv"

// patternSpan is the number of distinct starting offsets into the value
// pattern; a prime, so neighbouring keys rarely share one.
const patternSpan = 251

// keyspace names the keys of a run and derives each key's value. Key i is
// the prefix followed by i in decimal. Its value starts with the key itself
// (cut to the value size) and goes on with a printable pseudo-random
// pattern read from an offset that depends on i and the value size; its
// flags depend on them too. A reply can thus be checked with two
// comparisons and without building the value.
type keyspace struct {
	prefix []byte
	keys   uint32
	size   int
	// pattern holds size+patternSpan printable bytes.
	pattern []byte
}

func newKeyspace(prefix string, keys, size int) *keyspace {
	ks := &keyspace{prefix: []byte(prefix), keys: uint32(keys), size: size}
	ks.pattern = make([]byte, size+patternSpan)
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"
	x := uint64(0x9e3779b97f4a7c15)
	for i := range ks.pattern {
		x = splitmix(x)
		ks.pattern[i] = alphabet[x&63]
	}
	return ks
}

// splitmix is the SplitMix64 step: a cheap, well-mixed function of x.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// appendKey appends key i to b.
func (ks *keyspace) appendKey(b []byte, i uint32) []byte {
	b = append(b, ks.prefix...)
	return strconv.AppendUint(b, uint64(i), 10)
}

// index returns the number of key, and false when key is not a key of this
// key space written canonically (no sign, no leading zero).
func (ks *keyspace) index(key []byte) (uint32, bool) {
	if len(key) <= len(ks.prefix) || string(key[:len(ks.prefix)]) != string(ks.prefix) {
		return 0, false
	}
	digits := key[len(ks.prefix):]
	if len(digits) > 10 || (len(digits) > 1 && digits[0] == '0') {
		return 0, false
	}
	var n uint64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	if n >= uint64(ks.keys) {
		return 0, false
	}
	return uint32(n), true
}

// mix is the hash of key i and the value size that places its pattern and
// sets its flags.
func (ks *keyspace) mix(i uint32) uint64 {
	return splitmix(uint64(i) | uint64(ks.size)<<32)
}

// flags returns the flags stored with key i.
func (ks *keyspace) flags(i uint32) uint32 {
	return uint32(ks.mix(i) >> 48)
}

// headLen returns how many leading bytes of the value of a key of keyLen
// bytes are the key itself.
func (ks *keyspace) headLen(keyLen int) int {
	return min(keyLen, ks.size)
}

// tail returns the part of key i's value after its head of headLen bytes.
func (ks *keyspace) tail(i uint32, headLen int) []byte {
	off := int(ks.mix(i) % patternSpan)
	return ks.pattern[off : off+ks.size-headLen]
}

// valid reports whether value is the value of key i.
func (ks *keyspace) valid(i uint32, value []byte) bool {
	if len(value) != ks.size {
		return false
	}
	var buf [maxKeyLength]byte
	key := ks.appendKey(buf[:0], i)
	h := ks.headLen(len(key))
	return string(value[:h]) == string(key[:h]) && string(value[h:]) == string(ks.tail(i, h))
}
