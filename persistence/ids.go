package persistence

import (
	"slices"
	"strings"
)

// idLess orders ids such as "v2" < "v10" and "ko9" < "ko10" < "kp1": by
// their non-numeric prefix, then by the trailing number, then as strings.
// Deterministic order matters: the kernel walks c-lists and GC sets in this
// order, and the order decides what is queued first.
func idLess(a, b string) bool {
	pa, na, oka := splitID(a)
	pb, nb, okb := splitID(b)
	if pa != pb {
		return pa < pb
	}
	if oka && okb && na != nb {
		return na < nb
	}
	if oka != okb {
		return oka // numbered before un-numbered
	}
	return a < b
}

// splitID splits "ko12" into ("ko", 12, true). A suffix too long for a
// uint64 is no number. It parses by hand: sorting 10k vat ids calls it
// about 300k times, and strconv's error path allocates.
func splitID(s string) (prefix string, n uint64, ok bool) {
	i := len(s)
	for i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
		i--
	}
	if i == len(s) {
		return s, 0, false
	}
	for j := i; j < len(s); j++ {
		d := uint64(s[j] - '0')
		if n > (^uint64(0)-d)/10 {
			return s, 0, false // overflows a uint64
		}
		n = n*10 + d
	}
	return s[:i], n, true
}

// sortIDs sorts ids with idLess and returns them. Each id is split once,
// not at every comparison: Status sorts every vat id on each call.
func sortIDs(ids []string) []string {
	if len(ids) < 2 {
		return ids
	}
	keys := make([]splitKey, len(ids))
	for i, id := range ids {
		keys[i].prefix, keys[i].n, keys[i].ok = splitID(id)
		keys[i].id = id
	}
	slices.SortFunc(keys, compareSplit)
	for i := range keys {
		ids[i] = keys[i].id
	}
	return ids
}

// splitKey is an id with its parts, for sorting.
type splitKey struct {
	prefix string
	n      uint64
	ok     bool
	id     string
}

// compareSplit is CompareIDs over ids split already.
func compareSplit(a, b splitKey) int {
	if a.prefix != b.prefix {
		return strings.Compare(a.prefix, b.prefix)
	}
	if a.ok && b.ok && a.n != b.n {
		if a.n < b.n {
			return -1
		}
		return 1
	}
	if a.ok != b.ok {
		if a.ok {
			return -1 // numbered before un-numbered
		}
		return 1
	}
	return strings.Compare(a.id, b.id)
}

// CompareIDs orders ids ("ko2" before "ko10") as the store lists them, so
// that the kernel's own sorting agrees with the store's.
func CompareIDs(a, b string) int {
	var ka, kb splitKey
	ka.prefix, ka.n, ka.ok = splitID(a)
	kb.prefix, kb.n, kb.ok = splitID(b)
	ka.id, kb.id = a, b
	return compareSplit(ka, kb)
}

// IDNumber is the number at the end of an id ("ko12" gives 12), and
// whether there is one.
func IDNumber(id string) (uint64, bool) {
	_, n, ok := splitID(id)
	return n, ok
}
