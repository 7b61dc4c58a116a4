package jsvat

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// stdlibJSON is what parseJSON must agree with: encoding/json's Unmarshal
// into an `any`.
func stdlibJSON(data []byte) (any, error) {
	var v any
	err := json.Unmarshal(data, &v)
	return v, err
}

// sameAsStdlib fails t unless parseJSON and encoding/json agree on data:
// both refuse it, or both accept it with equal values.
func sameAsStdlib(t *testing.T, data []byte) {
	t.Helper()
	want, wantErr := stdlibJSON(data)
	got, err := parseJSON(data)
	if (wantErr == nil) != (err == nil) {
		t.Fatalf("parseJSON(%q): err %v, encoding/json: err %v", data, err, wantErr)
	}
	if err == nil {
		require.Equal(t, want, got, "parseJSON(%q)", data)
	}
}

var jsonCases = []string{
	`null`, `true`, `false`, `0`, `-0`, `1`, `-1`, `12.5e-3`, `1E+2`, `1e400`, `-1e400`, `1e-400`,
	`01`, `-`, `1.`, `.5`, `+1`, `1e`, `1e+`, `0x1`, `Infinity`, `NaN`, `1 2`, ` 1 `, "\t\n\r 1",
	"\f1", "\u00a01",
	`""`, `"a"`, `"\""`, `"\\"`, `"\/"`, `"\b\f\n\r\t"`, `"\u0041"`, `"\u00e9"`, `"é"`, `"\x"`, `"\u12"`,
	`"\u123g"`, `"\ud83d\ude00"`, `"\ud83d"`, `"\ude00"`, `"\ud83d\u0041"`, `"\ude00\ud83d"`,
	`"\ud83d\ud83d\ude00"`, `"\ud83d\n"`, `"\ud83d\ufffd"`, "\"a\x01\"", "\"tab\there\"", `"unterminated`,
	`"a\`, `[]`, `[1]`, `[1,]`, `[,1]`, `[1 2]`, `[[[]]]`, `[`, `]`, `{}`, `{"a":1}`, `{"a":1,"a":2}`,
	`{"a"}`, `{"a":}`, `{a:1}`, `{"a":1,}`, `{,}`, `{"a":1 "b":2}`, `{"a":[1,{"b":null}]}`, `{`, `}`,
	`{"a":1}}`, `[1]]`, `"a""b"`, `nul`, `truex`, `nulll`, `tru`, ``, ` `,
	`{"jsonrpc":"2.0","method":"syscall","params":["send","o-1",{"methargs":{"body":"#[\"ping\",[41]]","slots":[]},"result":"p+12"}]}`,
}

func TestParseJSONMatchesStdlib(t *testing.T) {
	for _, c := range jsonCases {
		sameAsStdlib(t, []byte(c))
	}
}

// Nesting: as deep as encoding/json allows is accepted, one more refused,
// and a frame of nothing but '[' is an error, not a stack overflow.
func TestParseJSONDepth(t *testing.T) {
	ok := strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth)
	sameAsStdlib(t, []byte(ok))
	_, err := parseJSON([]byte(ok))
	require.NoError(t, err)
	deep := strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1)
	sameAsStdlib(t, []byte(deep))
	_, err = parseJSON([]byte(strings.Repeat("[", 1<<20)))
	require.ErrorIs(t, err, errJSON)
	_, err = parseJSON([]byte(strings.Repeat(`{"a":`, maxDepth+1)))
	require.ErrorContains(t, err, "nested deeper than")
}

// FuzzParseJSONMatchesStdlib: on any valid UTF-8 text, parseJSON and
// encoding/json accept the same and give the same values.
func FuzzParseJSONMatchesStdlib(f *testing.F) {
	for _, c := range jsonCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !utf8.Valid(data) {
			// decodeInbound refuses it before parsing.
			return
		}
		sameAsStdlib(t, data)
	})
}
