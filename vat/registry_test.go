package vat_test

import (
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
