package loadgen

import (
	"bytes"
	"testing"
)

// value builds key i's value the way a set sends it.
func value(ks *keyspace, i uint32) []byte {
	b, h := appendSetHead(nil, ks, i)
	head := b[len(b)-h:]
	return append(bytes.Clone(head), ks.tail(i, h)...)
}

func TestKeyspaceIndex(t *testing.T) {
	ks := newKeyspace("k:", 1000, 10)
	for _, i := range []uint32{0, 7, 10, 999} {
		key := ks.appendKey(nil, i)
		if got, ok := ks.index(key); !ok || got != i {
			t.Errorf("index(%q) = %d, %v; want %d", key, got, ok, i)
		}
	}
	for _, key := range []string{"", "k:", "k:1000", "k:01", "k:-1", "k:1x", "x:1", "k", "k:99999999999", "k:4294967296"} {
		if i, ok := ks.index([]byte(key)); ok {
			t.Errorf("index(%q) = %d, want not a key", key, i)
		}
	}
}

func TestKeyspaceValues(t *testing.T) {
	for _, size := range []int{1, 3, 4, 100, 4096} {
		ks := newKeyspace("key:", 100, size)
		seen := map[string]uint32{}
		for i := uint32(0); i < 100; i++ {
			v := value(ks, i)
			if len(v) != size {
				t.Fatalf("size %d: key %d value has %d bytes", size, i, len(v))
			}
			if !ks.valid(i, v) {
				t.Fatalf("size %d: key %d: own value not valid: %q", size, i, v)
			}
			if j, dup := seen[string(v)]; dup && size >= 8 {
				t.Fatalf("size %d: keys %d and %d share a value", size, i, j)
			}
			seen[string(v)] = i
			if size >= 8 && ks.valid(i+1, v) {
				t.Fatalf("size %d: key %d's value passes for key %d", size, i, i+1)
			}
			for _, at := range []int{0, size / 2, size - 1} {
				bad := bytes.Clone(v)
				bad[at] ^= 0x20
				if ks.valid(i, bad) {
					t.Fatalf("size %d: key %d: value with byte %d flipped is valid", size, i, at)
				}
			}
			if ks.valid(i, v[:size-1]) {
				t.Fatalf("size %d: key %d: truncated value is valid", size, i)
			}
		}
	}
}

func TestKeyspaceValueDependsOnSize(t *testing.T) {
	a, b := newKeyspace("k", 10, 50), newKeyspace("k", 10, 60)
	if bytes.Equal(value(a, 3), value(b, 3)[:50]) && a.flags(3) == b.flags(3) {
		t.Error("key 3 has the same value and flags at sizes 50 and 60")
	}
}
