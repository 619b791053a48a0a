package proto

// The b flag of a meta command says its key is base64. memcached looks the
// item up under the decoded bytes, so the proxy routes by them too, decoded
// exactly as memcached's base64_decode (base64.c) does: bytes outside the
// alphabet are skipped, the count of the others must be a multiple of 4,
// and decoding stops after the first block holding padding. Go's strict
// decoder would refuse keys memcached accepts.

// maxDecodedKey is the longest key a base64 key token of MaxKeyLength bytes
// decodes to.
const maxDecodedKey = MaxKeyLength / 4 * 3

// notBase64 marks a byte outside the base64 alphabet in base64Value.
const notBase64 = 0x80

// base64Value maps each byte to its 6-bit value in the standard alphabet,
// '=' to 0, and every other byte to notBase64.
var base64Value = func() (t [256]byte) {
	for i := range t {
		t[i] = notBase64
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := range len(alphabet) {
		t[alphabet[i]] = byte(i)
	}
	t['='] = 0
	return t
}()

// decodeBase64Key decodes src into dst, which must hold len(src)/4*3
// bytes, as memcached decodes a key given with the b flag. It returns the
// decoded length, or 0 when memcached refuses the key.
func decodeBase64Key(dst, src []byte) int {
	count := 0
	for _, c := range src {
		if base64Value[c] != notBase64 {
			count++
		}
	}
	if count == 0 || count%4 != 0 || count/4*3 > len(dst) {
		return 0
	}
	var block [4]byte
	n, pos, pad := 0, 0, 0
	for _, c := range src {
		v := base64Value[c]
		if v == notBase64 {
			continue
		}
		if c == '=' {
			pad++
		}
		block[n] = v
		n++
		if n < 4 {
			continue
		}
		dst[pos] = block[0]<<2 | block[1]>>4
		dst[pos+1] = block[1]<<4 | block[2]>>2
		dst[pos+2] = block[2]<<6 | block[3]
		pos += 3
		n = 0
		if pad > 0 {
			if pad > 2 {
				return 0 // invalid padding
			}
			return pos - pad
		}
	}
	return pos
}
