package kernel_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/kernel"
	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/persistence/sqlitestore"
)

func TestHostSendRoundTrip(t *testing.T) {
	d := kt.New(t)
	res := d.Launch("alice", "alice", "bob")
	d.Vat("bob").OnMethod["hello"] = func(c *kt.Call) error {
		c.Fulfill(c.Result(), kt.Str("hi"))
		return nil
	}
	kpid := d.Send(res.Roots["bob"], "hello")
	cranks := d.RunUntilQuiescent(0)
	require.Len(t, cranks, 1)
	require.Equal(t, kernel.WorkSend, cranks[0].Work)
	require.Equal(t, res.VatIDs["bob"], cranks[0].Vat)
	require.Equal(t, kt.Str("hi"), d.ResultValue(kpid))
	// The result promise is freed once the host has its value.
	_, ok := d.Store.Promise(string(kpid))
	require.False(t, ok, "a settled promise nobody holds leaves no row")
	require.Equal(t, []string{string(res.Roots["bob"])}, d.Store.CListKRefs(string(res.VatIDs["bob"])), "bob's c-list holds only its root")
}

// Invariant 1: two queued items are two cranks, each its own SQLite
// transaction.
func TestTwoItemsAreTwoTransactions(t *testing.T) {
	d := kt.NewWithOptions(t, filepath.Join(t.TempDir(), "k.db"), persistence.Options{})
	res := d.Launch("alice", "alice", "bob")
	p1 := d.Send(res.Roots["alice"], "one")
	p2 := d.Send(res.Roots["bob"], "two")
	require.Equal(t, 2, d.Store.QueueLen())

	before := d.Store.Stats()
	r1 := d.Crank()
	mid := d.Store.Stats()
	require.Equal(t, kernel.Committed, r1.Outcome)
	require.Equal(t, before.Flushes+1, mid.Flushes, "the first item commits alone")
	require.Equal(t, 1, d.Store.QueueLen(), "the second item is still queued")
	_, done := d.Result(p2)
	require.False(t, done)

	r2 := d.Crank()
	require.Equal(t, kernel.Committed, r2.Outcome)
	require.Equal(t, mid.Flushes+1, d.Store.Stats().Flushes, "the second item commits in a transaction of its own")
	require.Equal(t, r1.Crank+1, r2.Crank)
	require.NoError(t, d.ResultErr(p1))
	require.NoError(t, d.ResultErr(p2))
	require.Equal(t, kernel.Idle, d.Crank().Outcome)
}

// Invariant 3 under group commit: outputs wait for the flush that covers
// the crank that made them.
func TestGroupCommitHoldsOutputsUntilFlush(t *testing.T) {
	d := kt.NewWithOptions(t, filepath.Join(t.TempDir(), "k.db"), persistence.Options{Policy: persistence.Group, GroupCranks: 1000, GroupInterval: 1 << 40})
	d.Audit = false // Verify needs a flushed store; audited explicitly below
	res := d.Launch("alice", "alice")
	require.NoError(t, d.Store.Flush(d.Ctx))
	p1 := d.Send(res.Roots["alice"], "one")
	p2 := d.Send(res.Roots["alice"], "two")
	d.RunUntilQuiescent(0)
	require.Empty(t, d.Released, "nothing is released before its commit")
	require.Equal(t, 4, d.Store.Unflushed())

	out, err := d.K.Flush(d.Ctx)
	require.NoError(t, err)
	require.Len(t, out, 2)
	require.Equal(t, p1, out[0].KPID)
	require.Equal(t, p2, out[1].KPID)
	d.AuditNow("flush")
}

