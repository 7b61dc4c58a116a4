package stdvats_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/internal/stdvats"
	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/vat"
)

// The counter counts, records ids, and keeps both across a vat restart.
func TestCounter(t *testing.T) {
	ctx := context.Background()
	reg := vat.NewRegistry()
	stdvats.Register(reg)
	k, err := actors.Start(ctx, actors.Config{Registry: reg})
	require.NoError(t, err)
	defer k.Stop(ctx)
	res, err := k.LaunchSubcluster(ctx, kernel.ClusterConfig{Bootstrap: "c", Vats: map[string]kernel.VatConfig{"c": {Bundle: stdvats.BundleCounter}}})
	require.NoError(t, err)
	require.Equal(t, "counter ready", res.BootstrapResult)
	call := func(method string, args ...any) any {
		v, err := k.QueueMessage(ctx, res.RootKref, method, args...)
		require.NoError(t, err, method)
		return v
	}
	require.Equal(t, int64(1), call("incr"))
	require.Equal(t, int64(6), call("incr", 5))
	_, err = k.QueueMessage(ctx, res.RootKref, "incr", "lots")
	require.ErrorContains(t, err, "incr: by")
	require.Equal(t, int64(7), call("record", 1))
	require.Equal(t, int64(8), call("record", 2))
	require.NoError(t, k.RestartVat(ctx, res.VatIDs["c"]))
	require.Equal(t, int64(9), call("record", 1), "a second record of 1 still counts")
	require.Equal(t, map[string]any{"count": int64(9), "ids": []any{"1", "2"}, "duplicates": []any{"1"}}, call("seen"))
	require.Equal(t, int64(9), call("get"))
}

// A record whose id is over the kernel's vatstore key limit (4 KiB by
// default) is refused to the caller with an error: the counter lives and
// keeps its count (the write used to be an illegal syscall that killed the
// vat for good).
func TestCounterRecordTooLarge(t *testing.T) {
	ctx := context.Background()
	reg := vat.NewRegistry()
	stdvats.Register(reg)
	k, err := actors.Start(ctx, actors.Config{Registry: reg})
	require.NoError(t, err)
	defer k.Stop(ctx)
	res, err := k.LaunchSubcluster(ctx, kernel.ClusterConfig{Bootstrap: "c", Vats: map[string]kernel.VatConfig{"c": {Bundle: stdvats.BundleCounter}}})
	require.NoError(t, err)
	_, err = k.QueueMessage(ctx, res.RootKref, "record", 1)
	require.NoError(t, err)
	_, err = k.QueueMessage(ctx, res.RootKref, "record", strings.Repeat("x", 5000))
	require.ErrorContains(t, err, "over the kernel's vatstore limit")
	v, err := k.QueueMessage(ctx, res.RootKref, "get")
	require.NoError(t, err, "the counter lives")
	require.Equal(t, int64(1), v, "and keeps its count")
	v, err = k.QueueMessage(ctx, res.RootKref, "record", 2)
	require.NoError(t, err)
	require.Equal(t, int64(2), v)
}

// The limits are settings of the actor runtime too: a smaller vatstore key
// limit reaches the counter's liveslots, and a bad value is refused at
// Start, naming the field.
func TestCounterLimitsFromConfig(t *testing.T) {
	ctx := context.Background()
	reg := vat.NewRegistry()
	stdvats.Register(reg)
	_, err := actors.Start(ctx, actors.Config{Registry: reg, MaxDeliverySends: -3})
	require.ErrorIs(t, err, kernel.ErrBadConfig)
	require.ErrorContains(t, err, "Config.MaxDeliverySends: -3")

	k, err := actors.Start(ctx, actors.Config{Registry: reg, MaxVatstoreKey: 64})
	require.NoError(t, err)
	defer k.Stop(ctx)
	res, err := k.LaunchSubcluster(ctx, kernel.ClusterConfig{Bootstrap: "c", Vats: map[string]kernel.VatConfig{"c": {Bundle: stdvats.BundleCounter}}})
	require.NoError(t, err)
	_, err = k.QueueMessage(ctx, res.RootKref, "record", strings.Repeat("x", 60))
	require.ErrorContains(t, err, "over the kernel's vatstore limit", "60 bytes and the key's prefixes are over 64")
	v, err := k.QueueMessage(ctx, res.RootKref, "record", "short")
	require.NoError(t, err)
	require.Equal(t, int64(1), v)
}
