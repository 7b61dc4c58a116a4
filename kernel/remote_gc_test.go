package kernel_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/kernel"
	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/remote/wire"
)

// gcCrossing sets up the crossings below: B's bank, its root introduced
// to A as a presence, and a method "later" whose result the bank keeps
// unanswered until "answer", which settles it with the root itself (a
// new export of the root to A, in a notify).
func gcCrossing(t *testing.T) (*kt.Link, kernel.KRef, kernel.KRef) {
	t.Helper()
	a, b := kt.New(t), kt.New(t)
	l := kt.Connect(a, b)
	bankVat, root := bank(b)
	var later kernel.VRef
	bankVat.OnMethod["later"] = func(c *kt.Call) error { later = c.Result(); return nil }
	bankVat.OnMethod["answer"] = func(c *kt.Call) error {
		c.Fulfill(later, kt.Ref(string(kernel.RootVRef)))
		c.Fulfill(c.Result(), kt.Undefined)
		return nil
	}
	presence := l.Introduce(root)
	return l, presence, root
}

// kindsInOutbox lists the kinds of the messages in d's outbox for r that
// it may send now, in order.
func kindsInOutbox(t *testing.T, d *kt.Driver, r kernel.RemoteID) []wire.Kind {
	t.Helper()
	from, to, err := d.K.RemoteSendable(r)
	require.NoError(t, err)
	var kinds []wire.Kind
	for seq := from; seq <= to; seq++ {
		enc, ok := d.K.RemoteMessage(r, seq)
		require.True(t, ok)
		m, err := wire.Decode(enc)
		require.NoError(t, err)
		kinds = append(kinds, m.Kind)
	}
	return kinds
}

// only delivers the message numbered seq and drops the others (a Pump
// fault), so a test can move one message at a time.
func only(seq uint64) func(uint64) kt.Fault {
	return func(s uint64) kt.Fault {
		if s == seq {
			return kt.Deliver
		}
		return kt.Drop
	}
}

// A's drop and retire of B's root cross, on the link, B handing the root
// to A again (the answer to a question A asked before it let go). B
// applies the drop and the retire after it wrote the answer, which A had
// not seen when it wrote them: B ignores both (the root's ref was sent in
// a message later than the drop's known), so its entry stays, and when
// the answer reaches A (whose entry is gone) it is a presence again,
// through which a deposit reaches the bank. Taken at their word, the drop
// and retire deleted B's entry, and A's deposit named a ref B no longer
// had: refused as a forgery, which broke the link.
func TestRemoteDropCrossesReExport(t *testing.T) {
	l, presence, root := gcCrossing(t)
	a, b := l.A, l.B
	kpLater := a.Send(presence, "later")
	a.RunUntilQuiescent(0)
	require.Equal(t, 1, l.AB().Pump(nil, true))
	b.RunUntilQuiescent(0)

	// B's host makes the bank answer: the root goes to A in a notify,
	// which waits in B's outbox while A lets go of its presence.
	b.Send(rootOf(t, b, "bank"), "answer")
	b.RunUntilQuiescent(0)
	require.Equal(t, []wire.Kind{wire.KindNotify}, kindsInOutbox(t, b, l.BtoA))
	unpin(t, a, presence)
	require.Equal(t, []wire.Kind{wire.KindDropExports, wire.KindRetireExports}, kindsInOutbox(t, a, l.AtoB))

	// The drop and the retire reach B first, then the answer reaches A.
	require.Equal(t, 2, l.AB().Pump(nil, true))
	_, held := b.Store.CList(string(l.BtoA), string(root))
	require.True(t, held, "B kept A's entry for the root: A had not seen the root's new export")
	l.Settle(0)
	again := answeredPresence(t, l, kpLater)
	kp := a.Call(again, "deposit", int64(4))
	l.Settle(0)
	require.Equal(t, int64(4), a.Value(kp), "the deposit through the new presence reached the bank")
	requireGCCompletes(t, l, again, root)
}

