package actors_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/vat"
)

// Config.OnCrankDone hears every crank that ran, numbered as the kernel
// numbers them, with the vat it concerned; a crank whose vat failed is
// Aborted, with the kernel's coded failure, which names no kref.
func TestOnCrankDone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		reg := registry()
		reg.MustRegister("crasher", func(vc *vat.Context) (any, error) {
			return vat.Far("crasher", vat.Methods{
				"bootstrap": func(c *vat.Call) (any, error) { return nil, nil },
				"boom":      func(c *vat.Call) (any, error) { panic("boom") },
			}), nil
		})
		var mu sync.Mutex
		var got []actors.CrankSummary
		k := start(t, actors.Config{Registry: reg, OnCrankDone: func(s actors.CrankSummary) {
			mu.Lock()
			got = append(got, s)
			mu.Unlock()
		}})
		res, err := k.LaunchSubcluster(ctx, twoVats())
		require.NoError(t, err)
		_, err = k.QueueMessage(ctx, res.RootKref, "ask", "host")
		require.NoError(t, err)
		crash, err := k.LaunchSubcluster(ctx, kernel.ClusterConfig{Bootstrap: "c",
			Vats: map[string]kernel.VatConfig{"c": {Bundle: "crasher"}}})
		require.NoError(t, err)
		_, err = k.QueueMessage(ctx, crash.RootKref, "boom")
		require.Error(t, err, "the crasher's delivery fails")
		require.NoError(t, k.WaitIdle(ctx))
		st, err := k.Status(ctx)
		require.NoError(t, err)

		mu.Lock()
		defer mu.Unlock()
		require.Len(t, got, int(st.CranksRun), "one summary per crank run")
		sawAlice, aborted := false, 0
		for _, s := range got {
			require.NotEmpty(t, s.Work)
			if s.Vat == res.VatIDs["alice"] && s.Work == "send" {
				sawAlice = true
			}
			if s.Aborted {
				aborted++
				require.Equal(t, crash.VatIDs["c"], s.Vat, "only the crasher's crank aborts")
				require.Contains(t, s.Failure, "VAT_FATAL")
				require.NotContains(t, s.Failure, string(crash.RootKref), "no kref in a failure's text")
			} else {
				require.Empty(t, s.Failure)
			}
		}
		require.True(t, sawAlice, "alice's send crank was heard: %+v", got)
		require.Equal(t, 1, aborted, "the crasher's one failed delivery: %+v", got)
	})
}
