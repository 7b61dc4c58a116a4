package clusterfile_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/clusterfile"
	"github.com/ocapgo/kernel-actors/kernel"
)

const goodYAML = `# two vats
bootstrap: alice
vats:
  alice:
    bundle: tour/alice
    parameters:
      name: Alice
      limits: {max: 3, ratio: 0.5, tags: [a, b], on: true, none: null}
  bob:
    bundle: tour/bob
    failurePolicy: restart
    pageable: true
    restart:
      maxRestarts: 5
      within: 1m
      backoff: 50ms
      maxBackoff: 2s
`

const goodJSON = `{
  "bootstrap": "alice",
  "vats": {
    "alice": {"bundle": "tour/alice", "parameters": {"name": "Alice", "limits": {"max": 3, "ratio": 0.5, "tags": ["a", "b"], "on": true, "none": null}}},
    "bob": {"bundle": "tour/bob", "failurePolicy": "restart", "pageable": true,
            "restart": {"maxRestarts": 5, "within": "1m", "backoff": "50ms", "maxBackoff": "2s"}}
  }
}`

// YAML and JSON read to the same config, values in marshal's mapping.
func TestParseGood(t *testing.T) {
	want := kernel.ClusterConfig{Bootstrap: "alice", Vats: map[string]kernel.VatConfig{
		"alice": {Bundle: "tour/alice", Parameters: map[string]any{"name": "Alice", "limits": map[string]any{
			"max": int64(3), "ratio": 0.5, "tags": []any{"a", "b"}, "on": true, "none": nil}}},
		"bob": {Bundle: "tour/bob", FailurePolicy: kernel.PolicyRestart, Pageable: true, Restart: kernel.RestartLimits{
			MaxRestarts: 5, Within: kernel.Duration(time.Minute), Backoff: kernel.Duration(50 * time.Millisecond),
			MaxBackoff: kernel.Duration(2 * time.Second)}},
	}}
	for name, text := range map[string]string{"yaml": goodYAML, "json": goodJSON} {
		got, err := clusterfile.Parse([]byte(text), clusterfile.Options{})
		require.NoError(t, err, name)
		require.Equal(t, want, got, name)
	}
}

