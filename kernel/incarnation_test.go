package kernel_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/kernel"
	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/persistence/sqlitestore"
)

// exportsWorld launches alice and bob; bob exports an ephemeral object
// (o+N), a virtual one (o+vK/I) and a durable one (o+dK/I) to alice, who
// keeps them as $eph, $virt and $dur in her handlers.
type exportsWorld struct {
	d              *kt.Driver
	res            kernel.LaunchResult
	alice, bob     *kt.FakeVat
	eph, virt, dur kernel.VRef // in alice's space
	ephK           kernel.KRef // the ephemeral object's kref
}

func newExportsWorld(t *testing.T, d *kt.Driver) *exportsWorld {
	w := &exportsWorld{d: d, res: d.Launch("alice", "alice", "bob")}
	w.alice, w.bob = d.Vat("alice"), d.Vat("bob")
	w.bob.OnMethod["give"] = func(c *kt.Call) error {
		eph := c.NewExport(false)
		c.Fulfill(c.Result(), kt.Ref(string(eph)))
		return nil
	}
	w.bob.OnMethod["giveVirtual"] = func(c *kt.Call) error {
		c.Fulfill(c.Result(), kt.Ref("o+v3/1"))
		return nil
	}
	w.bob.OnMethod["giveDurable"] = func(c *kt.Call) error {
		c.Fulfill(c.Result(), kt.Ref("o+d2/1"))
		return nil
	}
	bobRoot := w.res.Roots["bob"]
	w.eph = w.fetch(t, bobRoot, "give")
	w.virt = w.fetch(t, bobRoot, "giveVirtual")
	w.dur = w.fetch(t, bobRoot, "giveDurable")
	kref, ok := d.Store.KRefOf(string(w.res.VatIDs["alice"]), string(w.eph))
	require.True(t, ok)
	w.ephK = kernel.KRef(kref)
	return w
}

// fetch has alice call method on target and hold the object it returns.
func (w *exportsWorld) fetch(t *testing.T, target kernel.KRef, method string) kernel.VRef {
	var got kernel.VRef
	w.alice.Next = append(w.alice.Next, func(c *kt.Call) error {
		p := c.Send(c.Slot(0), method)
		c.Subscribe(p)
		c.Fulfill(c.Result(), kt.Undefined)
		return nil
	}, func(c *kt.Call) error {
		got = kernel.VRef(c.Delivery.Resolutions[0].Data.Slots[0])
		return nil
	})
	w.d.Send(w.res.Roots["alice"], "fetch", target)
	w.d.RunUntilQuiescent(0)
	require.NotEmpty(t, got, method)
	return got
}

// call has alice send method to her import ref and returns her view of
// the result's settlement error (nil if fulfilled).
func (w *exportsWorld) call(t *testing.T, ref kernel.VRef, method string) error {
	var err error
	settled := false
	w.alice.Next = append(w.alice.Next, func(c *kt.Call) error {
		c.Subscribe(c.Send(ref, method))
		c.Fulfill(c.Result(), kt.Undefined)
		return nil
	}, func(c *kt.Call) error {
		r := c.Delivery.Resolutions[0]
		settled = true
		if r.Rejected {
			err = kernel.ErrorFromRejection(r.Data)
		}
		return nil
	})
	w.d.Send(w.res.Roots["alice"], "go")
	w.d.RunUntilQuiescent(0)
	require.True(t, settled, "alice heard about %s", method)
	return err
}

func messagesTo(v *kt.FakeVat, from int) []string {
	var out []string
	for _, dv := range v.Deliveries[from:] {
		if dv.Kind == kernel.DeliverMessage {
			out = append(out, string(dv.Target)+" "+kt.MethodOf(dv.Message.Methargs))
		}
	}
	return out
}

// A restart abandons the old incarnation's non-durable exports in the same
// unit (SwingSet's behaviour at upgrade): a send to one splats
// OBJECT_DELETED without reaching the vat, which lives on; the durable
// export and the root keep working; the importer's drop then collects the
// orphan with the normal GC.
func TestRestartAbandonsNonDurableExports(t *testing.T) {
	d := kt.New(t)
	w := newExportsWorld(t, d)
	bobID := w.res.VatIDs["bob"]
	d.Restart(bobID)

	o, ok := d.Store.Object(string(w.ephK))
	require.True(t, ok, "alice still imports it")
	require.Empty(t, o.Owner, "abandoned in the restart's unit")
	_, inCList := d.Store.CList(string(bobID), string(w.ephK))
	require.False(t, inCList, "the new incarnation does not know it")

	seen := len(w.bob.Deliveries)
	require.ErrorIs(t, w.call(t, w.eph, "poke"), kernel.ErrObjectDeleted)
	require.ErrorIs(t, w.call(t, w.virt, "poke"), kernel.ErrObjectDeleted)
	require.NoError(t, w.call(t, w.dur, "poke"))
	require.Equal(t, []string{"o+d2/1 poke"}, messagesTo(w.bob, seen), "only the durable object's message reached bob")
	info, err := d.K.Vat(bobID)
	require.NoError(t, err)
	require.True(t, info.Active, "a stale reference cannot kill the new incarnation")

	// alice lets go of the orphan: it is retired and deleted, as any object
	// whose exporter is gone.
	w.alice.Next = append(w.alice.Next, func(c *kt.Call) error {
		c.GC(kernel.SyscallDropImports, w.eph)
		c.GC(kernel.SyscallRetireImports, w.eph)
		return nil
	})
	d.Send(w.res.Roots["alice"], "forget")
	d.RunUntilQuiescent(0)
	_, ok = d.Store.Object(string(w.ephK))
	require.False(t, ok, "collected")
}

