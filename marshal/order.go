package marshal

import "unicode/utf8"

// lessUTF16 orders strings as JavaScript's default sort does: by UTF-16
// code units. It differs from Go's byte order for characters above U+FFFF
// (surrogate pairs sort before U+E000..U+FFFF). Records are encoded with
// their keys in this order, so that bodies match @endo/marshal's.
func lessUTF16(a, b string) bool {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		ra, sa := rune(a[i]), 1
		if ra >= utf8.RuneSelf {
			ra, sa = utf8.DecodeRuneInString(a[i:])
		}
		rb, sb := rune(b[j]), 1
		if rb >= utf8.RuneSelf {
			rb, sb = utf8.DecodeRuneInString(b[j:])
		}
		if ra != rb {
			return utf16Key(ra) < utf16Key(rb)
		}
		i += sa
		j += sb
	}
	// Equal so far: the shorter one sorts first.
	return len(a)-i < len(b)-j
}

// utf16Key maps a rune to a value that orders as its first UTF-16 code unit
// would, breaking ties between astral runes by the rune itself.
func utf16Key(r rune) int64 {
	if r < 0x10000 {
		return int64(r) << 21
	}
	hi := 0xD800 + (r-0x10000)>>10
	return int64(hi)<<21 | int64(r&0x1FFFFF)
}

// compareRecordKeys orders a record's keys as they appear in a body that
// @endo/marshal writes. It sorts the names (lessUTF16), but JSON.stringify
// then walks the object in JavaScript's property order, which puts
// array-index names ("0", "9", "10": canonical integers below 2^32-1) first,
// in numeric order, and keeps the rest in insertion (sorted) order.
func compareRecordKeys(a, b string) int {
	ia, aIdx := arrayIndex(a)
	ib, bIdx := arrayIndex(b)
	switch {
	case aIdx && bIdx:
		return cmpUint(ia, ib)
	case aIdx:
		return -1
	case bIdx:
		return 1
	case lessUTF16(a, b):
		return -1
	case lessUTF16(b, a):
		return 1
	}
	return 0
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// arrayIndex reports whether JavaScript treats s as an array index: the
// canonical decimal form of an integer from 0 to 2^32-2.
func arrayIndex(s string) (uint64, bool) {
	if s == "" || len(s) > 10 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, n < 1<<32-1
}
