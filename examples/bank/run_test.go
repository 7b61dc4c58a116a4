package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/demos"
	"github.com/ocapgo/kernel-actors/demos/demotest"
	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/vat"
)

func TestDemoRegistersItsBundles(t *testing.T) {
	d := Demo()
	require.Equal(t, "bank", d.Name)
	require.NotEmpty(t, d.Summary)
	reg := vat.NewRegistry()
	d.Register(reg)
	for _, name := range []string{"bank/mint", "bank/alice", "bank/bob", "bank/mallory"} {
		_, err := reg.Lookup(name)
		require.NoError(t, err, name)
	}
}

func TestRunTellsTheStory(t *testing.T) {
	demotest.Bubble(t, func(t *testing.T) {
		var out bytes.Buffer
		require.NoError(t, Demo().Run(context.Background(), demos.Options{Out: &out}))
		s := out.String()
		for _, want := range []string{
			"host → bank/alice: pay(bank/bob, 10)",
			"bank/alice → payment: deposit(10, alice's purse) → the payment holds 10",
			"bank/bob → bob's purse: deposit(10, payment) → bob's purse holds 10",
			"host → bank/mallory: forge(1000000)\n  → rejected: deposit: the source is not a purse of this mint",
			"host → bank/mallory: fakeAsked()\n  → 0",
			"host → bank/mallory: overdraw(1000)\n  → rejected: deposit: insufficient funds: the source holds 5, not 1000",
			"host → bank/mallory: overdraw(-100)\n  → rejected: amount must be a whole number of at least 0, not -100",
			"host → bank/mallory: mint(1000000)\n  → rejected: TypeError: target \"purse\" has no method \"makePurse\"",
			"Balances: alice 90, bob 10, mallory 5",
			"Total supply: 105 before, 105 after",
		} {
			require.Contains(t, s, want)
		}
		require.Less(t, strings.Index(s, "== Alice pays Bob"), strings.Index(s, "== Mallory tries to cheat"))
		require.Less(t, strings.Index(s, "== Mallory tries to cheat"), strings.Index(s, "== Final balances"))
	})
}

// A file that already holds vats is refused, not resumed: the story would
// run on top of the old one. So is one holding another demo's vats, whose
// bundles this demo does not have.
func TestRunRefusesAUsedDatabase(t *testing.T) {
	demotest.Bubble(t, func(t *testing.T) {
		ctx := context.Background()
		path := filepath.Join(t.TempDir(), "bank.db")
		require.NoError(t, Demo().Run(ctx, demos.Options{DBPath: path}))
		var out bytes.Buffer
		err := Demo().Run(ctx, demos.Options{DBPath: path, Out: &out})
		require.ErrorIs(t, err, demos.ErrNotFresh)
		require.ErrorContains(t, err, path+" holds 4")
		require.Empty(t, out.String(), "nothing is told of a story that did not run")
	})
}

func TestRunRefusesAnotherProgramsDatabase(t *testing.T) {
	demotest.Bubble(t, func(t *testing.T) {
		ctx := context.Background()
		path := filepath.Join(t.TempDir(), "other.db")
		reg := vat.NewRegistry()
		reg.MustRegister("other", func(vc *vat.Context) (any, error) {
			return vat.Far("other", vat.Methods{"bootstrap": func(*vat.Call) (any, error) { return nil, nil }}), nil
		})
		k, err := actors.Start(ctx, actors.Config{DBPath: path, Registry: reg})
		require.NoError(t, err)
		_, err = k.LaunchSubcluster(ctx, kernel.ClusterConfig{Bootstrap: "other", Vats: map[string]kernel.VatConfig{"other": {Bundle: "other"}}})
		require.NoError(t, err)
		require.NoError(t, k.Stop(ctx))
		require.ErrorIs(t, Demo().Run(ctx, demos.Options{DBPath: path}), demos.ErrNotFresh)
	})
}