// The other order: B applies A's drop first (the root is not reachable
// from A any more, in B), then hands the root to A again (reachable
// again), and only then applies A's retire, which A wrote before it saw
// the new export. B ignores the retire. Taken at its word, it was refused
// as a protocol error ("the peer still reaches it"), which broke the link.
func TestRemoteRetireCrossesReExport(t *testing.T) {
	l, presence, root := gcCrossing(t)
	a, b := l.A, l.B
	kpLater := a.Send(presence, "later")
	a.RunUntilQuiescent(0)
	require.Equal(t, 1, l.AB().Pump(nil, true))
	b.RunUntilQuiescent(0)

	unpin(t, a, presence)
	require.Equal(t, []wire.Kind{wire.KindDropExports, wire.KindRetireExports}, kindsInOutbox(t, a, l.AtoB))
	from, _, err := a.K.RemoteSendable(l.AtoB)
	require.NoError(t, err)
	require.Equal(t, 1, l.AB().Pump(only(from), false), "the drop alone")
	e, _ := b.Store.CList(string(l.BtoA), string(root))
	require.False(t, e.Reachable, "the drop was applied: A had seen every message of B's")

	b.Send(rootOf(t, b, "bank"), "answer")
	b.RunUntilQuiescent(0)
	require.Equal(t, []wire.Kind{wire.KindNotify}, kindsInOutbox(t, b, l.BtoA))
	e, _ = b.Store.CList(string(l.BtoA), string(root))
	require.True(t, e.Reachable, "handed again: reachable again")

	require.Equal(t, 1, l.AB().Pump(nil, true), "the retire, written before A saw the answer")
	e, held := b.Store.CList(string(l.BtoA), string(root))
	require.True(t, held && e.Reachable, "ignored: the entry stays, reachable")
	l.Settle(0)
	again := answeredPresence(t, l, kpLater)
	kp := a.Call(again, "deposit", int64(6))
	l.Settle(0)
	require.Equal(t, int64(6), a.Value(kp))
	requireGCCompletes(t, l, again, root)
}

// unpin lets go of d's host pin on kref and runs d until it is idle (its
// GC writes what the release frees).
func unpin(t *testing.T, d *kt.Driver, kref kernel.KRef) {
	t.Helper()
	out, err := d.K.Unpin(d.Ctx, kref)
	require.NoError(t, err)
	d.Release(out)
	d.AuditNow("unpin")
	d.RunUntilQuiescent(0)
}

// answeredPresence is the presence kp (A's "later") was fulfilled with,
// a presence of B's root, which the value pinned for A's host.
func answeredPresence(t *testing.T, l *kt.Link, kp kernel.KRef) kernel.KRef {
	t.Helper()
	kref, _, ok := marshal.SingleRef(l.A.ResultValue(kp))
	require.True(t, ok, "later was answered with an object")
	o, ok := l.A.Store.Object(kref)
	require.True(t, ok)
	require.Equal(t, string(l.AtoB), o.Owner, "a presence of B's object")
	return kernel.KRef(kref)
}

// requireGCCompletes lets A drop presence for good, now that it has seen
// every export of it: the drop and retire are applied in B, whose entry
// for A goes, and nothing is left remembered of the sends.
func requireGCCompletes(t *testing.T, l *kt.Link, presence, root kernel.KRef) {
	t.Helper()
	unpin(t, l.A, presence)
	l.Settle(0)
	_, held := l.B.Store.CList(string(l.BtoA), string(root))
	require.False(t, held, "A's drop and retire, which knew of the export, were applied")
	_, ok := l.A.Store.Object(string(presence))
	require.False(t, ok, "the presence is gone from A")
}

// exportAgain is B's host handing A the root again, outside any message
// (ExportToRemote), onto the entry A had: the export is recorded against
// B's next message, which A cannot have applied when it wrote a GC
// message that crossed it. It returns the ref for A's host.
func exportAgain(t *testing.T, l *kt.Link, root kernel.KRef) string {
	t.Helper()
	b := l.B
	_, held := b.Store.CList(string(l.BtoA), string(root))
	require.True(t, held, "A's entry is still there")
	ref, out, err := b.K.ExportToRemote(b.Ctx, l.BtoA, root)
	require.NoError(t, err)
	b.Release(out)
	b.AuditNow("export again")
	info, err := b.K.Remote(l.BtoA)
	require.NoError(t, err)
	seq, ok := b.Store.SentRef(string(l.BtoA), wire.FlipString(ref))
	require.True(t, ok, "the host's export is recorded")
	require.Equal(t, info.NextSend, seq, "against the next message")
	return ref
}

// importAgain is A's host taking up the ref B's host handed it: a new
// presence, since A retired the old one.
func importAgain(t *testing.T, l *kt.Link, ref string, old kernel.KRef) kernel.KRef {
	t.Helper()
	a := l.A
	presence, out, err := a.K.ImportFromRemote(a.Ctx, l.AtoB, ref)
	require.NoError(t, err)
	a.Release(out)
	a.AuditNow("import again")
	require.NotEqual(t, old, presence, "a new presence: A had retired the old one")
	return presence
}

