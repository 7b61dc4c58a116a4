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

// sortIDs sorts ids with idLess and returns them.
func sortIDs(ids []string) []string {
	slices.SortFunc(ids, CompareIDs)
	return ids
}

// CompareIDs orders ids ("ko2" before "ko10") as the store lists them, so
// that the kernel's own sorting agrees with the store's.
func CompareIDs(a, b string) int {
	switch {
	case idLess(a, b):
		return -1
	case idLess(b, a):
		return 1
	}
	return strings.Compare(a, b)
}

// IDNumber is the number at the end of an id ("ko12" gives 12), and
// whether there is one.
func IDNumber(id string) (uint64, bool) {
	_, n, ok := splitID(id)
	return n, ok
}
