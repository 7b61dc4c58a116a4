package kernel_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/kernel"
	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
)

func paramsCluster(names ...string) kernel.ClusterConfig {
	cfg := kernel.ClusterConfig{Bootstrap: names[0], Vats: map[string]kernel.VatConfig{}}
	for _, n := range names {
		cfg.Vats[n] = kernel.VatConfig{Bundle: "fake", Parameters: map[string]any{"n": 1.0, "list": []any{"x"}}}
	}
	return cfg
}

// Listing vats and subclusters decodes each config once: a second
// listing decodes nothing (Status lists both on every call). What the
// listing returns is the caller's own copy, and a config the store
// changes, or an aborted unit changed and dropped, is read afresh.
func TestConfigsDecodedOnce(t *testing.T) {
	d := kt.New(t)
	res := d.LaunchConfig(paramsCluster("a", "b", "c"))
	d.K.Vats()
	d.K.Subclusters()
	first := kernel.ConfigDecodes(d.K)
	for i := 0; i < 3; i++ {
		require.Len(t, d.K.Vats(), 3)
		require.Len(t, d.K.Subclusters(), 1)
	}
	require.Equal(t, first, kernel.ConfigDecodes(d.K), "listing again decodes no config")

	// The caller's copy is its own.
	vats := d.K.Vats()
	vats[0].Config.Parameters["n"] = 99.0
	vats[0].Config.Parameters["list"].([]any)[0] = "changed"
	sc := d.K.Subclusters()
	sc[0].Config.Vats["a"].Parameters["n"] = 99.0
	again, err := d.K.Vat(res.VatIDs["a"])
	require.NoError(t, err)
	require.Equal(t, map[string]any{"n": 1.0, "list": []any{"x"}}, again.Config.Parameters)
	require.Equal(t, 1.0, d.K.Subclusters()[0].Config.Vats["a"].Parameters["n"])

	// An upgrade that commits changes the config: read afresh, once.
	a := res.VatIDs["a"]
	newCfg := kernel.VatConfig{Bundle: "fake", Parameters: map[string]any{"n": 2.0}}
	out, err := d.K.UpgradeVat(d.Ctx, a, d, newCfg)
	require.NoError(t, err)
	d.Release(out)
	before := kernel.ConfigDecodes(d.K)
	info, err := d.K.Vat(a)
	require.NoError(t, err)
	require.Equal(t, 2.0, info.Config.Parameters["n"])
	d.K.Vat(a)
	require.Equal(t, before+1, kernel.ConfigDecodes(d.K), "the changed row is decoded once")

	// A unit that changes the row and is aborted: read inside the unit,
	// the config is the unit's; read after the abort, the committed one.
	require.NoError(t, d.Store.Begin())
	row, _ := d.Store.Vat(string(a))
	row.Config = `{"bundle":"fake","parameters":{"n":4}}`
	d.Store.PutVat(string(a), row)
	info, err = d.K.Vat(a)
	require.NoError(t, err)
	require.Equal(t, 4.0, info.Config.Parameters["n"])
	d.Store.Abort()
	info, err = d.K.Vat(a)
	require.NoError(t, err)
	require.Equal(t, 2.0, info.Config.Parameters["n"], "no stale config after an abort")

	// An upgrade whose new incarnation fails to start is undone: the
	// config read afterwards is the committed one.
	d.Vat("a").FailStart = fmt.Errorf("%w: no start", kernel.ErrVatFault)
	_, err = d.K.UpgradeVat(d.Ctx, a, d, kernel.VatConfig{Bundle: "fake", Parameters: map[string]any{"n": 3.0}})
	require.Error(t, err)
	info, err = d.K.Vat(a)
	require.NoError(t, err)
	require.Equal(t, 2.0, info.Config.Parameters["n"])
	d.AuditNow("after the failed upgrade")
}

// BenchmarkStatusListing lists the vats and subclusters of a kernel with
// 10k vats, as the runtime's Status does on every call (Listing: before
// it, Vats and then Subclusters).
func BenchmarkStatusListing(b *testing.B) {
	d := kt.New(b)
	d.Audit = false // 10k vats: the audit would dominate the setup
	names := make([]string, 10_000)
	for i := range names {
		names[i] = fmt.Sprintf("v%05d", i)
	}
	d.LaunchConfig(paramsCluster(names...))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if vats, subclusters := d.K.Listing(); len(vats) != len(names) || len(subclusters) != 1 {
			b.Fatal("listing lost vats")
		}
	}
}