// Upgrade abandons the same way; an upgrade whose new code fails to start
// changes nothing, so the old incarnation's exports keep their owner.
func TestUpgradeAbandonsNonDurableExportsOnlyWhenItStarts(t *testing.T) {
	d := kt.New(t)
	w := newExportsWorld(t, d)
	bobID := w.res.VatIDs["bob"]

	w.bob.FailStart = kernel.ErrVatFault
	_, err := d.K.UpgradeVat(d.Ctx, bobID, d, kernel.VatConfig{Bundle: "fake2"})
	require.ErrorIs(t, err, kernel.ErrVatFault)
	d.AuditNow("failed upgrade")
	o, _ := d.Store.Object(string(w.ephK))
	require.Equal(t, string(bobID), o.Owner, "a failed upgrade abandons nothing")
	require.NoError(t, w.call(t, w.eph, "poke"), "and the old incarnation still serves it")

	w.bob.FailStart = nil
	out, err := d.K.UpgradeVat(d.Ctx, bobID, d, kernel.VatConfig{Bundle: "fake2"})
	require.NoError(t, err)
	require.Empty(t, out)
	d.AuditNow("upgrade")
	require.ErrorIs(t, w.call(t, w.eph, "poke"), kernel.ErrObjectDeleted)
	info, _ := d.K.Vat(bobID)
	require.Equal(t, int64(1), info.Incarnation)
	require.Equal(t, "fake2", info.Config.Bundle)
}

// A restart settles everything only the old heap knew: the promise bob
// decided is rejected (and alice, who awaits it, hears VAT_TERMINATED).
// The promise bob imported stays in his c-list with his subscription, as
// SwingSet keeps it: a durable watcher in the new heap (liveslots'
// watchPromise) re-imports it and must hear it settle. Its notify then
// retires the entry, as any notify does.
func TestRestartSettlesWhatTheOldHeapKnew(t *testing.T) {
	d := kt.New(t)
	res := d.Launch("alice", "alice", "bob")
	alice, bob := d.Vat("alice"), d.Vat("bob")
	bobID := res.VatIDs["bob"]
	var aliceP kernel.VRef                          // a promise alice decides and gives bob
	bob.OnMethod["hold"] = func(c *kt.Call) error { // never answers; keeps c.Slot(0)
		c.Subscribe(c.Slot(0))
		return nil
	}
	var aliceHeard []string
	alice.OnMethod["go"] = func(c *kt.Call) error {
		aliceP = c.NewExport(true)
		r := c.Send(c.Slot(0), "hold", aliceP)
		c.Subscribe(r)
		c.Fulfill(c.Result(), kt.Undefined)
		return nil
	}
	alice.Next = nil
	d.Send(res.Roots["alice"], "go", res.Roots["bob"])
	d.RunUntilQuiescent(0)

	d.Restart(bobID)
	var kept []string
	for _, s := range d.Store.CListKRefs(string(bobID)) {
		if kernel.KRef(s).IsPromise() {
			kept = append(kept, s)
		}
	}
	require.Len(t, kept, 1, "bob keeps the promise he imported from alice, and only that one")
	d.RunUntilQuiescent(0)
	last := alice.Deliveries[len(alice.Deliveries)-1]
	require.Equal(t, kernel.DeliverNotify, last.Kind)
	require.True(t, last.Resolutions[0].Rejected)
	require.ErrorIs(t, kernel.ErrorFromRejection(last.Resolutions[0].Data), kernel.ErrVatTerminated)
	aliceHeard = append(aliceHeard, "notified")

	seen := len(bob.Deliveries)
	alice.Next = append(alice.Next, func(c *kt.Call) error {
		c.Fulfill(aliceP, kt.Str("late"))
		return nil
	})
	d.Send(res.Roots["alice"], "settle")
	d.RunUntilQuiescent(0)
	var notifies []kernel.Delivery
	for _, dv := range bob.Deliveries[seen:] {
		if dv.Kind == kernel.DeliverNotify {
			notifies = append(notifies, dv)
		}
	}
	require.Len(t, notifies, 1, "the new incarnation hears the promise it kept settle")
	require.False(t, notifies[0].Resolutions[0].Rejected)
	_, stillThere := d.Store.CList(string(bobID), kept[0])
	require.False(t, stillThere, "the notify retired bob's entry")
	require.Equal(t, []string{"notified"}, aliceHeard)
}

