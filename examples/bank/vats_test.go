package main

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/demos/demotest"
	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/vat"
)

// launch starts an in-memory kernel with the demo's subcluster, stopped
// when the test ends.
func launch(t *testing.T) (*actors.Kernel, kernel.LaunchResult) {
	t.Helper()
	ctx := context.Background()
	reg := vat.NewRegistry()
	register(reg)
	k, err := actors.Start(ctx, actors.Config{Registry: reg})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, k.Stop(ctx)) })
	res, err := k.LaunchSubcluster(ctx, kernel.ClusterConfig{Bootstrap: "mint", Vats: map[string]kernel.VatConfig{
		"mint": {Bundle: bundleMint}, "alice": {Bundle: bundleAlice}, "bob": {Bundle: bundleBob}, "mallory": {Bundle: bundleMallory},
	}})
	require.NoError(t, err)
	return k, res
}

// The mint's deposit check, one source at a time: only a purse of this
// mint, holding enough, can be drawn on, and a refused deposit changes
// nothing.
func TestMintDeposit(t *testing.T) {
	demotest.Bubble(t, func(t *testing.T) {
		ctx := context.Background()
		k, res := launch(t)
		mint := res.Roots["mint"]
		call := func(target kernel.KRef, method string, args ...any) (any, error) {
			return k.QueueMessage(ctx, target, method, args...)
		}
		newPurse := func(n int64) kernel.KRef {
			v, err := call(mint, "makePurse", n)
			require.NoError(t, err)
			return v.(kernel.KRef)
		}
		src, dst := newPurse(50), newPurse(0)
		tests := []struct {
			name    string
			amount  any
			src     kernel.KRef
			wantErr string // "" if the deposit is accepted
			wantSrc int64  // balances afterwards
			wantDst int64
		}{
			{"a genuine purse", 20, src, "", 30, 20},
			{"more than the source holds", 31, src, fmt.Sprintf(msgNoFundsFmt, 30, 31), 30, 20},
			{"a negative amount", -1, src, msgBadAmount, 30, 20},
			{"a fraction", 1.5, src, msgBadAmount, 30, 20},
			{"not a number", "ten", src, msgBadAmount, 30, 20},
			{"the mint's root, an object of the same vat", 1, mint, msgNotAPurse, 30, 20},
			{"an object of another vat", 1, res.Roots["alice"], msgNotAPurse, 30, 20},
			{"the purse itself", 5, dst, "", 30, 20},
			{"all the source holds", 30, src, "", 0, 50},
		}
		// The rows run in order on one mint, each from the state the last
		// left (and t.Run may not be called inside a synctest bubble).
		for _, tt := range tests {
			v, err := call(dst, "deposit", tt.amount, tt.src)
			if tt.wantErr == "" {
				require.NoError(t, err, tt.name)
				require.Equal(t, tt.wantDst, v, "%s: deposit returns the new balance", tt.name)
			} else {
				var re *kernel.RejectionError
				require.True(t, errors.As(err, &re), "%s: a vat's error reaches the host as a RejectionError: %v", tt.name, err)
				require.Contains(t, re.Message, tt.wantErr, tt.name)
			}
			for _, p := range []struct {
				purse kernel.KRef
				want  int64
			}{{src, tt.wantSrc}, {dst, tt.wantDst}} {
				got, err := call(p.purse, "getBalance")
				require.NoError(t, err, tt.name)
				require.Equal(t, p.want, got, tt.name)
			}
			total, err := call(mint, "totalSupply")
			require.NoError(t, err, tt.name)
			require.Equal(t, int64(50), total, "%s: no money is made or lost", tt.name)
		}
	})
}

// Mallory's forged purse is never consulted: the mint decides from its
// table alone.
func TestMintNeverAsksAForgery(t *testing.T) {
	demotest.Bubble(t, func(t *testing.T) {
		ctx := context.Background()
		k, res := launch(t)
		purse, err := k.QueueMessage(ctx, res.Roots["mint"], "makePurse", 5)
		require.NoError(t, err)
		_, err = k.QueueMessage(ctx, res.Roots["mallory"], "takePurse", purse)
		require.NoError(t, err)
		_, err = k.QueueMessage(ctx, res.Roots["mallory"], "forge", 7)
		require.ErrorContains(t, err, msgNotAPurse)
		asked, err := k.QueueMessage(ctx, res.Roots["mallory"], "fakeAsked")
		require.NoError(t, err)
		require.Equal(t, int64(0), asked)
		bal, err := k.QueueMessage(ctx, res.Roots["mallory"], "balance")
		require.NoError(t, err)
		require.Equal(t, int64(5), bal)
	})
}
