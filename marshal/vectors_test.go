package marshal

import (
	"encoding/json"
	"math"
	"math/big"
	"os"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// desc is a vector's typed description of a value (gen-vectors.mjs).
type desc struct {
	T       string          `json:"t"`
	V       json.RawMessage `json:"v"`
	Tag     string          `json:"tag"`
	Payload *desc           `json:"payload"`
	Name    string          `json:"name"`
	Message string          `json:"message"`
	Slot    string          `json:"slot"`
	Iface   string          `json:"iface"`
}

type vector struct {
	Name  string
	Value desc
	Body  string
	Slots []string
}

func loadVectors(t testing.TB) []vector {
	b, err := os.ReadFile("testdata/vectors.json")
	require.NoError(t, err)
	var f struct{ Cases []vector }
	require.NoError(t, json.Unmarshal(b, &f))
	return f.Cases
}

// goValue builds the Go value a descriptor stands for. decoded=true gives
// what Decode returns (-0 decodes as 0, since smallcaps writes it so).
func goValue(t testing.TB, d desc, decoded bool) any {
	t.Helper()
	str := func() string {
		var s string
		require.NoError(t, json.Unmarshal(d.V, &s))
		return s
	}
	switch d.T {
	case "null":
		return nil
	case "undefined":
		return Undefined
	case "bool":
		var b bool
		require.NoError(t, json.Unmarshal(d.V, &b))
		return b
	case "number":
		s := str()
		switch s {
		case "NaN":
			return math.NaN()
		case "Infinity":
			return math.Inf(1)
		case "-Infinity":
			return math.Inf(-1)
		case "-0":
			if decoded {
				return int64(0)
			}
			return math.Copysign(0, -1)
		}
		f, err := strconv.ParseFloat(s, 64)
		require.NoError(t, err)
		if f == math.Trunc(f) && math.Abs(f) <= maxSafeInteger {
			return int64(f)
		}
		return f
	case "bigint":
		n, ok := new(big.Int).SetString(str(), 10)
		require.True(t, ok)
		return n
	case "string":
		return str()
	case "symbol":
		return Symbol(str())
	case "array":
		var els []desc
		require.NoError(t, json.Unmarshal(d.V, &els))
		out := make([]any, len(els))
		for i, el := range els {
			out[i] = goValue(t, el, decoded)
		}
		return out
	case "record":
		var entries [][2]json.RawMessage
		require.NoError(t, json.Unmarshal(d.V, &entries))
		out := map[string]any{}
		for _, e := range entries {
			var k string
			var v desc
			require.NoError(t, json.Unmarshal(e[0], &k))
			require.NoError(t, json.Unmarshal(e[1], &v))
			out[k] = goValue(t, v, decoded)
		}
		return out
	case "tagged":
		return Tagged{Tag: d.Tag, Payload: goValue(t, *d.Payload, decoded)}
	case "error":
		return &Error{Name: d.Name, Message: d.Message}
	case "remotable":
		return Ref{Slot: d.Slot, Iface: d.Iface}
	case "promise":
		return Ref{Slot: d.Slot, Promise: true}
	}
	t.Fatalf("unknown descriptor type %q", d.T)
	return nil
}

// equalValues compares decoded values, with NaN equal to NaN and bigints
// by value.
func equalValues(a, b any) bool {
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		return ok && (x == y && math.Signbit(x) == math.Signbit(y) || math.IsNaN(x) && math.IsNaN(y))
	case *big.Int:
		y, ok := b.(*big.Int)
		return ok && x.Cmp(y) == 0
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equalValues(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !equalValues(v, w) {
				return false
			}
		}
		return true
	case Tagged:
		y, ok := b.(Tagged)
		return ok && x.Tag == y.Tag && equalValues(x.Payload, y.Payload)
	case *Error:
		y, ok := b.(*Error)
		return ok && *x == *y
	}
	return a == b
}

// The vectors come from @endo/marshal itself (testdata/gen-vectors.mjs):
// Go must encode each value to the same body and slots, byte for byte, and
// decode each body to the value.
func TestVectors(t *testing.T) {
	vs := loadVectors(t)
	require.GreaterOrEqual(t, len(vs), 100)
	for _, v := range vs {
		t.Run(v.Name, func(t *testing.T) {
			got, err := Encode(goValue(t, v.Value, false))
			require.NoError(t, err)
			require.Equal(t, v.Body, got.Body)
			if len(v.Slots) == 0 {
				require.Empty(t, got.Slots)
			} else {
				require.Equal(t, v.Slots, got.Slots)
			}
			dec, err := Decode(CapData{Body: v.Body, Slots: v.Slots})
			require.NoError(t, err)
			want := goValue(t, v.Value, true)
			require.True(t, equalValues(want, dec), "decoded %#v, want %#v", dec, want)
		})
	}
}

func TestEncodeGoTypes(t *testing.T) {
	tests := []struct {
		v    any
		want string
	}{
		{[]string{"a", "b"}, `#["a","b"]`},
		{[2]int{1, 2}, `#[1,2]`},
		{map[string]int{"b": 2, "a": 1}, `#{"a":1,"b":2}`},
		{[]any(nil), `#[]`},
		{uint8(7), `#7`},
		{float32(0.5), `#0.5`},
		{&Ref{Slot: "o+1", Iface: "Alleged: x"}, `#"$0.Alleged: x"`},
		{&Tagged{Tag: "t", Payload: 1}, `#{"#tag":"t","payload":1}`},
		{errString("plain go error"), `#{"#error":"plain go error","name":"Error"}`},
		{Symbol("@@asyncIterator"), `#"%@@asyncIterator"`},
	}
	for _, tt := range tests {
		got, err := Encode(tt.v)
		require.NoError(t, err, "%#v", tt.v)
		require.Equal(t, tt.want, got.Body)
	}
}