// After a kernel restart every heap is gone: Resume begins a new
// incarnation of each vat as a restart does. The promise bob's lost heap
// decided is rejected, so the message alice pipelined onto it splats
// instead of waiting forever, and nothing is left that nobody can settle
// (the Driver audits after every step); stale references splat instead of
// killing vats; the host subscription of the process that went away is
// let go.
func TestResumeSettlesPromisesTheLostHeapsDecided(t *testing.T) {
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
	var decidedByBob, queuedOn []string
	for _, s := range d.Store.PromiseKPIDs() {
		p, _ := d.Store.Promise(s)
		if p.Decider == string(bobID) {
			decidedByBob = append(decidedByBob, s)
		}
		if p.QueueTail > p.QueueHead {
			queuedOn = append(queuedOn, s)
		}
	}
	require.Len(t, decidedByBob, 2, "alice's and the host's later()")
	require.Len(t, queuedOn, 1, "more() waits on alice's later()")

	d.Reopen()
	info, _ := d.K.Vat(bobID)
	require.Equal(t, int64(1), info.Incarnation, "a new incarnation")
	require.Equal(t, 2, w.bob.Started, "started again")
	events, err := d.Store.VatEvents(d.Ctx, string(bobID))
	require.NoError(t, err)
	require.Equal(t, "resumed", events[len(events)-1].Event)
	require.Equal(t, "kernel restarted", events[len(events)-1].Reason)

	d.RunUntilQuiescent(0)
	for _, s := range d.Store.PromiseKPIDs() {
		p, _ := d.Store.Promise(s)
		require.NotEqual(t, persistence.PromiseUnresolved, p.State, "%s is still unresolved", s)
	}
	require.Equal(t, 0, d.Store.QueueLen())
	_, ok := d.Store.Promise(string(hostWait))
	require.False(t, ok, "the dead host's promise was let go, settled and freed")
	require.ErrorIs(t, w.call(t, w.eph, "poke"), kernel.ErrObjectDeleted)
	require.NoError(t, w.call(t, w.dur, "poke"))
}

// Resume stops at a vat that cannot start, naming it, and changes nothing
// about that vat (its bundle may only be missing from the registry).
func TestResumeStopsAtAVatThatCannotStart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.db")
	d := kt.NewWithOptions(t, path, persistence.Options{})
	res := d.Launch("alice", "alice", "bob")
	d.Vat("bob").FailStart = kernel.ErrVatFault
	require.NoError(t, d.Store.Close(d.Ctx))
	st, err := sqlitestore.Open(d.Ctx, path, persistence.Options{})
	require.NoError(t, err)
	defer st.Close(d.Ctx)
	k, err := kernel.New(kernel.Config{Store: st})
	require.NoError(t, err)
	d.Store, d.K = st, k
	_, err = k.Resume(d.Ctx, d)
	require.ErrorIs(t, err, kernel.ErrVatFault)
	require.ErrorContains(t, err, string(res.VatIDs["bob"]))
	info, _ := k.Vat(res.VatIDs["bob"])
	require.True(t, info.Active)
	require.Equal(t, int64(0), info.Incarnation, "left as it was")
	d.AuditNow("failed resume")
}

// The auditor flags a promise nobody can settle: one decided by an
// incarnation that is gone, and one the kernel decides with no queued
// message to hand the authority on.
func TestAuditFlagsStrandedPromises(t *testing.T) {
	d := kt.New(t)
	res := d.Launch("alice", "alice", "bob")
	aliceID := res.VatIDs["alice"]
	d.Vat("alice").OnMethod["make"] = func(c *kt.Call) error {
		c.Send(c.Slot(0), "hold", c.NewExport(true)) // alice decides it
		c.Fulfill(c.Result(), kt.Undefined)
		return nil
	}
	d.Send(res.Roots["alice"], "make", res.Roots["bob"])
	d.RunUntilQuiescent(0)
	var decided string
	for _, s := range d.Store.PromiseKPIDs() {
		if p, _ := d.Store.Promise(s); p.Decider == string(aliceID) {
			decided = s
		}
	}
	require.NotEmpty(t, decided)

	// A restart that forgot to settle it: the incarnation moves on alone.
	require.NoError(t, d.Store.Begin())
	row, _ := d.Store.Vat(string(aliceID))
	row.Incarnation++
	d.Store.PutVat(string(aliceID), row)
	_, err := d.Store.Commit(d.Ctx)
	require.NoError(t, err)
	problems, err := kernel.Audit(d.Ctx, d.Store)
	require.NoError(t, err)
	require.Len(t, problems, 1, "%v", problems)
	require.Contains(t, problems[0], "decided by incarnation 0 of "+string(aliceID)+", which is gone")

	// The kernel decides a promise no queued message carries.
	require.NoError(t, d.Store.Begin())
	row.Incarnation--
	d.Store.PutVat(string(aliceID), row)
	p, _ := d.Store.Promise(decided)
	p.Decider, p.DeciderIncarnation = "", 0
	d.Store.PutPromise(decided, p)
	_, err = d.Store.Commit(d.Ctx)
	require.NoError(t, err)
	problems, err = kernel.Audit(d.Ctx, d.Store)
	require.NoError(t, err)
	require.Len(t, problems, 1, "%v", problems)
	require.Contains(t, problems[0], "no queued message has it as its result")
}
