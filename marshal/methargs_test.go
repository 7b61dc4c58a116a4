package marshal_test

import (
	"errors"
	"math/big"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/marshal"
)

// EncodeMethargs gives what Encode gives for [method, args]: bytes,
// slots (a ref named twice shares its slot) and errors, the nesting
// limit included.
func TestEncodeMethargsIsEncodeOfThePair(t *testing.T) {
	type opaque struct{ name string }
	a, b := &opaque{"a"}, &opaque{"b"}
	codec := &marshal.Codec{
		SlotOf: func(v any) (marshal.Ref, bool, error) {
			switch v {
			case a:
				return marshal.Ref{Slot: "o-1", Iface: "Alleged: a"}, true, nil
			case b:
				return marshal.Ref{Slot: "p-2"}, true, nil
			}
			if _, ok := v.(chan int); ok {
				return marshal.Ref{}, false, errors.New("no channels")
			}
			return marshal.Ref{}, false, nil
		},
	}
	deep := []any{}
	for i := 0; i < marshal.DefaultMaxDepth; i++ {
		deep = []any{deep}
	}
	cases := []struct {
		method string
		args   []any
	}{
		{"ping", []any{int64(7)}},
		{"ping", nil},
		{"", []any{}},
		{"!bang", []any{"#hash", "plain"}},
		{"make", []any{a, b, a, map[string]any{"z": 1, "a": []any{b}}}},
		{"big", []any{big.NewInt(-5), 1.5, nil, true, marshal.Undefined}},
		{"err", []any{&marshal.Error{Name: "TypeError", Message: "no"}}},
		{"deep", []any{deep}},
		{"chan", []any{make(chan int)}},
		{"func", []any{func() {}}},
	}
	for _, c := range cases {
		args := c.args
		if args == nil {
			args = []any{}
		}
		want, wantErr := codec.Encode([]any{c.method, args})
		got, gotErr := codec.EncodeMethargs(c.method, c.args)
		if wantErr != nil {
			require.Error(t, gotErr, "%s", c.method)
			require.Equal(t, wantErr.Error(), gotErr.Error(), "%s", c.method)
			continue
		}
		require.NoError(t, gotErr, "%s", c.method)
		require.Equal(t, want, got, "%s", c.method)
	}
}

// It makes fewer allocations than the pair would.
func TestEncodeMethargsAllocatesLess(t *testing.T) {
	codec := &marshal.Codec{}
	args := []any{int64(1)}
	pair := testing.AllocsPerRun(100, func() { codec.Encode([]any{"ping", args}) })
	direct := testing.AllocsPerRun(100, func() { codec.EncodeMethargs("ping", args) })
	require.Less(t, direct, pair)
}
