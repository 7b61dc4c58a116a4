package persistence

import (
	"slices"
	"sort"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// splitID parses by hand; it must agree with strconv on every suffix,
// including the largest uint64 and the first number past it.
func TestSplitIDAgreesWithStrconv(t *testing.T) {
	for _, id := range []string{"", "x", "ko", "ko0", "ko12", "v007", "kp18446744073709551615",
		"kp18446744073709551616", "o99999999999999999999", "12", "a1b2"} {
		i := len(id)
		for i > 0 && id[i-1] >= '0' && id[i-1] <= '9' {
			i--
		}
		wantPrefix, wantN, wantOK := id, uint64(0), false
		if i < len(id) {
			if n, err := strconv.ParseUint(id[i:], 10, 64); err == nil {
				wantPrefix, wantN, wantOK = id[:i], n, true
			}
		}
		p, n, ok := splitID(id)
		require.Equal(t, []any{wantPrefix, wantN, wantOK}, []any{p, n, ok}, id)
	}
	require.True(t, idLess("ko9", "ko10"))
	require.True(t, idLess("ko10", "kp1"))
	require.True(t, idLess("v2", "v10"))
}

// sortIDs, which splits each id once, orders ids as idLess does, ties
// ("v7" and "v007") included.
func TestSortIDsAgreesWithIDLess(t *testing.T) {
	ids := []string{"v10", "v2", "v007", "v7", "ko1", "kp3", "ko10", "ko9", "x", "", "12", "a1b2",
		"kp18446744073709551616", "kp18446744073709551615", "v", "ko", "kp1"}
	got := sortIDs(slices.Clone(ids))
	want := slices.Clone(ids)
	sort.SliceStable(want, func(i, j int) bool { return idLess(want[i], want[j]) })
	require.Equal(t, want, got)
	for i := 1; i < len(got); i++ {
		require.LessOrEqual(t, CompareIDs(got[i-1], got[i]), 0, "%q before %q", got[i-1], got[i])
	}
}
