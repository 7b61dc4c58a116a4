package vat_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/vat"
)

// Quiescent answers from the instance's own tables: each kind of heap
// state a page-out would lose makes it say no, naming what it holds, and
// letting go makes it say yes again. Durable objects and the root never
// count.
func TestQuiescent(t *testing.T) {
	reg := vat.NewRegistry()
	reg.MustRegister("holder", func(vc *vat.Context) (any, error) {
		kind, err := vc.DefineKind("thing", vat.Methods{"get": func(*vat.Call) (any, error) { return 1, nil }})
		if err != nil {
			return nil, err
		}
		var gate func(any)
		return vat.Far("holder", vat.Methods{
			"bootstrap": func(*vat.Call) (any, error) { return nil, nil },
			"durable":   func(*vat.Call) (any, error) { return kind.New(map[string]any{}) },
			"ephemeral": func(*vat.Call) (any, error) {
				return vat.Far("e", vat.Methods{"get": func(*vat.Call) (any, error) { return 2, nil }}), nil
			},
			"park": func(c *vat.Call) (any, error) {
				p, resolve, _ := c.NewPromise()
				gate = resolve
				return p.Await()
			},
			"unpark": func(c *vat.Call) (any, error) { gate(c.Arg(0)); return nil, nil },
			"pokePark": func(c *vat.Call) (any, error) {
				return nil, vat.E(c.Arg(0)).SendOnly("park")
			},
		}), nil
	})
	d := world(t, reg)
	res, _ := d.LaunchGo(cluster("a", map[string]string{"a": "holder", "b": "holder"}))
	d.RunUntilQuiescent(0)
	b := d.Instance(res.VatIDs["b"])
	require.NoError(t, b.Quiescent(), "a fresh vat holds nothing")

	dur := d.Call(res.Roots["b"], "durable")
	d.RunUntilQuiescent(0)
	require.NotNil(t, d.Value(dur))
	require.NoError(t, b.Quiescent(), "a durable export is in the vatstore")

	d.Call(res.Roots["b"], "ephemeral")
	d.RunUntilQuiescent(0)
	err := b.Quiescent()
	require.ErrorIs(t, err, vat.ErrNotQuiescent)
	require.ErrorContains(t, err, "1 ephemeral exports")

	t.Run("a task parked with a result promise", func(t *testing.T) {
		d := world(t, reg)
		res, _ := d.LaunchGo(cluster("a", map[string]string{"a": "holder", "b": "holder"}))
		d.RunUntilQuiescent(0)
		b := d.Instance(res.VatIDs["b"])
		parked := d.Call(res.Roots["b"], "park")
		d.RunUntilQuiescent(0)
		err := b.Quiescent()
		require.ErrorIs(t, err, vat.ErrNotQuiescent)
		require.ErrorContains(t, err, "1 tasks waiting in Await")
		require.ErrorContains(t, err, "1 promises it decides")
		d.Call(res.Roots["b"], "unpark", "opened")
		d.RunUntilQuiescent(0)
		require.Equal(t, "opened", d.Value(parked))
		require.NoError(t, b.Quiescent(), "settled and done")
	})
	t.Run("a task parked with no promise the kernel knows", func(t *testing.T) {
		d := world(t, reg)
		res, _ := d.LaunchGo(cluster("a", map[string]string{"a": "holder", "b": "holder"}))
		d.RunUntilQuiescent(0)
		b := d.Instance(res.VatIDs["b"])
		d.Send(res.Roots["a"], "pokePark", res.Roots["b"])
		d.RunUntilQuiescent(0)
		err := b.Quiescent()
		require.ErrorIs(t, err, vat.ErrNotQuiescent)
		require.Equal(t, "vat: not quiescent: it holds 1 tasks waiting in Await", err.Error())
	})
}
