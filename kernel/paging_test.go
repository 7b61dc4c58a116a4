package kernel_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/kernel"
	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
)

// pagingWorld launches alice (not pageable) and bob (pageable), with
// fake vats.
func pagingWorld(t *testing.T) (*kt.Driver, kernel.LaunchResult, *kt.FakeVat) {
	d := kt.New(t)
	res := d.LaunchConfig(kernel.ClusterConfig{Bootstrap: "alice", Vats: map[string]kernel.VatConfig{
		"alice": {Bundle: "fake"},
		"bob":   {Bundle: "fake", Pageable: true},
	}})
	return d, res, d.Vat("bob")
}

// CheckPageable judges what the kernel sees: the config's opt-in, and a
// c-list with no promise and no export that lives only in the heap. The
// root, durable exports and imports do not stop a page-out.
func TestCheckPageable(t *testing.T) {
	t.Run("config", func(t *testing.T) {
		d, res, _ := pagingWorld(t)
		require.NoError(t, d.K.CheckPageable(res.VatIDs["bob"]))
		err := d.K.CheckPageable(res.VatIDs["alice"])
		require.ErrorIs(t, err, kernel.ErrNotPageable)
		require.ErrorContains(t, err, "does not set pageable")
		require.ErrorIs(t, d.K.CheckPageable("v99"), kernel.ErrUnknownVat)
		d.Terminate(res.VatIDs["bob"])
		require.ErrorIs(t, d.K.CheckPageable(res.VatIDs["bob"]), kernel.ErrVatNotActive)
	})
	t.Run("durable export and import", func(t *testing.T) {
		d, res, bob := pagingWorld(t)
		bob.OnMethod["giveDurable"] = func(c *kt.Call) error {
			c.Fulfill(c.Result(), kt.Ref("o+d2/1"))
			return nil
		}
		d.Send(res.Roots["bob"], "giveDurable")
		// An import: bob holds alice's root.
		bob.OnMethod["take"] = func(c *kt.Call) error { c.Fulfill(c.Result(), kt.Undefined); return nil }
		d.Send(res.Roots["bob"], "take", res.Roots["alice"])
		d.RunUntilQuiescent(0)
		require.NoError(t, d.K.CheckPageable(res.VatIDs["bob"]))
	})
	t.Run("ephemeral export", func(t *testing.T) {
		d, res, bob := pagingWorld(t)
		bob.OnMethod["give"] = func(c *kt.Call) error {
			c.Fulfill(c.Result(), kt.Ref(string(c.NewExport(false))))
			return nil
		}
		d.Send(res.Roots["bob"], "give")
		d.RunUntilQuiescent(0)
		err := d.K.CheckPageable(res.VatIDs["bob"])
		require.ErrorIs(t, err, kernel.ErrNotPageable)
		require.ErrorContains(t, err, "exports 1 objects that live only in its heap")
		require.NotContains(t, err.Error(), "ko", "counts, never krefs")
	})
	t.Run("promise it decides", func(t *testing.T) {
		d, res, bob := pagingWorld(t)
		bob.OnMethod["hang"] = func(c *kt.Call) error { return nil } // never settles its result
		d.Send(res.Roots["bob"], "hang")
		d.RunUntilQuiescent(0)
		err := d.K.CheckPageable(res.VatIDs["bob"])
		require.ErrorIs(t, err, kernel.ErrNotPageable)
		require.ErrorContains(t, err, "1 promises its heap must settle")
	})
}

// LogPaging appends both events to the vat log in a unit of its own,
// with the vat's incarnation, skipping vats that are gone, and refuses
// an event it does not know.
func TestLogPaging(t *testing.T) {
	d, res, _ := pagingWorld(t)
	bob, alice := res.VatIDs["bob"], res.VatIDs["alice"]
	d.Terminate(alice)
	_, err := d.K.LogPaging(d.Ctx, []kernel.PagingEvent{
		{Vat: bob, Event: kernel.EventPagedOut, Reason: "idle"},
		{Vat: alice, Event: kernel.EventPagedOut, Reason: "idle"}, // terminated: skipped
		{Vat: bob, Event: kernel.EventPagedIn, Reason: "delivery"},
	})
	require.NoError(t, err)
	evs, err := d.Store.VatEvents(d.Ctx, string(bob))
	require.NoError(t, err)
	require.Len(t, evs, 2)
	require.Equal(t, kernel.EventPagedOut, evs[0].Event)
	require.Equal(t, "idle", evs[0].Reason)
	require.Equal(t, kernel.EventPagedIn, evs[1].Event)
	require.Equal(t, int64(0), evs[1].Incarnation)
	aliceEvs, err := d.Store.VatEvents(d.Ctx, string(alice))
	require.NoError(t, err)
	for _, e := range aliceEvs {
		require.NotEqual(t, kernel.EventPagedOut, e.Event)
	}

	_, err = d.K.LogPaging(d.Ctx, []kernel.PagingEvent{{Vat: bob, Event: "napping"}})
	require.True(t, errors.Is(err, kernel.ErrBadConfig), "%v", err)
	d.AuditNow("after LogPaging")
}
