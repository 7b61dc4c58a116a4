package persistence

import (
	"flag"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var smallMapSeed = flag.Uint64("smallmap-seed", 0, "seed of TestSmallMapMatchesAMap's operations (0: a new one, printed)")

// A smallMap answers as a Go map of the same writes does, through random
// sets, resets and reads, in both of its representations and across the
// switch between them; a reset after a big unit drops the map, and after
// a small one keeps the slice's array.
func TestSmallMapMatchesAMap(t *testing.T) {
	seed := *smallMapSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay: -smallmap-seed=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 2))
	var s smallMap[CListKey, int]
	model := map[CListKey]int{}
	check := func(when string) {
		t.Helper()
		require.Equal(t, len(model), s.len(), "%s: len", when)
		if s.m != nil {
			require.Empty(t, s.small, "%s: keys in both the slice and the map", when)
		}
		got := map[CListKey]int{}
		for k, v := range s.all {
			_, dup := got[k]
			require.False(t, dup, "%s: key %v listed twice", when, k)
			got[k] = v
		}
		require.Equal(t, model, got, "%s: entries", when)
	}
	for round := 0; round < 300; round++ {
		// Units of every size: most within smallKeys, some a little past
		// it, a few past maxKeptMap.
		n := rng.IntN(smallKeys + 1)
		switch rng.IntN(10) {
		case 0:
			n = smallKeys + rng.IntN(3*smallKeys)
		case 1:
			if rng.IntN(5) == 0 {
				n = maxKeptMap + rng.IntN(100)
			}
		}
		keys := 1 + rng.IntN(2*n+1) // how varied the unit's keys are
		for i := 0; i < n; i++ {
			k := CListKey{Vat: "v" + string(rune('1'+rng.IntN(3))), KRef: "ko" + string(rune('a'+rng.IntN(keys%26+1))) + string(rune('a'+rng.IntN(keys/26+1)))}
			v := rng.Int()
			s.set(k, v)
			model[k] = v
			got, ok := s.get(k)
			require.True(t, ok)
			require.Equal(t, v, got)
		}
		absent := CListKey{Vat: "v9", KRef: "ko"}
		require.False(t, s.has(absent))
		check("before reset")
		big := s.len() > maxKeptMap
		hadMap := s.m != nil
		array := cap(s.small)
		s.reset()
		clear(model)
		check("after reset")
		switch {
		case big:
			require.Nil(t, s.m, "round %d: a map past maxKeptMap is dropped", round)
		case hadMap:
			require.NotNil(t, s.m, "round %d: a smaller map is kept for reuse", round)
		default:
			require.Equal(t, array, cap(s.small), "round %d: the slice keeps its array", round)
		}
	}
}

// A range over a smallMap stops when its body breaks, in either
// representation.
func TestSmallMapRangeStops(t *testing.T) {
	for _, n := range []int{smallKeys, 4 * smallKeys} {
		var s smallMap[string, struct{}]
		for i := 0; i < n; i++ {
			s.set(string(rune('a'+i)), struct{}{})
		}
		seen := 0
		for range s.all {
			seen++
			if seen == 3 {
				break
			}
		}
		require.Equal(t, 3, seen, "n=%d", n)
	}
}