type errString string

func (e errString) Error() string { return string(e) }

func TestEncodeRefusesUnpassables(t *testing.T) {
	deep := any("x")
	for i := 0; i < DefaultMaxDepth+1; i++ {
		deep = []any{deep}
	}
	for _, v := range []any{
		int64(1 << 60), uint64(1 << 54), []byte("bytes"), map[int]string{1: "x"},
		struct{ A int }{1}, make(chan int), (*big.Int)(nil), Ref{}, deep, func() {},
	} {
		_, err := Encode(v)
		require.ErrorIs(t, err, ErrUnpassable, "%T", v)
	}
}

func TestDecodeRejectsMalformed(t *testing.T) {
	deep := "1"
	for i := 0; i < DefaultMaxDepth+1; i++ {
		deep = "[" + deep + "]"
	}
	tests := []struct {
		body  string
		slots []string
		want  string
	}{
		{"", nil, "empty body"},
		{`[1]`, nil, "not smallcaps"},
		{`#`, nil, "not JSON"},
		{`#[1,`, nil, "not JSON"},
		{`#1 2`, nil, "after its JSON value"},
		{`#"$0"`, nil, "out of range"},
		{`#"$1.Alleged: x"`, []string{"o+1"}, "out of range"},
		{`#"$-1"`, []string{"o+1"}, "bad slot index"},
		{`#"$01"`, []string{"o+1", "o+2"}, "bad slot index"},
		{`#"$0"`, []string{""}, "slot 0 is empty"},
		{`#["$0.Alleged: a","$1.Alleged: b"]`, []string{"o+1", "o+1"}, "slots 0 and 1 are both"},
		{`#"$x"`, []string{"o+1"}, "bad slot index"},
		{`#"&0.Alleged: x"`, []string{"p+1"}, "has an interface"},
		{`#["$0","&0"]`, []string{"o+1"}, "both as a promise and as a remotable"},
		{`#"#bogus"`, nil, "unknown constant"},
		{`#"+12x"`, nil, "not a decimal integer"},
		{`#"+"`, nil, "not a decimal integer"},
		{`#"(reserved"`, nil, "reserved"},
		{`#{"#tag":"t"}`, nil, "exactly #tag and payload"},
		{`#{"#tag":1,"payload":2}`, nil, "tag must be a string"},
		{`#{"#error":1,"name":"Error"}`, nil, "error message must be a string"},
		{`#{"#error":"x"}`, nil, "without a name"},
		{`#{"#error":"x","name":"Error","message":"y"}`, nil, "unexpected encoded error property"},
		{`#{"#weird":1}`, nil, "unrecognized record type"},
		{`#1e400`, nil, "out of range"},
		{"#" + deep, nil, "deeper than"},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			_, err := Decode(CapData{Body: tt.body, Slots: tt.slots})
			require.ErrorIs(t, err, ErrMalformed)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

// SingleRef, the kernel's fast look into a body, agrees with the decoder on
// every vector.
func TestSingleRefAgreesWithDecode(t *testing.T) {
	for _, v := range loadVectors(t) {
		c := CapData{Body: v.Body, Slots: v.Slots}
		slot, promise, ok := SingleRef(c)
		dec, err := Decode(c)
		require.NoError(t, err)
		r, isRef := dec.(Ref)
		require.Equal(t, isRef, ok, v.Name)
		if ok {
			require.Equal(t, r.Slot, slot)
			require.Equal(t, r.Promise, promise)
		}
	}
}

func TestCodecHooks(t *testing.T) {
	type presence struct{ vref string }
	objs := map[string]*presence{}
	c := &Codec{
		SlotOf: func(v any) (Ref, bool, error) {
			if p, ok := v.(*presence); ok {
				return Ref{Slot: p.vref, Iface: "Alleged: presence"}, true, nil
			}
			return Ref{}, false, nil
		},
		ValueOf: func(r Ref) (any, error) {
			p := objs[r.Slot]
			if p == nil {
				p = &presence{vref: r.Slot}
				objs[r.Slot] = p
			}
			return p, nil
		},
	}
	a, b := &presence{"o-1"}, &presence{"o-2"}
	objs["o-1"], objs["o-2"] = a, b
	data, err := c.Encode([]any{a, b, a})
	require.NoError(t, err)
	require.Equal(t, `#["$0.Alleged: presence","$1.Alleged: presence","$0"]`, data.Body)
	require.Equal(t, []string{"o-1", "o-2"}, data.Slots)
	v, err := c.Decode(data)
	require.NoError(t, err)
	require.Equal(t, []any{a, b, a}, v)
}

func TestIntAndFloat(t *testing.T) {
	n, err := Int(float64(3))
	require.NoError(t, err)
	require.Equal(t, int64(3), n)
	_, err = Int(1.5)
	require.Error(t, err)
	_, err = Int("3")
	require.Error(t, err)
	n, err = Int(big.NewInt(-9))
	require.NoError(t, err)
	require.Equal(t, int64(-9), n)
	f, err := Float(int64(2))
	require.NoError(t, err)
	require.Equal(t, 2.0, f)
}
