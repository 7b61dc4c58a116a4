package clusterfile_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/clusterfile"
)

// The two attack files: read with aliases expanded, the first never ends
// and the second stands for 9^9 strings. Both are refused at the first
// alias, naming file, line and field.
func TestLoadRefusesAliasBombs(t *testing.T) {
	tests := []struct {
		file, want string
	}{
		{"self-alias.yaml", ":5: vats.a.parameters.x: YAML aliases are not accepted (*p): write the value out"},
		{"billion-laughs.yaml", ":8: vats.a.parameters.lol2[0]: YAML aliases are not accepted (*a): write the value out"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata", tt.file)
			_, err := clusterfile.Load(path, clusterfile.Options{})
			require.ErrorIs(t, err, clusterfile.ErrAlias)
			require.EqualError(t, err, path+tt.want)
		})
	}
}

// Every place an alias can stand is refused, not only parameters: a
// whole vat, a merge key, the bootstrap name, a key.
func TestParseRefusesEveryAlias(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"vat", "bootstrap: a\nvats:\n  a: &v {bundle: x}\n  b: *v\n", "line 4: vats.b: YAML aliases are not accepted (*v): write the value out"},
		{"merge key", "bootstrap: a\nvats:\n  a: &v {bundle: x}\n  b:\n    <<: *v\n", "line 5: vats.b.<<: YAML aliases are not accepted (*v): write the value out"},
		{"scalar", "bootstrap: &n a\nvats:\n  a: {bundle: *n}\n", "line 3: vats.a.bundle: YAML aliases are not accepted (*n): write the value out"},
		{"key", "bootstrap: &n a\nvats:\n  *n : {bundle: x}\n", "line 3: vats: YAML aliases are not accepted (*n): write the value out"},
		{"list item", "bootstrap: a\nservices: [&s x, *s]\nvats: {a: {bundle: x}}\n", "line 2: services[1]: YAML aliases are not accepted (*s): write the value out"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := clusterfile.Parse([]byte(tt.text), clusterfile.Options{})
			require.ErrorIs(t, err, clusterfile.ErrAlias)
			require.EqualError(t, err, tt.want)
		})
	}
	// An anchor alone is harmless and still accepted.
	_, err := clusterfile.Parse([]byte("bootstrap: a\nvats:\n  a: &v {bundle: x}\n"), clusterfile.Options{})
	require.NoError(t, err)
}

// A config over MaxSize is refused, by Load before it is read whole, and
// by Parse (a request body) before it is parsed.
func TestSizeBound(t *testing.T) {
	big := []byte("bootstrap: a\nvats: {a: {bundle: x}}\n#" + strings.Repeat("x", clusterfile.MaxSize) + "\n")
	_, err := clusterfile.Parse(big, clusterfile.Options{})
	require.ErrorIs(t, err, clusterfile.ErrTooLarge)
	require.Contains(t, err.Error(), "the limit is 1048576 bytes")

	path := filepath.Join(t.TempDir(), "big.yaml")
	require.NoError(t, os.WriteFile(path, big, 0o600))
	_, err = clusterfile.Load(path, clusterfile.Options{})
	require.ErrorIs(t, err, clusterfile.ErrTooLarge)
	var ce *clusterfile.Error
	require.True(t, errors.As(err, &ce))
	require.Equal(t, path+": the config is over 1048576 bytes; the limit is 1048576 bytes", err.Error())

	// Exactly at the limit is fine.
	edge := append([]byte("bootstrap: a\nvats: {a: {bundle: x}}\n#"), []byte(strings.Repeat("x", clusterfile.MaxSize))...)
	edge = edge[:clusterfile.MaxSize]
	_, err = clusterfile.Parse(edge, clusterfile.Options{})
	require.NoError(t, err)
}

// A key that is a list or a mapping has no name; it is refused rather
// than read as "".
func TestParseRefusesComplexKeys(t *testing.T) {
	_, err := clusterfile.Parse([]byte("bootstrap: a\nvats:\n  a:\n    bundle: x\n    parameters:\n      ? [1, 2]\n      : y\n"), clusterfile.Options{})
	require.EqualError(t, err, "line 6: vats.a.parameters: keys must be names, got a list as a key")
}

// A config from a stream (standard input) is read as a file's is: bounded
// without trusting a size, and its errors named after the stream.
func TestReadAndLoadText(t *testing.T) {
	huge := strings.NewReader(strings.Repeat("#", clusterfile.MaxSize+10))
	_, err := clusterfile.Read(huge, "stdin")
	require.ErrorIs(t, err, clusterfile.ErrTooLarge)
	require.ErrorContains(t, err, "stdin: the config is over 1048576 bytes")
	require.Equal(t, 10-1, huge.Len(), "read MaxSize+1 bytes, no more")

	data, err := clusterfile.Read(strings.NewReader("bootstrap: a\nvats:\n  a: {bundle: x, failurePolicy: restrat}\n"), "stdin")
	require.NoError(t, err)
	_, err = clusterfile.LoadText(data, "stdin", clusterfile.Options{})
	require.EqualError(t, err, `stdin:3: vats.a.failurePolicy: "restrat" is not one of "terminate", "restart"`)

	cfg, err := clusterfile.LoadText([]byte(`{"bootstrap": "a", "vats": {"a": {"bundle": "x"}}}`), "stdin", clusterfile.Options{})
	require.NoError(t, err)
	require.Equal(t, "x", cfg.Vats["a"].Bundle)
	_, err = clusterfile.Read(failingReader{}, "stdin")
	require.ErrorContains(t, err, "read stdin: broken pipe")
}

// failingReader fails every read.
type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("broken pipe") }
