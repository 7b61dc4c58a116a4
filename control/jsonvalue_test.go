package control_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/control"
	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/marshal"
)

// A record whose keys have a tagged form's shape goes out as @record and
// comes back as the same record (FuzzDecodeBodies' finding: a vat's data
// {"@kref": "ko9"} went out as a reference to ko9, and a client sending
// it back sent that reference).
func TestRecordsShapedLikeTaggedForms(t *testing.T) {
	for _, rec := range []map[string]any{
		{"@kref": "ko9"},
		{"@tagged": "t", "payload": int64(1)},
		{"@record": map[string]any{}},
		{"@anything": true},
	} {
		js := throughJSON(t, control.ToJSON(rec))
		m, ok := js.(map[string]any)
		require.True(t, ok)
		require.Contains(t, m, "@record", "%v", rec)
		back, err := control.FromJSON(js, "v")
		require.NoError(t, err)
		require.Equal(t, rec, back)
	}
	// A reference is still a reference, and a plain record a record.
	require.Equal(t, map[string]any{"@kref": "ko9"}, control.ToJSON(kernel.KRef("ko9")))
	require.Equal(t, map[string]any{"a": int64(1), "@b": "c"}, control.ToJSON(map[string]any{"a": int64(1), "@b": "c"}))
}

// The tagged forms are read strictly: a form with a wrong or missing part
// is refused naming the form and what it wants, not read as something
// else.
func TestFromJSONRefusals(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{map[string]any{"@undefined": false}, "v: @undefined wants true"},
		{map[string]any{"@error": map[string]any{"name": "E", "message": 5}}, `v: @error wants {"name": "a non-empty string", "message": "a string"} and nothing else`},
		{map[string]any{"@error": map[string]any{"name": "E", "stack": "s"}}, "@error wants"},
		{map[string]any{"@error": map[string]any{"message": "m"}}, "@error wants"},
		{map[string]any{"@tagged": "t", "pay": 1}, `v: @tagged wants a string tag, with "payload" beside it`},
		{map[string]any{"@tagged": "t"}, `@tagged wants a string tag, with "payload" beside it`},
		{map[string]any{"@record": []any{}}, "v: @record wants an object: the record"},
		{map[string]any{"@bigint": "1.5"}, "v: @bigint wants a decimal string"},
		{map[string]any{"@float": "nan"}, `v: @float wants "NaN", "Infinity" or "-Infinity"`},
		{map[string]any{"@kref": "o+1"}, `v: malformed reference: kref "o+1"`},
		{map[string]any{"@nope": 1}, "unknown tagged form @nope"},
		{[]any{map[string]any{"x": map[string]any{"@undefined": 1}}}, "v[0].x: @undefined wants true"},
	}
	for _, tt := range tests {
		_, err := control.FromJSON(tt.in, "v")
		require.ErrorContains(t, err, tt.want, "%v", tt.in)
	}
	v, err := control.FromJSON(map[string]any{"@error": map[string]any{"name": "E"}}, "v")
	require.NoError(t, err, "the message may be left out")
	require.Equal(t, &marshal.Error{Name: "E"}, v)
}

// throughJSON sends v through JSON as the client and the server do.
func throughJSON(t *testing.T, v any) any {
	t.Helper()
	js, err := json.Marshal(v)
	require.NoError(t, err)
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	var out any
	require.NoError(t, dec.Decode(&out))
	return out
}
