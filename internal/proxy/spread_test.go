package proxy

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"strconv"
	"testing"

	"hashproxy/internal/config"
	"hashproxy/internal/ring"
)

// How far, relatively, a node's share of keys may be from its fair share
// (1/n of equal nodes) with the native defaults, and from its share of the
// ring. The first includes ketama's own unevenness (160 points per server,
// as twemproxy, so up to about 15 % for these nodes); the second is the
// hash's alone.
const (
	fairTolerance = 0.20
	ringTolerance = 0.05
)

// keySets are key sets named as applications name them.
func keySets(n int) map[string][][]byte {
	seq := append(ring.SequentialKeys("user:", n/2), ring.SequentialKeys("session-", n/2)...)
	uuids := make([][]byte, n)
	rnd := make([][]byte, n)
	r := mrand.New(mrand.NewPCG(1, 2))
	for i := range uuids {
		var b [16]byte
		_, _ = rand.Read(b[:])
		h := hex.EncodeToString(b[:])
		uuids[i] = []byte(h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:])
		rnd[i] = strconv.AppendUint(nil, r.Uint64(), 36)
	}
	return map[string][][]byte{"sequential": seq, "uuid": uuids, "random": rnd}
}

// TestNativeDefaultsSpreadKeys: with the native format's default hash and
// distribution, each of 3, 5 and 10 equal nodes gets its fair share of
// sequential, UUID-like and random keys within spreadTolerance.
func TestNativeDefaultsSpreadKeys(t *testing.T) {
	t.Parallel()
	const keys = 100_000
	sets := keySets(keys)
	for _, n := range []int{3, 5, 10} {
		pc := config.DefaultPool()
		for i := 0; i < n; i++ {
			pc.Servers = append(pc.Servers, config.Server{Addr: fmt.Sprintf("10.0.0.%d:11211", i+1), Host: fmt.Sprintf("10.0.0.%d", i+1), Port: 11211, Weight: 1})
		}
		r, err := PoolRing(pc)
		if err != nil {
			t.Fatal(err)
		}
		for name, ks := range sets {
			worst := 0.0
			for _, s := range r.KeyShares(ks) {
				worst = max(worst, s*float64(n)-1, 1-s*float64(n))
			}
			skew := r.Skew(ks)
			t.Logf("%d nodes, %s keys: worst node %.1f%% off its fair share, %.1f%% off its share of the ring", n, name, 100*worst, 100*skew)
			if worst > fairTolerance {
				t.Errorf("%d nodes, %s keys: a node is %.1f%% off its fair share, more than %.0f%%", n, name, 100*worst, 100*fairTolerance)
			}
			if skew > ringTolerance {
				t.Errorf("%d nodes, %s keys: a node is %.1f%% off its share of the ring, more than %.0f%%", n, name, 100*skew, 100*ringTolerance)
			}
		}
	}
}
