//go:build jsvat

package jsvat_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/jsvat"
	"github.com/ocapgo/kernel-actors/kernel"
)

// A pageable JavaScript vat paged out has no worker process: its process
// is killed and reaped. Its next delivery starts a new worker from the
// vatstore, with its durable objects' state and krefs, in the same
// incarnation (docs/paging.md).
func TestJSVatPagedOutHasNoProcess(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t, jsvat.Options{})
	k := startKernel(t, actors.Config{JS: rt, MaxLiveVats: 1})
	spec := bundleOf(t, "durable-v1.js")
	res, err := k.LaunchSubcluster(ctx, kernel.ClusterConfig{Bootstrap: "a", Vats: map[string]kernel.VatConfig{
		"a": {BundleSpec: spec, Pageable: true},
		"b": {BundleSpec: spec, Pageable: true},
	}})
	require.NoError(t, err)
	call := func(target kernel.KRef, method string, args ...any) any {
		t.Helper()
		v, err := k.QueueMessage(ctx, target, method, args...)
		require.NoError(t, err)
		return v
	}
	status := func() actors.Status {
		t.Helper()
		st, err := k.Status(ctx)
		require.NoError(t, err)
		return st
	}
	a, b := res.VatIDs["a"], res.VatIDs["b"]
	require.Equal(t, []kernel.VatID{b}, status().PagedOut, "a got bootstrap last")
	eventually(t, func() bool { return len(rt.PIDs()) == 1 }, "one worker: a's")
	aPID := rt.PIDs()[0]

	// A delivery to b starts b's worker and pages a out: a's is killed.
	began := time.Now()
	mainB := call(res.Roots["b"], "main").(kernel.KRef)
	t.Logf("a delivery that paged a JavaScript vat in (and another out) took %v", time.Since(began).Round(time.Millisecond))
	require.Equal(t, []kernel.VatID{a}, status().PagedOut)
	eventually(t, func() bool { return pidGone(aPID) }, "a's worker is dead and reaped")
	require.Len(t, rt.PIDs(), 1)
	bPID := rt.PIDs()[0]
	require.NotEqual(t, aPID, bPID)
	for range 3 {
		call(mainB, "incr")
	}

	// And back: a is paged in (a new worker), b out; then b again, with
	// its durable counter where it was, in its first incarnation.
	call(res.Roots["a"], "version")
	eventually(t, func() bool { return pidGone(bPID) }, "b's worker is dead and reaped")
	require.Equal(t, []kernel.VatID{b}, status().PagedOut)
	require.Equal(t, int64(3), call(mainB, "read"), "b's durable state came back with it")
	require.Len(t, rt.PIDs(), 1)
	require.False(t, slices.Contains(rt.PIDs(), bPID), "a new worker")
	for _, v := range status().Vats {
		require.Equal(t, int64(0), v.Incarnation, "%s: paging is not a restart", v.ID)
	}
	evs, err := k.VatLog(ctx, b)
	require.NoError(t, err)
	var got []string
	for _, e := range evs {
		got = append(got, e.Event)
	}
	require.Equal(t, []string{kernel.EventPagedOut, kernel.EventPagedIn, kernel.EventPagedOut, kernel.EventPagedIn}, got)
}

// A kernel resumed under a cap brings its pageable JavaScript vats back
// paged out: no worker process at all right after the resume. The first
// delivery to one starts one worker, with its durable state, in the
// resumed incarnation (docs/paging.md, "Resume").
func TestJSVatResumedPagedOutHasNoProcess(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t, jsvat.Options{})
	path := filepath.Join(t.TempDir(), "js.db")
	cfg := actors.Config{JS: rt, MaxLiveVats: 1, DBPath: path, Registry: goRegistry()}
	k, err := actors.Start(ctx, cfg)
	require.NoError(t, err)
	spec := bundleOf(t, "durable-v1.js")
	res, err := k.LaunchSubcluster(ctx, kernel.ClusterConfig{Bootstrap: "a", Vats: map[string]kernel.VatConfig{
		"a": {BundleSpec: spec, Pageable: true},
		"b": {BundleSpec: spec, Pageable: true},
	}})
	require.NoError(t, err)
	mainB, err := k.QueueMessage(ctx, res.Roots["b"], "main")
	require.NoError(t, err)
	for range 2 {
		_, err := k.QueueMessage(ctx, mainB.(kernel.KRef), "incr")
		require.NoError(t, err)
	}
	require.NoError(t, k.Stop(ctx))
	eventually(t, func() bool { return len(rt.PIDs()) == 0 }, "the stopped kernel's workers are gone")

	k = startKernel(t, cfg)
	st, err := k.Status(ctx)
	require.NoError(t, err)
	require.Equal(t, 0, st.LiveVats)
	require.Equal(t, []kernel.VatID{res.VatIDs["a"], res.VatIDs["b"]}, st.PagedOut)
	require.Empty(t, rt.PIDs(), "no worker was started at resume")
	v, err := k.QueueMessage(ctx, mainB.(kernel.KRef), "read")
	require.NoError(t, err)
	require.Equal(t, int64(2), v, "b's durable state came back with it")
	require.Len(t, rt.PIDs(), 1, "one worker: b's")
	st, err = k.Status(ctx)
	require.NoError(t, err)
	require.Equal(t, []kernel.VatID{res.VatIDs["a"]}, st.PagedOut)
	for _, v := range st.Vats {
		require.Equal(t, int64(1), v.Incarnation, "%s: the resumed incarnation", v.ID)
	}
}
