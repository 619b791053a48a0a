package hotkeys

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"slices"
)

// largest returns the k keys of counts with the largest counts, largest
// first, ties in order of key.
func largest(counts map[string]uint64, k int) []Key {
	keys := make([]Key, 0, len(counts))
	for key, c := range counts {
		keys = append(keys, Key{Key: []byte(key), Count: c})
	}
	slices.SortFunc(keys, func(a, b Key) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return bytes.Compare(a.Key, b.Key)
	})
	if k >= 0 && len(keys) > k {
		keys = keys[:k]
	}
	return keys
}

// Hashed returns the form of key shown when keys are hidden: "sha256:" and
// the first 16 hex digits of the key's SHA-256. The same key always shows
// the same, so an operator who suspects a key can hash it to confirm; a key
// that can be guessed is not hidden by it.
func Hashed(key []byte) string {
	sum := sha256.Sum256(key)
	return "sha256:" + hex.EncodeToString(sum[:8])
}
