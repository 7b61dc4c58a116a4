package vat_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/vat"
)

// A registry lists what it holds, refuses a name twice, and says what it
// has when asked for what it has not.
func TestRegistry(t *testing.T) {
	reg := vat.NewRegistry()
	build := func(vc *vat.Context) (any, error) { return vat.Far("x", vat.Methods{}), nil }
	require.NoError(t, reg.Register("b", build))
	require.NoError(t, reg.Register("a", build))
	require.Error(t, reg.Register("a", build), "a name twice")
	require.Equal(t, []string{"a", "b"}, reg.Names())
	_, err := reg.Lookup("c")
	require.ErrorContains(t, err, `no bundle named "c" is registered (have [a b])`)
}

// A bundle may carry one description, which the registry keeps as given
// and hands out as a copy; one that cannot be listed as a line and its
// methods is refused, and the bundle is not registered.
func TestRegistryAbout(t *testing.T) {
	reg := vat.NewRegistry()
	build := func(vc *vat.Context) (any, error) { return vat.Far("x", vat.Methods{}), nil }
	about := vat.About{Summary: "counts", Methods: []string{"incr(n)", "get()"}}
	require.NoError(t, reg.Register("counter", build, about))
	require.NoError(t, reg.Register("plain", build))
	require.NoError(t, reg.RegisterRaw("raw", func() vat.RawVat { return nil }, vat.About{Summary: "raw"}))

	about.Methods[0] = "changed"
	got, ok := reg.About("counter")
	require.True(t, ok)
	require.Equal(t, vat.About{Summary: "counts", Methods: []string{"incr(n)", "get()"}}, got)
	got.Methods[1] = "changed too"
	again, _ := reg.About("counter")
	require.Equal(t, "get()", again.Methods[1])
	_, ok = reg.About("plain")
	require.False(t, ok, "registered without one")
	raw, ok := reg.About("raw")
	require.True(t, ok)
	require.Equal(t, "raw", raw.Summary)
	_, ok = reg.About("nope")
	require.False(t, ok)

	for _, tt := range []struct {
		name    string
		about   []vat.About
		wantErr string
	}{
		{"two", []vat.About{{Summary: "a"}, {Summary: "b"}}, `"two": 2 descriptions, want at most one`},
		{"lines", []vat.About{{Summary: "one\ntwo"}}, `"lines": the summary is more than one line`},
		{"empty method", []vat.About{{Methods: []string{"get()", " "}}}, `"empty method": method 1 is empty`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := reg.Register(tt.name, build, tt.about...)
			require.ErrorIs(t, err, vat.ErrBadAbout)
			require.ErrorContains(t, err, tt.wantErr)
			require.NotContains(t, reg.Names(), tt.name)
			err = reg.RegisterRaw(tt.name, func() vat.RawVat { return nil }, tt.about...)
			require.True(t, errors.Is(err, vat.ErrBadAbout), err)
		})
	}
}

// MethodNames lists what an object answers, sorted, a catch-all as "":
// what a bundle's description is checked against.
func TestMethodNames(t *testing.T) {
	noop := func(*vat.Call) (any, error) { return nil, nil }
	o := vat.Far("x", vat.Methods{"b": noop, "a": noop, "": noop})
	require.Equal(t, []string{"", "a", "b"}, o.MethodNames())
	require.Empty(t, vat.Far("y", nil).MethodNames())
}
