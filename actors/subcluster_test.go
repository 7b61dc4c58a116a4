package actors_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/vat"
)

// keeperRegistry: the keeper keeps bob in baggage, counts its calls there,
// and answers bootstrap with a record naming bob (a reference in the
// result).
func keeperRegistry() *vat.Registry {
	reg := registry() // bob
	reg.MustRegister("keeper", func(vc *vat.Context) (any, error) {
		return vat.Far("keeper", vat.Methods{
			"bootstrap": func(c *vat.Call) (any, error) {
				bob := c.Arg(0).(map[string]any)["bob"]
				return map[string]any{"ready": true, "bob": bob}, vc.Baggage.Set("bob", bob)
			},
			"greet": func(c *vat.Call) (any, error) {
				n, _ := vc.Baggage.Get("greetings")
				count, _ := marshal.Int(orZero(n))
				if err := vc.Baggage.Set("greetings", count+1); err != nil {
					return nil, err
				}
				bob, _ := vc.Baggage.Get("bob")
				return vat.E(bob).Send("hello", c.Arg(0)).Await()
			},
			"greetings": func(c *vat.Call) (any, error) { n, _ := vc.Baggage.Get("greetings"); return orZero(n), nil },
		}), nil
	})
	return reg
}

func keeperCluster() kernel.ClusterConfig {
	return kernel.ClusterConfig{Bootstrap: "keeper", Vats: map[string]kernel.VatConfig{
		"keeper": {Bundle: "keeper", Parameters: map[string]any{"n": 3}},
		"bob":    {Bundle: "bob"},
	}}
}

// Subcluster finds a subcluster by the config it was launched from, in
// the process that launched it and in one that resumed the file: the same
// ids and roots as the launch's result, the bootstrap's result decoded
// (its reference usable), and the resumed vats answering on those roots
// with their state. A config never launched, or a subcluster since
// terminated, is ErrUnknownSubcluster; a terminated vat keeps its id but
// has no root.
func TestSubclusterByConfigAfterResume(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "k.db")
	k, err := actors.Start(ctx, actors.Config{DBPath: path, Registry: keeperRegistry()})
	require.NoError(t, err)
	_, err = k.Subcluster(ctx, keeperCluster())
	require.ErrorIs(t, err, kernel.ErrUnknownSubcluster, "nothing launched yet")
	launched, err := k.LaunchSubcluster(ctx, keeperCluster())
	require.NoError(t, err)
	_, err = k.LaunchSubcluster(ctx, twoVats()) // another subcluster beside it
	require.NoError(t, err)

	found, err := k.Subcluster(ctx, keeperCluster())
	require.NoError(t, err)
	require.Equal(t, launched, found, "what the launch returned")
	_, err = k.QueueMessage(ctx, found.RootKref, "greet", "one")
	require.NoError(t, err)
	require.NoError(t, k.Stop(ctx))

	k, err = actors.Start(ctx, actors.Config{DBPath: path, Registry: keeperRegistry()})
	require.NoError(t, err)
	defer k.Stop(ctx)
	// The parameter written as 3.0 is the same config as 3, as JSON
	// holds it.
	cfg := keeperCluster()
	cfg.Vats["keeper"] = kernel.VatConfig{Bundle: "keeper", Parameters: map[string]any{"n": 3.0}}
	res, err := k.Subcluster(ctx, cfg)
	require.NoError(t, err, "found after the resume")
	require.Equal(t, launched.SubclusterID, res.SubclusterID)
	require.Equal(t, launched.VatIDs, res.VatIDs)
	require.Equal(t, launched.Roots, res.Roots)
	require.Equal(t, launched.RootKref, res.RootKref)
	require.Equal(t, launched.BootstrapKPID, res.BootstrapKPID)
	require.Equal(t, map[string]any{"ready": true, "bob": res.Roots["bob"]}, res.BootstrapResult)

	v, err := k.QueueMessage(ctx, res.RootKref, "greet", "two")
	require.NoError(t, err)
	require.Equal(t, "hello, two", v, "the keeper found bob in its baggage")
	v, err = k.QueueMessage(ctx, res.RootKref, "greetings")
	require.NoError(t, err)
	require.Equal(t, int64(2), v, "and its count")
	bob := res.BootstrapResult.(map[string]any)["bob"].(kernel.KRef)
	v, err = k.QueueMessage(ctx, bob, "hello", "host")
	require.NoError(t, err, "the reference in the bootstrap result is usable")
	require.Equal(t, "hello, host", v)

	other := keeperCluster()
	other.Vats["bob"] = kernel.VatConfig{Bundle: "bob", FailurePolicy: kernel.PolicyRestart}
	_, err = k.Subcluster(ctx, other)
	require.ErrorIs(t, err, kernel.ErrUnknownSubcluster, "another config is another subcluster")

	require.NoError(t, k.TerminateVat(ctx, res.VatIDs["bob"], "test"))
	res, err = k.Subcluster(ctx, keeperCluster())
	require.NoError(t, err)
	require.Equal(t, launched.VatIDs, res.VatIDs, "a terminated vat keeps its id")
	require.NotContains(t, res.Roots, "bob", "but has no root")
	require.Equal(t, launched.Roots["keeper"], res.Roots["keeper"])

	require.NoError(t, k.TerminateSubcluster(ctx, res.SubclusterID))
	_, err = k.Subcluster(ctx, keeperCluster())
	require.ErrorIs(t, err, kernel.ErrUnknownSubcluster, "a terminated subcluster is forgotten")
}
