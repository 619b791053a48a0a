package ring

import "hash/crc32"

// crc16Table is the CRC-16/XMODEM table (polynomial 0x1021).
var crc16Table = makeCRC16Table()

func makeCRC16Table() *[256]uint32 {
	var t [256]uint32
	for i := range t {
		c := uint32(i) << 8
		for range 8 {
			if c&0x8000 != 0 {
				c = (c << 1) ^ 0x1021
			} else {
				c <<= 1
			}
		}
		t[i] = c & 0xffff
	}
	return &t
}

// crc16 is twemproxy's crc16. Its register is 32 bits wide and never
// masked, so bits above the 16th survive into the value: reproduced on
// purpose, since they decide placement.
func crc16(key []byte) uint32 {
	var crc uint32
	for _, b := range key {
		crc = (crc << 8) ^ crc16Table[((crc>>8)^uint32(b))&0xff]
	}
	return crc
}

// crc32Short is twemproxy's (and libmemcached's) crc32: bits 16 to 30 of
// the standard CRC-32, so only 15 bits.
func crc32Short(key []byte) uint32 {
	return (crc32.ChecksumIEEE(key) >> 16) & 0x7fff
}

// crc32a is the standard CRC-32 (IEEE), as gomemcache uses.
func crc32a(key []byte) uint32 {
	return crc32.ChecksumIEEE(key)
}
