package persistence

// smallMap is the map a table keeps per unit (its overlay, its dirty set):
// its first few keys live in a slice, and only a unit that writes more
// than smallKeys of them to one table gets a Go map.
//
// Why: a crank writes one or two keys to each of the seven or eight tables
// it touches (a ping-pong crank: 11 keys over 8 tables). A Go map spends
// on each of those what a slice does not: a hash of the key for every
// read and write, a random starting point and an iterator for every
// range at commit, and a walk of its groups for every clear. Profiles of
// the in-memory round trip put those at a fifth of its CPU time, in
// Store.Commit alone, for a handful of keys. A linear scan of at most
// smallKeys entries compares a few strings instead, and emptying the
// slice is one memclr.
//
// A smallMap holds a key at most once, in either representation:
//
// INVARIANT: m == nil or small is empty; a key appears in at most one
// entry. Iteration order is the order of first insertion while small, and
// Go's map order beyond; no caller may depend on it.
type smallMap[K comparable, V any] struct {
	small []smallEntry[K, V]
	m     map[K]V
}

type smallEntry[K comparable, V any] struct {
	k K
	v V
}

// smallKeys is the most keys a smallMap keeps in its slice. Past it a
// scan costs more than a hash: eight string comparisons that mostly fail
// at the length or the first bytes are still cheaper than one aeshash and
// a group probe, sixteen are not for long keys.
const smallKeys = 8

// get reads k.
func (s *smallMap[K, V]) get(k K) (V, bool) {
	if s.m != nil {
		v, ok := s.m[k]
		return v, ok
	}
	for i := range s.small {
		if s.small[i].k == k {
			return s.small[i].v, true
		}
	}
	var zero V
	return zero, false
}

// has reports whether k is present.
func (s *smallMap[K, V]) has(k K) bool {
	_, ok := s.get(k)
	return ok
}

// set writes k, moving the entries into a map when the slice is full.
func (s *smallMap[K, V]) set(k K, v V) {
	if s.m != nil {
		s.m[k] = v
		return
	}
	for i := range s.small {
		if s.small[i].k == k {
			s.small[i].v = v
			return
		}
	}
	if len(s.small) < smallKeys {
		s.small = append(s.small, smallEntry[K, V]{k, v})
		return
	}
	s.m = make(map[K]V, 2*smallKeys)
	for _, e := range s.small {
		s.m[e.k] = e.v
	}
	s.m[k] = v
	clear(s.small) // drop the values' references
	s.small = s.small[:0]
}

// len is the number of keys.
func (s *smallMap[K, V]) len() int {
	if s.m != nil {
		return len(s.m)
	}
	return len(s.small)
}

// all ranges over the entries. The caller must not write to s while it
// ranges (a Go map allows deletes; a smallMap does not need them).
func (s *smallMap[K, V]) all(yield func(K, V) bool) {
	if s.m != nil {
		for k, v := range s.m {
			if !yield(k, v) {
				return
			}
		}
		return
	}
	for i := range s.small {
		if !yield(s.small[i].k, s.small[i].v) {
			return
		}
	}
}

// reset empties s for the next unit. A map that held more than
// maxKeptMap keys is dropped, not cleared, and s goes back to its slice:
// clearing a Go map, and ranging over it, costs its capacity rather than
// its length, so one big unit would otherwise slow every later one. A
// smaller map is cleared in place: a table whose units often pass
// smallKeys would otherwise make a new map each unit.
func (s *smallMap[K, V]) reset() {
	switch {
	case s.m == nil:
		clear(s.small) // drop the values' references for the collector
		s.small = s.small[:0]
	case len(s.m) > maxKeptMap:
		s.m = nil
	default:
		clear(s.m)
	}
}