// Invariants 2 and 4: crank 1 commits, crank 2's vat makes an illegal
// syscall. Crank 1's effects stay; crank 2 rolls back completely, its item
// is back at the head, every in-memory view equals the database, the host
// is told at once, and the retry splats.
func TestAbortKeepsEarlierCrankAndRestoresItem(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.db")
	d := kt.NewWithOptions(t, path, persistence.Options{})
	res := d.Launch("alice", "alice", "bob")
	alice, bob := res.VatIDs["alice"], res.VatIDs["bob"]
	d.Vat("alice").OnMethod["incr"] = func(c *kt.Call) error {
		c.Syscall(kernel.Syscall{Kind: kernel.SyscallVatstoreSet, Key: "count", Value: "1"})
		c.Fulfill(c.Result(), kt.Str("count 1"))
		return nil
	}
	d.Vat("bob").OnMethod["incr"] = func(c *kt.Call) error {
		c.Syscall(kernel.Syscall{Kind: kernel.SyscallVatstoreSet, Key: "count", Value: "1"})
		c.Send(kernel.RootVRef, "note") // a legal send...
		c.Subscribe("p-99")             // ...then an illegal syscall
		return nil
	}
	p1 := d.Send(res.Roots["alice"], "incr")
	p2 := d.Send(res.Roots["bob"], "incr")
	headBefore := d.Store.QueueItems()[1]
	promisesBefore := d.Store.PromiseCount()

	r1 := d.Crank()
	require.Equal(t, kernel.Committed, r1.Outcome)
	require.True(t, r1.Dequeued, "a committed send took its item")
	require.Equal(t, kt.Str("count 1"), d.ResultValue(p1))

	r2 := d.Crank()
	require.Equal(t, kernel.Aborted, r2.Outcome)
	require.False(t, r2.Dequeued, "the aborted crank left its item for the retry")
	require.ErrorIs(t, r2.Failure, kernel.ErrIllegalSyscall)
	require.Equal(t, []kernel.VatID{bob}, r2.Terminated)
	// The host hears at once, before any retry.
	err := d.ResultErr(p2)
	require.ErrorIs(t, err, kernel.ErrIllegalSyscall)
	require.True(t, d.Results[p2].Aborted)

	// Crank 1 committed; crank 2 left nothing.
	v, ok := d.Store.VatstoreGet(string(alice), "count")
	require.True(t, ok)
	require.Equal(t, "1", v)
	_, ok = d.Store.VatstoreGet(string(bob), "count")
	require.False(t, ok)
	require.Equal(t, 1, d.Store.QueueLen())
	head, _ := d.Store.QueueHead()
	require.Equal(t, headBefore, head, "item 2 is back at the head")
	require.Equal(t, promisesBefore-1, d.Store.PromiseCount(), "only p1 is gone; the note's result never existed")

	// Every in-memory view equals a fresh read from the database (the
	// driver's audit already ran Verify; check it against a reopen too).
	want := kernel.DescribeState(d.Store)
	require.NoError(t, d.Store.Close(context.Background()))
	st2, err := sqlitestore.Open(context.Background(), path, persistence.Options{})
	require.NoError(t, err)
	require.Equal(t, want, kernel.DescribeState(st2))
	d2 := kt.NewWithStore(t, st2)
	d2.Vats = d.Vats
	d2.AuditNow("reopen")

	// The retry splats against the terminated vat and settles the promise.
	r3 := d2.Crank()
	require.Equal(t, "splat: target object has no owner", r3.Routed)
	require.True(t, r3.Dequeued, "a splat takes its item too")
	_, ok = st2.Promise(string(p2))
	require.False(t, ok, "the settled promise is freed")
	require.NoError(t, st2.Close(context.Background()))
}

// Invariant 5: an illegal syscall followed by legal ones still aborts the
// crank, the later syscalls are refused, and none of their effects remain.
func TestIllegalSyscallIsSticky(t *testing.T) {
	d := kt.New(t)
	res := d.Launch("alice", "alice", "bob")
	var after []kernel.SyscallResult
	d.Vat("bob").OnMethod["go"] = func(c *kt.Call) error {
		c.Syscall(kernel.Syscall{Kind: kernel.SyscallVatstoreSet, Key: "before", Value: "x"})
		c.Fulfill("p-42", kt.Str("not mine")) // illegal: unknown promise
		after = append(after,
			c.Syscall(kernel.Syscall{Kind: kernel.SyscallVatstoreSet, Key: "after", Value: "y"}),
			c.Syscall(kernel.Syscall{Kind: kernel.SyscallSend, Target: kernel.RootVRef,
				Message: kernel.VatMessage{Methargs: kt.Methargs("x"), Result: "p+7"}}),
			c.Fulfill(c.Result(), kt.Str("done")),
		)
		return nil
	}
	objects, promises := d.Store.ObjectCount(), d.Store.PromiseCount()
	p := d.Send(res.Roots["bob"], "go")
	r := d.Crank()
	require.Equal(t, kernel.Aborted, r.Outcome)
	require.ErrorIs(t, r.Failure, kernel.ErrIllegalSyscall)
	for _, a := range after {
		require.Error(t, a.Err, "a syscall after an illegal one is refused")
	}
	bob := string(res.VatIDs["bob"])
	require.Empty(t, d.Store.VatstoreKeys(bob))
	require.Equal(t, 1, d.Store.QueueLen(), "only the restored item")
	require.Equal(t, objects, d.Store.ObjectCount())
	require.Equal(t, promises+1, d.Store.PromiseCount(), "only the host's result promise")
	require.ErrorIs(t, d.ResultErr(p), kernel.ErrIllegalSyscall)
}

