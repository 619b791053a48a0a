package ring

import (
	"crypto/md5"
	"encoding/binary"
)

// md5Hash is the little-endian uint32 of the first four bytes of the key's
// md5 digest.
func md5Hash(key []byte) uint32 {
	d := md5.Sum(key)
	return binary.LittleEndian.Uint32(d[:4])
}
