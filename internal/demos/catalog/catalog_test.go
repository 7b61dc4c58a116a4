package catalog_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/internal/demos/catalog"
)

// Every demo is listed once, the default first, each with a summary, and
// every demo's bundles carry its name as prefix in the one registry.
func TestCatalog(t *testing.T) {
	ds := catalog.Demos()
	require.Equal(t, catalog.Default, ds[0].Name)
	seen := map[string]bool{}
	for _, d := range ds {
		require.False(t, seen[d.Name], d.Name)
		seen[d.Name] = true
		require.NotEmpty(t, d.Summary, d.Name)
		found, ok := catalog.Find(d.Name)
		require.True(t, ok)
		require.Equal(t, d.Name, found.Name)
	}
	require.Len(t, seen, 5)
	_, ok := catalog.Find("nope")
	require.False(t, ok)
	prefixes := map[string]bool{}
	for _, n := range catalog.Registry().Names() {
		prefix, _, found := strings.Cut(n, "/")
		require.True(t, found, "bundle %q has no demo prefix", n)
		prefixes[prefix] = true
	}
	for name := range seen {
		require.True(t, prefixes[name], "no bundle of %s", name)
	}
	require.True(t, prefixes["echo"] && prefixes["std"])
}

// The demos listed are the examples copied into internal/demos, each
// once: an example added to the catalog without its copy, or a copy left
// behind by a demo taken out, fails here.
func TestCatalogListsTheCopies(t *testing.T) {
	copies, err := filepath.Glob(filepath.Join("..", "*", "example.go"))
	require.NoError(t, err)
	var have []string
	for _, c := range copies {
		have = append(have, filepath.Base(filepath.Dir(c)))
	}
	var listed []string
	for _, d := range catalog.Demos() {
		listed = append(listed, d.Name)
	}
	slices.Sort(have)
	slices.Sort(listed)
	require.Equal(t, have, listed)
}