// A's drop and retire of B's root cross, on the link, B's host handing
// A the root again (ExportToRemote, outside any message): A wrote them
// before its host took up the ref. B ignores both, since A had not seen
// a message of B's written after the export, so its entry stays, and the
// deposit A makes through the presence its host imports reaches the
// bank. Taken at their word, the drop and the retire deleted B's entry,
// and the deposit named a ref B no longer had: refused as a forgery,
// which broke the link.
func TestRemoteDropCrossesHostExport(t *testing.T) {
	a, b := kt.New(t), kt.New(t)
	l := kt.Connect(a, b)
	_, root := bank(b)
	presence := l.Introduce(root)

	unpin(t, a, presence)
	require.Equal(t, []wire.Kind{wire.KindDropExports, wire.KindRetireExports}, kindsInOutbox(t, a, l.AtoB))
	ref := exportAgain(t, l, root)
	require.Equal(t, 2, l.AB().Pump(nil, true), "the drop and the retire reach B after the export")
	e, held := b.Store.CList(string(l.BtoA), string(root))
	require.True(t, held && e.Reachable, "B kept A's entry, reachable: A had not seen the export")

	again := importAgain(t, l, ref, presence)
	kp := a.Call(again, "deposit", int64(4))
	l.Settle(0)
	require.Equal(t, int64(4), a.Value(kp), "the deposit through the imported presence reached the bank")
	// B's answer was the message after the export; A's next drop knows it.
	requireGCCompletes(t, l, again, root)
	require.Empty(t, b.Store.SentRefs(string(l.BtoA)), "nothing is left remembered")
}

// The other order: B applies A's drop first, then B's host exports the
// root again (reachable again), and only then does A's retire arrive,
// which A wrote before its host took up the ref. B ignores it. Taken at
// its word, it was refused as a protocol error ("the peer still reaches
// it"), which broke the link.
func TestRemoteRetireCrossesHostExport(t *testing.T) {
	a, b := kt.New(t), kt.New(t)
	l := kt.Connect(a, b)
	_, root := bank(b)
	presence := l.Introduce(root)

	unpin(t, a, presence)
	from, _, err := a.K.RemoteSendable(l.AtoB)
	require.NoError(t, err)
	require.Equal(t, 1, l.AB().Pump(only(from), false), "the drop alone")
	e, _ := b.Store.CList(string(l.BtoA), string(root))
	require.False(t, e.Reachable, "the drop was applied: nothing had been exported since")

	ref := exportAgain(t, l, root)
	e, _ = b.Store.CList(string(l.BtoA), string(root))
	require.True(t, e.Reachable, "handed again: reachable again")
	require.Equal(t, 1, l.AB().Pump(nil, true), "the retire, written before A's host took up the ref")
	e, held := b.Store.CList(string(l.BtoA), string(root))
	require.True(t, held && e.Reachable, "ignored: the entry stays, reachable")

	again := importAgain(t, l, ref, presence)
	kp := a.Call(again, "deposit", int64(6))
	l.Settle(0)
	require.Equal(t, int64(6), a.Value(kp))
	requireGCCompletes(t, l, again, root)
	require.Empty(t, b.Store.SentRefs(string(l.BtoA)))
}

// A host's export onto a new entry is not recorded: its ref is fresh, so
// no GC message can have crossed it, and the peer's first drop, written
// before any message of ours, is applied. An export of the peer's own
// object back to it is not an export of ours, and is not recorded.
func TestRemoteHostExportOfNewEntryNotRecorded(t *testing.T) {
	a, b := kt.New(t), kt.New(t)
	l := kt.Connect(a, b)
	_, root := bank(b)
	presence := l.Introduce(root)
	require.Empty(t, b.Store.SentRefs(string(l.BtoA)), "a fresh ref: nothing to cross")
	// Nor is an export of the peer's own object back to it.
	_, out, err := a.K.ExportToRemote(a.Ctx, l.AtoB, presence)
	require.NoError(t, err)
	a.Release(out)
	a.AuditNow("export the peer's own")
	require.Empty(t, a.Store.SentRefs(string(l.AtoB)))
	unpin(t, a, presence)
	l.Settle(0)
	_, held := b.Store.CList(string(l.BtoA), string(root))
	require.False(t, held, "A's drop and retire were applied")
}
