package kernel_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/kernel"
	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/persistence/sqlitestore"
)

// A resume that defers bob's start settles at once everything his lost
// heap answered for, exactly as a resume that starts him: the promises he
// decided are rejected (so what waits on them splats now, not at his next
// delivery), his ephemeral export is abandoned, his incarnation goes up
// and the vat log says so. Only his startVat waits: it comes inside the
// crank of his first delivery, before it. The Driver audits after every
// step.
func TestResumeWithDeferredStartSettlesAtOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.db")
	d := kt.NewWithOptions(t, path, persistence.Options{})
	w := newExportsWorld(t, d)
	bobID := w.res.VatIDs["bob"]
	w.bob.OnMethod["later"] = func(c *kt.Call) error { return nil } // never answers
	w.alice.Next = append(w.alice.Next, func(c *kt.Call) error {
		r := c.Send(c.Slot(0), "later")
		c.Send(r, "more") // pipelined: waits on bob's answer
		c.Fulfill(c.Result(), kt.Undefined)
		return nil
	})
	d.Send(w.res.Roots["alice"], "ask", w.res.Roots["bob"])
	hostWait := d.Send(w.res.Roots["bob"], "later")
	d.RunUntilQuiescent(0)
	var decidedByBob []string
	for _, s := range d.Store.PromiseKPIDs() {
		if p, _ := d.Store.Promise(s); p.Decider == string(bobID) {
			decidedByBob = append(decidedByBob, s)
		}
	}
	require.Len(t, decidedByBob, 2, "alice's and the host's later()")

	res := d.ReopenDeferring(func(id kernel.VatID, _ kernel.VatConfig) bool { return id == bobID })
	require.Equal(t, []kernel.VatID{bobID}, res.Deferred)
	require.Equal(t, 2, w.alice.Started, "alice started at resume")
	require.Equal(t, 1, w.bob.Started, "bob's start waits")
	info, _ := d.K.Vat(bobID)
	require.Equal(t, int64(1), info.Incarnation, "a new incarnation all the same")
	events, err := d.Store.VatEvents(d.Ctx, string(bobID))
	require.NoError(t, err)
	last := events[len(events)-1]
	require.Equal(t, "resumed", last.Event)
	require.Contains(t, last.Reason, "waits for its first delivery")
	// Before any crank: nothing bob's lost heap decided is left pending.
	for _, s := range decidedByBob {
		if p, ok := d.Store.Promise(s); ok {
			require.Equal(t, persistence.PromiseRejected, p.State, "%s", s)
		}
	}
	_, ok := d.Store.Promise(string(hostWait))
	require.False(t, ok, "the dead host's promise was let go, settled and freed")

	d.RunUntilQuiescent(0) // more() splats, alice hears
	require.Equal(t, 1, w.bob.Started, "a splat does not reach bob")
	require.ErrorIs(t, w.call(t, w.eph, "poke"), kernel.ErrObjectDeleted, "the ephemeral export was abandoned at resume")
	require.Equal(t, 1, w.bob.Started, "nor does a send to his abandoned export")

	seen := len(w.bob.Deliveries)
	require.NoError(t, w.call(t, w.dur, "poke"))
	require.Equal(t, 2, w.bob.Started, "started by his first delivery")
	got := w.bob.Deliveries[seen:]
	require.Len(t, got, 2)
	require.Equal(t, kernel.DeliverStartVat, got[0].Kind, "startVat first, in the same crank")
	require.Equal(t, int64(1), got[0].Incarnation)
	require.Equal(t, kernel.DeliverMessage, got[1].Kind)
	require.NoError(t, w.call(t, w.dur, "poke"))
	require.Equal(t, 2, w.bob.Started, "once")
}

// Deferred vats share units (more than one unit's worth here), in id
// order with the vats that start: every vat is resumed, the right ones
// started, and each deferred one starts at its first delivery.
func TestResumeWithDefersManyVats(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.db")
	d := kt.NewWithOptions(t, path, persistence.Options{})
	const n = 600
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("v%03d", i)
	}
	launched := d.Launch(names[0], names...)
	starts := func(i int) bool { return i%100 == 7 } // a few start at resume
	res := d.ReopenDeferring(func(id kernel.VatID, _ kernel.VatConfig) bool {
		info, _ := d.K.Vat(id)
		var i int
		fmt.Sscanf(info.Name, "v%d", &i)
		return !starts(i)
	})
	require.Len(t, res.Deferred, n-6)
	for i, name := range names {
		id := launched.VatIDs[name]
		info, _ := d.K.Vat(id)
		require.Equal(t, int64(1), info.Incarnation, name)
		want := 1
		if starts(i) {
			want = 2
		}
		require.Equal(t, want, d.Vat(name).Started, name)
	}
	for i := 1; i < len(res.Deferred); i++ {
		require.Less(t, vatNum(res.Deferred[i-1]), vatNum(res.Deferred[i]), "id order")
	}
	d.Vat(names[300]).OnMethod["hi"] = func(c *kt.Call) error {
		c.Fulfill(c.Result(), kt.Str("hello"))
		return nil
	}
	p := d.Send(launched.Roots[names[300]], "hi")
	d.RunUntilQuiescent(0)
	require.NoError(t, d.ResultErr(p))
	require.Equal(t, 2, d.Vat(names[300]).Started)
}

func vatNum(id kernel.VatID) int {
	var n int
	fmt.Sscanf(string(id), "v%d", &n)
	return n
}

// A Defer that refuses a vat (its code is missing, say) stops the resume
// there, naming it, and leaves that vat as it was; the vats before it,
// deferred or started, stay resumed.
func TestResumeWithStopsAtARefusedVat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.db")
	d := kt.NewWithOptions(t, path, persistence.Options{})
	res := d.Launch("a", "a", "b", "c")
	a, b, c := res.VatIDs["a"], res.VatIDs["b"], res.VatIDs["c"]
	require.NoError(t, d.Store.Close(d.Ctx))
	st, err := sqlitestore.Open(d.Ctx, path, persistence.Options{})
	require.NoError(t, err)
	defer st.Close(d.Ctx)
	k, err := kernel.New(kernel.Config{Store: st})
	require.NoError(t, err)
	d.Store, d.K = st, k
	missing := errors.New("no such bundle")
	got, _, err := k.ResumeWith(d.Ctx, d, kernel.ResumeOptions{Defer: func(id kernel.VatID, _ kernel.VatConfig) (bool, error) {
		if id == c {
			return false, missing
		}
		return id == b, nil
	}})
	require.ErrorIs(t, err, missing)
	require.ErrorContains(t, err, string(c))
	require.Equal(t, []kernel.VatID{b}, got.Deferred)
	for id, want := range map[kernel.VatID]int64{a: 1, b: 1, c: 0} {
		info, _ := k.Vat(id)
		require.Equal(t, want, info.Incarnation, "%s", id)
	}
	d.AuditNow("refused resume")
}