// Each mistake is reported with the file, the line and the field.
func TestParseErrorsNameLineAndField(t *testing.T) {
	cases := []struct {
		name, text, want string
	}{
		{"empty", ``, "the file is empty"},
		{"syntax", "bootstrap: a\nvats: [\n", "not valid JSON or YAML"},
		{"two documents", "bootstrap: a\nvats: {a: {bundle: x}}\n---\nbootstrap: b\n", "line 3: more than one YAML document; want one config"},
		{"syntax in the second document", "bootstrap: a\nvats: {a: {bundle: x}}\n---\n[\n", "more than one YAML document"},
		{"not a mapping", `[1, 2]`, "line 1: want a mapping"},
		{"unknown top field", "bootstrap: a\nvats: {a: {bundle: x}}\nvatz: 1\n", `line 3: vatz: unknown field (want one of "bootstrap", "vats", "services")`},
		{"missing bootstrap", "vats: {a: {bundle: x}}\n", "line 1: bootstrap: missing"},
		{"bootstrap not a vat", "bootstrap: carol\nvats:\n  a: {bundle: x}\n", `line 1: bootstrap: "carol" is not one of the vats ("a")`},
		{"no vats", "bootstrap: a\nvats: {}\n", "line 2: vats: empty"},
		{"missing bundle", "bootstrap: a\nvats:\n  a:\n    parameters: {}\n", "line 4: vats.a.bundle: missing"},
		{"bundle not a string", "bootstrap: a\nvats:\n  a:\n    bundle: 7\n", "line 4: vats.a.bundle: want a string, got 7"},
		{"bad policy", "bootstrap: a\nvats:\n  a:\n    bundle: x\n    failurePolicy: restrat\n", `line 5: vats.a.failurePolicy: "restrat" is not one of "terminate", "restart"`},
		{"pageable not a bool", "bootstrap: a\nvats:\n  a:\n    bundle: x\n    pageable: yes\n", "line 5: vats.a.pageable: want true or false, got"},
		{"unknown vat field", "bootstrap: a\nvats:\n  a:\n    bundle: x\n    bundel: y\n", "line 5: vats.a.bundel: unknown field"},
		{"duplicate key", "bootstrap: a\nvats:\n  a: {bundle: x}\n  a: {bundle: y}\n", "vats.a: given twice"},
		{"bad duration", "bootstrap: a\nvats:\n  a:\n    bundle: x\n    failurePolicy: restart\n    restart: {backoff: soon}\n", `line 6: vats.a.restart.backoff: want a duration above zero such as "500ms" or "2s", got "soon"`},
		{"restart without policy", "bootstrap: a\nvats:\n  a:\n    bundle: x\n    restart: {maxRestarts: 2}\n", "line 5: vats.a.restart: restart limits need failurePolicy: restart"},
		{"bad maxRestarts", "bootstrap: a\nvats:\n  a:\n    bundle: x\n    failurePolicy: restart\n    restart: {maxRestarts: -1}\n", "line 6: vats.a.restart.maxRestarts: want a whole number above 0, got -1"},
		{"bundle and bundleSpec", "bootstrap: a\nvats:\n  a:\n    bundleSpec: a.js\n    bundle: x\n", "line 5: vats.a.bundle: set together with bundleSpec"},
		{"globals of a Go vat", "bootstrap: a\nvats:\n  a:\n    bundle: x\n    globals: [Date]\n", "line 5: vats.a.globals: only a JavaScript vat (bundleSpec) has globals"},
		{"globals not strings", "bootstrap: a\nvats:\n  a:\n    bundleSpec: a.js\n    globals: [Date, 7]\n", "line 5: vats.a.globals[1]: want a string, got 7"},
		{"bundleSpec not a string", "bootstrap: a\nvats:\n  a:\n    bundleSpec: [a.js]\n", "line 4: vats.a.bundleSpec: want a string"},
		{"json wrong type", "{\n  \"bootstrap\": \"a\",\n  \"vats\": {\"a\": {\"bundle\": \"x\", \"parameters\": [1]}}\n}", "line 3: vats.a.parameters: want a mapping, got a list"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := clusterfile.Parse([]byte(c.text), clusterfile.Options{})
			var ce *clusterfile.Error
			require.True(t, errors.As(err, &ce), "%v", err)
			require.Contains(t, err.Error(), c.want)
		})
	}
}

// Load names the file; the bundle check reports at the bundle's line.
func TestLoadNamesFileAndChecksBundles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cluster.yaml")
	require.NoError(t, os.WriteFile(path, []byte(goodYAML), 0o600))
	known := map[string]bool{"tour/alice": true}
	_, err := clusterfile.Load(path, clusterfile.Options{Bundle: func(name string) error {
		if !known[name] {
			return fmt.Errorf("no bundle %q is registered", name)
		}
		return nil
	}})
	require.EqualError(t, err, path+`:10: vats.bob.bundle: no bundle "tour/bob" is registered`)

	_, err = clusterfile.Load(filepath.Join(t.TempDir(), "missing.yaml"), clusterfile.Options{})
	require.ErrorIs(t, err, os.ErrNotExist)
	require.True(t, strings.Contains(err.Error(), "missing.yaml"))
}

// A JavaScript vat: its bundleSpec and globals are read, and a relative
// bundleSpec names a file beside the config.
func TestLoadJavaScriptVat(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cluster.yaml")
	text := "bootstrap: js\nvats:\n  js:\n    bundleSpec: vats/js.bundle\n    globals: [Date, URL]\n  abs:\n    bundleSpec: file:///srv/abs.js\n  go:\n    bundle: x\n"
	require.NoError(t, os.WriteFile(path, []byte(text), 0o600))
	cfg, err := clusterfile.Load(path, clusterfile.Options{})
	require.NoError(t, err)
	require.Equal(t, kernel.VatConfig{BundleSpec: filepath.Join(dir, "vats", "js.bundle"), Globals: []string{"Date", "URL"}}, cfg.Vats["js"])
	require.Equal(t, "file:///srv/abs.js", cfg.Vats["abs"].BundleSpec, "a URL is left as it is")
	require.Equal(t, "x", cfg.Vats["go"].Bundle)
}