// Each kind of vat failure aborts the crank and terminates the vat; the
// kernel goes on serving other vats.
func TestVatFailuresTerminate(t *testing.T) {
	tests := []struct {
		name    string
		handler kt.Handler
		want    error
	}{
		{"panic", func(c *kt.Call) error { panic("boom at o+3") }, kernel.ErrInternalError},
		{"fault", func(c *kt.Call) error { return kt.ErrScripted }, kernel.ErrInternalError},
		{"exit failure", func(c *kt.Call) error { c.Exit(true); return nil }, kernel.ErrInternalError},
		{"illegal", func(c *kt.Call) error { c.GC(kernel.SyscallRetireImports, "o-5"); return nil }, kernel.ErrIllegalSyscall},
		{"double resolve", func(c *kt.Call) error {
			c.Fulfill(c.Result(), kt.Str("a"))
			c.Fulfill(c.Result(), kt.Str("b"))
			return nil
		}, kernel.ErrIllegalSyscall},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := kt.New(t)
			res := d.Launch("alice", "alice", "bob")
			d.Vat("bob").OnMethod["go"] = tt.handler
			p := d.Send(res.Roots["bob"], "go")
			ok := d.Send(res.Roots["alice"], "still there?")
			r := d.Crank()
			require.Equal(t, kernel.Aborted, r.Outcome)
			require.ErrorIs(t, r.Failure, tt.want)
			require.False(t, leak.MatchString(r.Failure.Error()), r.Failure.Error())
			require.ErrorIs(t, d.ResultErr(p), tt.want)
			d.RunUntilQuiescent(0)
			require.NoError(t, d.ResultErr(ok), "alice still serves")
			info, err := d.K.Vat(res.VatIDs["bob"])
			require.NoError(t, err)
			require.False(t, info.Active)
		})
	}
}

// A clean exit commits the delivery and terminates the vat in the same
// unit.
func TestCleanExitCommitsThenTerminates(t *testing.T) {
	d := kt.New(t)
	res := d.Launch("alice", "alice", "bob")
	d.Vat("bob").OnMethod["quit"] = func(c *kt.Call) error {
		c.Fulfill(c.Result(), kt.Str("bye"))
		c.Exit(false)
		return nil
	}
	p := d.Send(res.Roots["bob"], "quit")
	r := d.Crank()
	require.Equal(t, kernel.Committed, r.Outcome)
	require.Equal(t, []kernel.VatID{res.VatIDs["bob"]}, r.Terminated)
	require.Equal(t, kt.Str("bye"), d.ResultValue(p))
	// Its root is gone: nothing held it but the vat's pin.
	_, _, err := d.K.QueueMessage(d.Ctx, res.Roots["bob"], kt.Methargs("again"))
	require.ErrorIs(t, err, kernel.ErrObjectDeleted)
	require.False(t, leak.MatchString(err.Error()), err.Error())
}

// Invariant 12 in small: a crash between a crank's start and its commit
// loses nothing committed and keeps the item.
func TestCrashMidCrankKeepsItem(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "k.db")
	d := kt.NewWithOptions(t, path, persistence.Options{})
	res := d.Launch("alice", "alice", "bob")
	p1 := d.Send(res.Roots["alice"], "one")
	d.Send(res.Roots["bob"], "two")
	d.Crank()
	require.NoError(t, d.ResultErr(p1))
	d.Vat("bob").OnMethod["two"] = func(c *kt.Call) error {
		c.Syscall(kernel.Syscall{Kind: kernel.SyscallVatstoreSet, Key: "k", Value: "v"})
		d.Store.Crash() // the process dies mid-delivery
		return nil
	}
	_, err := d.K.Crank(ctx, d)
	require.ErrorIs(t, err, persistence.ErrClosed)

	st, err := sqlitestore.Open(ctx, path, persistence.Options{})
	require.NoError(t, err)
	defer st.Close(ctx)
	d2 := kt.NewWithStore(t, st)
	d2.AuditNow("reopen after crash")
	require.Equal(t, 1, st.QueueLen())
	head, _ := st.QueueHead()
	require.Equal(t, string(res.Roots["bob"]), head.Target)
	_, ok := st.VatstoreGet(string(res.VatIDs["bob"]), "k")
	require.False(t, ok)
	_, ok = st.Promise(string(p1))
	require.False(t, ok, "crank 1 is committed: its result was settled and freed")
	require.Equal(t, uint64(1), d2.K.CrankCount())
}

// A failed flush (the disk refusing the commit) stops the kernel cleanly:
// memory is ahead of the file, so every later request fails until reopen,
// and nothing is released.
func TestFailedFlushStopsKernel(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.db")
	fault := &faultSwitch{}
	d := kt.NewWithOptions(t, path, persistence.Options{Faults: fault})
	res := d.Launch("alice", "alice")
	p := d.Send(res.Roots["alice"], "x")
	fault.on = true
	_, err := d.K.Crank(d.Ctx, d)
	require.ErrorIs(t, err, persistence.ErrFailed)
	_, done := d.Result(p)
	require.False(t, done)
	_, err = d.K.Crank(d.Ctx, d)
	require.ErrorIs(t, err, persistence.ErrFailed)
	_, _, err = d.K.QueueMessage(d.Ctx, res.Roots["alice"], kt.Methargs("y"))
	require.ErrorIs(t, err, persistence.ErrFailed)
}

type faultSwitch struct{ on bool }

func (f *faultSwitch) Fault(p persistence.FaultPoint) error {
	if f.on && p == persistence.FaultBeforeCommit {
		return errInjected
	}
	return nil
}
