package marshal

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSingleRef(t *testing.T) {
	tests := []struct {
		body      string
		slots     []string
		wantSlot  string
		wantProm  bool
		wantFound bool
	}{
		{`#"$0.Alleged: vatRoot"`, []string{"ko4"}, "ko4", false, true},
		{`#"$0"`, []string{"ko4"}, "ko4", false, true},
		{`#"&0"`, []string{"kp2"}, "kp2", true, true},
		{`#"$1.Alleged: x"`, []string{"ko1", "ko2"}, "ko2", false, true},
		{`#"$1"`, []string{"ko1"}, "", false, false}, // index out of range
		{`#"$01"`, []string{"ko1", "ko2"}, "", false, false},
		{`#"$+0"`, []string{"ko1"}, "", false, false}, // Decode refuses these too
		{`#"$-0"`, []string{"ko1"}, "", false, false},
		{`#"&-0"`, []string{"kp1"}, "", false, false},
		{`#"$0"`, []string{""}, "", false, false}, // an empty slot
		{`#"&0.Alleged: x"`, []string{"kp1"}, "", false, false},
		{`#"!$0"`, []string{"ko1"}, "", false, false},  // an escaped string
		{`#["$0"]`, []string{"ko1"}, "", false, false}, // an array holding a ref
		{`#{"a":"$0"}`, []string{"ko1"}, "", false, false},
		{`#"hello"`, nil, "", false, false},
		{`#42`, nil, "", false, false},
		{`"$0"`, []string{"ko1"}, "", false, false}, // not smallcaps
		{``, nil, "", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			slot, prom, ok := SingleRef(CapData{Body: tt.body, Slots: tt.slots})
			require.Equal(t, tt.wantFound, ok)
			require.Equal(t, tt.wantSlot, slot)
			require.Equal(t, tt.wantProm, prom)
		})
	}
}

func TestMethodName(t *testing.T) {
	for body, want := range map[string]string{
		`#["deposit",[1]]`: "deposit", `#["!#odd",[]]`: "#odd", `#[]`: "", `#{"a":1}`: "", `#[1,[]]`: "", `x`: "",
	} {
		got, ok := MethodName(CapData{Body: body})
		require.Equal(t, want != "", ok, body)
		require.Equal(t, want, got, body)
	}
}

// A reference named again reuses its slot and drops its interface, with
// few slots (found by a scan) and with many (past indexAbove, by a map).
func TestEncodeReusesSlots(t *testing.T) {
	for _, n := range []int{3, indexAbove, indexAbove + 1, 3 * indexAbove} {
		var vs []any
		for round := 0; round < 2; round++ {
			for i := 0; i < n; i++ {
				vs = append(vs, Ref{Slot: fmt.Sprintf("o+%d", i), Iface: "Alleged: x"})
			}
		}
		c, err := Encode(vs)
		require.NoError(t, err)
		require.Len(t, c.Slots, n)
		var want strings.Builder
		want.WriteString("#[")
		for j := range vs {
			if j > 0 {
				want.WriteByte(',')
			}
			if j < n {
				fmt.Fprintf(&want, `"$%d.Alleged: x"`, j)
			} else {
				fmt.Fprintf(&want, `"$%d"`, j-n)
			}
		}
		want.WriteString("]")
		require.Equal(t, want.String(), c.Body, "n=%d", n)
	}
	c, err := Encode([]any{Ref{Slot: "p+1", Promise: true}, Ref{Slot: "p+1", Promise: true}})
	require.NoError(t, err)
	require.Equal(t, `#["&0","&0"]`, c.Body)
}
