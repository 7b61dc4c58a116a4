package catalog_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/internal/demos/catalog"
	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/vat"
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

// Every bundle of the binary describes itself, and truthfully: its
// summary is there, and the methods it lists (by name, before the
// parameters) are exactly those its root answers. Each bundle is built
// for real, launched beside a probe that bootstraps, so nothing of it is
// called but its build function.
func TestBundlesDescribeTheirRoots(t *testing.T) {
	src := catalog.Registry()
	for _, name := range src.Names() {
		t.Run(name, func(t *testing.T) {
			about, ok := src.About(name)
			require.True(t, ok, "registered without a description")
			require.NotEmpty(t, about.Summary)
			var listed []string
			for _, m := range about.Methods {
				method, _, found := strings.Cut(m, "(")
				require.True(t, found && strings.HasSuffix(m, ")"), "%q is not written as a call", m)
				listed = append(listed, method)
			}
			slices.Sort(listed)

			build, _, err := src.LookupAny(name)
			require.NoError(t, err)
			var root *vat.Object
			reg := vat.NewRegistry()
			reg.MustRegister("probe", func(vc *vat.Context) (any, error) {
				return vat.Far("probe", vat.Methods{"bootstrap": func(*vat.Call) (any, error) { return nil, nil }}), nil
			})
			reg.MustRegister(name, func(vc *vat.Context) (any, error) {
				r, err := build(vc)
				root, _ = r.(*vat.Object)
				return r, err
			})
			ctx := context.Background()
			k, err := actors.Start(ctx, actors.Config{Registry: reg})
			require.NoError(t, err)
			defer k.Stop(ctx)
			_, err = k.LaunchSubcluster(ctx, kernel.ClusterConfig{Bootstrap: "probe", Vats: map[string]kernel.VatConfig{
				"probe": {Bundle: "probe"}, "under-test": {Bundle: name}}})
			require.NoError(t, err)
			require.NotNil(t, root, "the build returned no *vat.Object")
			require.Equal(t, root.MethodNames(), listed)
		})
	}
}
