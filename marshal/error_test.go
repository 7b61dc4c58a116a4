package marshal

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

type errorVectors struct {
	Errors []struct {
		Name, Message, Body string
		Slots               []string
	}
	Strings []struct {
		Value, Body string
		Slots       []string
	}
}

func loadErrorVectors(t *testing.T) errorVectors {
	t.Helper()
	b, err := os.ReadFile("testdata/errors.json")
	require.NoError(t, err)
	var v errorVectors
	require.NoError(t, json.Unmarshal(b, &v))
	require.NotEmpty(t, v.Errors)
	return v
}

// The bodies come from @endo/marshal itself (testdata/gen-vectors.mjs):
// encoding must match them byte for byte and decoding must invert them.
func TestErrorVectors(t *testing.T) {
	v := loadErrorVectors(t)
	for _, tt := range v.Errors {
		got := EncodeError(tt.Name, tt.Message)
		require.Equal(t, tt.Body, got.Body, "encode %q", tt.Message)
		require.Empty(t, got.Slots)
		name, msg, ok := DecodeError(CapData{Body: tt.Body})
		require.True(t, ok, "decode %s", tt.Body)
		require.Equal(t, tt.Name, name)
		require.Equal(t, tt.Message, msg)
	}
	for _, tt := range v.Strings {
		got := EncodeString(tt.Value)
		require.Equal(t, tt.Body, got.Body, "encode %q", tt.Value)
		s, err := DecodeString(CapData{Body: tt.Body})
		require.NoError(t, err)
		require.Equal(t, tt.Value, s)
	}
}

func TestDecodeErrorRejectsOtherBodies(t *testing.T) {
	for _, body := range []string{"", "#", `#"just a string"`, `#{"name":"Error"}`, `{"#error":"x","name":"Error"}`, `#{"#error":1,"name":"Error"}`} {
		_, _, ok := DecodeError(CapData{Body: body})
		require.False(t, ok, body)
	}
}
