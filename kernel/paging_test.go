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

// RecordPaging puts an event in the open unit if there is one (it goes
// with the unit if that aborts, unless it is a page-out), else in the
// next unit to open, before that unit's own events; FlushPaging opens one
// for events that wait. Vats that are gone are skipped, with the vat's
// incarnation at the time of the event.
func TestRecordPaging(t *testing.T) {
	d, res, _ := pagingWorld(t)
	bob, alice := res.VatIDs["bob"], res.VatIDs["alice"]
	names := func(vat kernel.VatID) []string {
		t.Helper()
		evs, err := d.Store.VatEvents(d.Ctx, string(vat))
		require.NoError(t, err)
		var out []string
		for _, e := range evs {
			out = append(out, e.Event+":"+e.Reason)
		}
		return out
	}

	// Between units: it waits for the next unit, and comes first in it.
	require.NoError(t, d.K.RecordPaging(kernel.PagingEvent{Vat: bob, Event: kernel.EventPagedOut, Reason: "idle"}))
	require.True(t, d.K.PagingPending())
	require.Empty(t, names(bob))
	_, err := d.K.RestartVat(d.Ctx, bob, d, "test")
	require.NoError(t, err)
	require.Equal(t, []string{"paged-out:idle", "restarted:test"}, names(bob), "in order")
	evs, err := d.Store.VatEvents(d.Ctx, string(bob))
	require.NoError(t, err)
	require.Equal(t, int64(0), evs[0].Incarnation, "the incarnation it was paged out of")

	// Waiting, with nothing else to carry it: FlushPaging.
	require.NoError(t, d.K.RecordPaging(kernel.PagingEvent{Vat: bob, Event: kernel.EventPagedOut, Reason: "again"}))
	require.NoError(t, d.K.RecordPaging(kernel.PagingEvent{Vat: alice, Event: kernel.EventPagedOut, Reason: "idle"}))
	d.Terminate(alice) // its unit carries both, alice's before her termination
	require.False(t, d.K.PagingPending())
	require.Equal(t, []string{"paged-out:idle", "terminated:terminated by test"}, names(alice))
	require.Equal(t, "paged-out:again", names(bob)[2], "bob's, carried by the same unit")
	require.NoError(t, d.K.RecordPaging(kernel.PagingEvent{Vat: alice, Event: kernel.EventPagedIn, Reason: "late"}))
	require.False(t, d.K.PagingPending(), "a terminated vat's event is ignored")
	_, err = d.K.FlushPaging(d.Ctx)
	require.NoError(t, err)

	_, err = d.K.FlushPaging(d.Ctx)
	require.NoError(t, err, "nothing to flush: no unit")
	require.ErrorIs(t, d.K.RecordPaging(kernel.PagingEvent{Vat: bob, Event: "napping"}), kernel.ErrBadConfig)
	d.AuditNow("after RecordPaging")
}

// A unit that aborts takes its page-in records with it (the delivery that
// paged in failed), and hands its page-out records to the next unit (the
// instances are gone all the same).
func TestRecordPagingAcrossAbort(t *testing.T) {
	d, res, bob := pagingWorld(t)
	alice := res.VatIDs["alice"]
	bob.OnMethod["fail"] = func(c *kt.Call) error {
		require.NoError(t, d.K.RecordPaging(kernel.PagingEvent{Vat: res.VatIDs["bob"], Event: kernel.EventPagedIn, Reason: "in"}))
		require.NoError(t, d.K.RecordPaging(kernel.PagingEvent{Vat: alice, Event: kernel.EventPagedOut, Reason: "out"}))
		return errors.New("boom")
	}
	d.Send(res.Roots["bob"], "fail")
	d.RunUntilQuiescent(0)
	evs, err := d.Store.VatEvents(d.Ctx, "")
	require.NoError(t, err)
	var got []string
	for _, e := range evs {
		got = append(got, e.Vat+":"+e.Event)
	}
	require.Contains(t, got, string(alice)+":"+kernel.EventPagedOut, "the page-out survived the abort")
	require.NotContains(t, got, string(res.VatIDs["bob"])+":"+kernel.EventPagedIn, "the page-in went with it")
	require.Contains(t, got, string(res.VatIDs["bob"])+":terminated")
}
