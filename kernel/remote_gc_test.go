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
