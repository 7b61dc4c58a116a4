package kernel_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/kernel"
	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/remote/wire"
)

// goneSetup brings two kernels to the eve of a send crossing its
// object's retireImports. B's bank root is a presence in A, where a vat
// ("holder") recognizes it without reaching it, and B's vault root a
// second presence. B's host hands A the root again outside any message
// (ExportToRemote), the bank is terminated (its root an orphan that only
// A reaches, and the rejection of A's pending "later" the message after
// the export), and A applies that message. Then A lets go of its
// presence: its dropExports knows of B's message after the export, so
// B will take it at its word (a host export cannot be ordered with
// messages, remote_sent.go), but A's host takes up the ref (the same
// presence, reachable again) and A writes a deposit to the root and a
// "take" to the vault that carries the root, before it hears anything
// more. A's outbox is then the drop, the deposit and the take.
//
// When B applies the drop, nothing here reaches the orphaned root, so B
// retires it and writes A a retireImports, deleting A's entry: the
// deposit and the take name an object B retired, in messages A wrote
// before it applied the retire.
type goneSetup struct {
	l                   *kt.Link
	presence, vault     kernel.KRef // in A
	root                kernel.KRef // in B
	kpDeposit, kpTake   kernel.KRef // A's host results
	taken               *kernel.VRef
	ref                 string // A's entry in B, in B's frame
	drop, deposit, take uint64 // A's outbox seqs
}

func newGoneSetup(t *testing.T) *goneSetup {
	t.Helper()
	a, b := kt.New(t), kt.New(t)
	l := kt.Connect(a, b)
	bankVat, root := bank(b)
	bankVat.OnMethod["later"] = func(c *kt.Call) error { return nil } // answered by termination
	vaultVat, vaultRoot, _ := namedBank(b, "vault")
	taken := new(kernel.VRef)
	vaultVat.OnMethod["take"] = func(c *kt.Call) error {
		*taken = c.Slot(0)
		c.Fulfill(c.Result(), kt.Undefined)
		return nil
	}
	presence := l.Introduce(root)
	vault := l.Introduce(vaultRoot)
	ref := mustCListRef(t, b, l.BtoA, root)

	holder := a.Launch("holder", "holder").Roots["holder"]
	a.Vat("holder").OnMethod["keep"] = func(c *kt.Call) error {
		// Recognize, not reach: a weak key, say.
		c.GC(kernel.SyscallDropImports, c.Slot(0))
		c.Fulfill(c.Result(), kt.Undefined)
		return nil
	}
	a.Send(holder, "keep", presence)
	kpLater := a.Send(presence, "later")
	l.Settle(0)

	hostRef, out, err := b.K.ExportToRemote(b.Ctx, l.BtoA, root)
	require.NoError(t, err)
	b.Release(out)
	b.AuditNow("export again")
	b.Terminate(bankVat.ID)
	b.RunUntilQuiescent(0)
	require.Equal(t, []wire.Kind{wire.KindNotify}, kindsInOutbox(t, b, l.BtoA), "the rejection of later, after the export")
	o, ok := b.Store.Object(string(root))
	require.True(t, ok && o.Owner == "", "the root is an orphan, which A still reaches")
	require.Equal(t, 1, l.BA().Pump(nil, true))
	a.RunUntilQuiescent(0)
	require.True(t, kernel.Carries(a.ResultErr(kpLater), kernel.ErrVatTerminated))

	unpin(t, a, presence)
	require.Equal(t, []wire.Kind{wire.KindDropExports}, kindsInOutbox(t, a, l.AtoB), "a drop only: the holder still recognizes it")
	again, out, err := a.K.ImportFromRemote(a.Ctx, l.AtoB, hostRef)
	require.NoError(t, err)
	a.Release(out)
	a.AuditNow("import again")
	require.Equal(t, presence, again, "the same presence, reachable again")
	s := &goneSetup{l: l, presence: presence, vault: vault, root: root, taken: taken, ref: ref}
	s.kpDeposit = a.Call(presence, "deposit", int64(3))
	s.kpTake = a.Send(vault, "take", presence)
	a.RunUntilQuiescent(0)
	require.Equal(t, []wire.Kind{wire.KindDropExports, wire.KindDeliver, wire.KindDeliver}, kindsInOutbox(t, a, l.AtoB))
	s.drop, _, _ = a.K.RemoteSendable(l.AtoB)
	s.deposit, s.take = s.drop+1, s.drop+2
	return s
}

// mustCListRef reads the ref of kref in d's c-list for r.
func mustCListRef(t *testing.T, d *kt.Driver, r kernel.RemoteID, kref kernel.KRef) string {
	t.Helper()
	e, ok := d.Store.CList(string(r), string(kref))
	require.True(t, ok, "%s holds %s", r, kref)
	return e.VRef
}

// finish settles the link and checks the fate both orders share: the
// deposit is rejected with OBJECT_DELETED, as a send to any deleted
// object is; the vault got a reference to an orphan standing in for the
// root, which B's host finds dead the same way; A retired its presence
// when the retireImports reached it; and once A writes a message that
// knows of the retire, B forgets the gone ref.
func (s *goneSetup) finish(t *testing.T) {
	t.Helper()
	l := s.l
	a, b := l.A, l.B
	l.Settle(0)
	require.True(t, kernel.Carries(a.ResultErr(s.kpDeposit), kernel.ErrObjectDeleted), "the deposit: %v", a.ResultErr(s.kpDeposit))
	require.NoError(t, a.ResultErr(s.kpTake), "the take was delivered")
	_, ok := a.Store.Object(string(s.presence))
	require.False(t, ok, "A retired its presence")
	_, ok = b.Store.Object(string(s.root))
	require.False(t, ok, "the root is gone")

	gone, ok := b.Store.GoneRef(string(l.BtoA), s.ref)
	require.True(t, ok, "B keeps the gone ref until A writes again")
	require.NotEmpty(t, gone.KRef)
	vault := b.Vat("vault")
	standIn, ok := b.Store.KRefOf(string(vault.ID), string(*s.taken))
	require.True(t, ok)
	require.Equal(t, gone.KRef, standIn, "the vault holds the stand-in")
	o, ok := b.Store.Object(standIn)
	require.True(t, ok && o.Owner == "", "an orphan")
	kp := b.Send(kernel.KRef(standIn), "deposit")
	b.RunUntilQuiescent(0)
	require.True(t, kernel.Carries(b.ResultErr(kp), kernel.ErrObjectDeleted), "a send through it splats too")

	kp = a.Call(s.vault, "deposit", int64(1))
	l.Settle(0)
	require.Equal(t, int64(1), a.Value(kp))
	require.Empty(t, b.Store.GoneRefs(string(l.BtoA)), "A's deposit knew of the retire: forgotten")
	_, ok = b.Store.Object(standIn)
	require.True(t, ok, "the vault still holds the orphan")
}

// The crossing: B writes the retireImports (and deletes A's entry)
// before the deposit and the take arrive. B finds their ref gone, not
// forged, and gives them the stand-in. Without the gone ref, the deposit
// was refused as a forgery, which broke the link.
func TestRemoteSendCrossesRetireImports(t *testing.T) {
	s := newGoneSetup(t)
	l := s.l
	b := l.B
	require.Equal(t, 1, l.AB().Pump(only(s.drop), true), "the drop alone")
	b.RunUntilQuiescent(0)
	require.Equal(t, []wire.Kind{wire.KindRetireImports}, kindsInOutbox(t, b, l.BtoA))
	_, held := b.Store.CList(string(l.BtoA), string(s.root))
	require.False(t, held, "A's entry went with the retire")
	gone, ok := b.Store.GoneRef(string(l.BtoA), s.ref)
	require.True(t, ok)
	from, _, _ := b.K.RemoteSendable(l.BtoA)
	require.Equal(t, from, gone.Seq, "kept with the retire's seq")
	require.Empty(t, gone.KRef, "no stand-in until a message names it")

	require.Equal(t, 2, l.AB().Pump(nil, true), "the deposit and the take, written before A applied the retire")
	gone, _ = b.Store.GoneRef(string(l.BtoA), s.ref)
	require.NotEmpty(t, gone.KRef, "one stand-in for both")
	s.finish(t)
}

// The other order: the deposit and the take arrive after the drop but
// before B's crank writes the retireImports. A's entry is still there,
// naming the deleted root (its retireImport pending), and unreachable
// since the drop: the same crossing a moment earlier, with the same
// effect. Without it, the deposit was refused as the use of a dropped
// import, which broke the link.
func TestRemoteSendBeforeRetireImportsWritten(t *testing.T) {
	s := newGoneSetup(t)
	l := s.l
	b := l.B
	require.Equal(t, 3, l.AB().Pump(nil, true), "the drop, the deposit and the take, before B runs")
	e, held := b.Store.CList(string(l.BtoA), string(s.root))
	require.True(t, held && !e.Reachable, "A's entry waits for its retireImport, unreachable")
	gone, ok := b.Store.GoneRef(string(l.BtoA), s.ref)
	require.True(t, ok, "a provisional gone ref")
	require.NotEmpty(t, gone.KRef)

	b.RunUntilQuiescent(0)
	from, _, _ := b.K.RemoteSendable(l.BtoA)
	retire, ok := b.Store.GoneRef(string(l.BtoA), s.ref)
	require.True(t, ok)
	require.Equal(t, gone.KRef, retire.KRef, "the retire keeps the stand-in")
	enc, _ := b.K.RemoteMessage(l.BtoA, retire.Seq)
	m, err := wire.Decode(enc)
	require.NoError(t, err)
	require.Equal(t, wire.KindRetireImports, m.Kind, "the seq is the retire's now")
	require.GreaterOrEqual(t, retire.Seq, from)
	s.finish(t)
}

// Only a ref the peer may still innocently name passes: with the gone
// ref kept, a message naming a ref B never gave out, and one using the
// gone ref as a result, are each refused as A's protocol error, changing
// nothing; the real messages then go through as before. (The gone ref
// named by a message written after A applied the retire is a lapsed ref,
// which gets a stand-in of its own: remote_lapsed_test.go.)
func TestRemoteGoneRefStillRefusesForgeries(t *testing.T) {
	s := newGoneSetup(t)
	l := s.l
	b := l.B
	require.Equal(t, 1, l.AB().Pump(only(s.drop), true))
	b.RunUntilQuiescent(0)
	gone, ok := b.Store.GoneRef(string(l.BtoA), s.ref)
	require.True(t, ok)
	deposit := func(target string, known uint64) wire.Message {
		return wire.Message{Kind: wire.KindDeliver, Target: target, Known: known,
			Methargs: &wire.Data{Body: `#["deposit",[]]`}}
	}
	vaultRef := mustCListRef(t, b, l.BtoA, rootOf(t, b, "vault"))
	forged := "names nothing this kernel gave the peer"
	cases := map[string]struct {
		m    wire.Message
		want string
	}{
		"a ref never given out": {deposit("ro-99", 0), forged},
		"a ref never given out, knowing of the retire": {wire.Message{Kind: wire.KindDeliver, Target: vaultRef, Known: gone.Seq,
			Methargs: &wire.Data{Body: `#["take",["$0.Alleged: x"]]`, Slots: []string{"ro-99"}}}, forged},
		"the gone ref as a result": {wire.Message{Kind: wire.KindDeliver, Target: vaultRef, Result: s.ref,
			Methargs: &wire.Data{Body: `#["deposit",[]]`}}, "is not a promise"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) { requireProtocolRefusal(t, b, l.BtoA, c.m, c.want) })
	}
	_, ok = b.Store.GoneRef(string(l.BtoA), s.ref)
	require.True(t, ok, "the refusals forgot nothing")
	require.Equal(t, 2, l.AB().Pump(nil, true), "A's real messages, written before it knew")
	s.finish(t)
}

// Giving up on the peer forgets its gone refs and releases their
// stand-ins.
func TestRemoteGiveUpForgetsGoneRefs(t *testing.T) {
	s := newGoneSetup(t)
	l := s.l
	b := l.B
	require.Equal(t, 3, l.AB().Pump(nil, true))
	b.RunUntilQuiescent(0)
	gone, ok := b.Store.GoneRef(string(l.BtoA), s.ref)
	require.True(t, ok)
	out, err := b.K.GiveUpRemote(b.Ctx, l.BtoA)
	require.NoError(t, err)
	b.Release(out)
	b.AuditNow("give up")
	b.RunUntilQuiescent(0)
	require.Empty(t, b.Store.GoneRefs(string(l.BtoA)))
	// The vault still holds the stand-in, so it stays, an orphan.
	o, ok := b.Store.Object(gone.KRef)
	require.True(t, ok && o.Owner == "")
	require.Equal(t, int64(1), o.Reachable, "the vault's import alone")
}

// The auditor checks every gone ref: a ref B did not allocate, a seq no
// message has, a row beside a live c-list entry, a seq that is not the
// retire's, and a stand-in the row does not count are each reported.
func TestAuditChecksGoneRefs(t *testing.T) {
	s := newGoneSetup(t)
	l := s.l
	b := l.B
	require.Equal(t, 1, l.AB().Pump(only(s.drop), false), "the drop, not acked: the retire stays in B's outbox")
	b.RunUntilQuiescent(0)
	require.Equal(t, 2, l.AB().Pump(nil, false))
	b.RunUntilQuiescent(0)
	remote := string(l.BtoA)
	gone, ok := b.Store.GoneRef(remote, s.ref)
	require.True(t, ok)
	info, _ := b.K.Remote(l.BtoA)
	vaultRef := mustCListRef(t, b, l.BtoA, rootOf(t, b, "vault"))
	notRetire := gone.Seq + 1 // the rejection of the deposit
	require.Less(t, notRetire, info.NextSend)
	cases := []struct {
		name string
		ref  string
		row  persistence.GoneRow
		want string
	}{
		{"a ref of the peer's", "ro+5", persistence.GoneRow{Seq: gone.Seq}, "not a ref of an object this kernel allocated"},
		{"a seq never written", s.ref, persistence.GoneRow{KRef: gone.KRef, Seq: info.NextSend}, "was never written"},
		{"beside a live entry", vaultRef, persistence.GoneRow{Seq: gone.Seq}, "still in the c-list too"},
		{"not the retire's seq", s.ref, persistence.GoneRow{KRef: gone.KRef, Seq: notRetire}, "is not a retireImports of it"},
		{"an uncounted stand-in", s.ref, persistence.GoneRow{Seq: gone.Seq}, "references imply"},
	}
	write := func(ref string, r persistence.GoneRow, del bool) {
		t.Helper()
		require.NoError(t, b.Store.Begin())
		if del {
			b.Store.DeleteGoneRef(remote, ref)
		} else {
			b.Store.PutGoneRef(remote, ref, r)
		}
		_, err := b.Store.Commit(b.Ctx)
		require.NoError(t, err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			old, had := b.Store.GoneRef(remote, c.ref)
			write(c.ref, c.row, false)
			problems, err := kernel.Audit(b.Ctx, b.Store)
			require.NoError(t, err)
			require.NotEmpty(t, problems)
			require.Contains(t, strings.Join(problems, "\n"), c.want)
			write(c.ref, old, !had)
			b.AuditNow("restored")
		})
	}
}

// requireProtocolRefusal applies m as remote's next message to d's kernel
// and requires it refused as a protocol error naming want, with nothing
// changed in d's store and the auditor green.
func requireProtocolRefusal(t *testing.T, d *kt.Driver, remote kernel.RemoteID, m wire.Message, want string) {
	t.Helper()
	before := d.StoreView()
	info, _ := d.K.Remote(remote)
	_, _, err := d.K.ApplyRemote(d.Ctx, remote, info.Applied+1, m.Encode())
	require.ErrorIs(t, err, kernel.ErrRemoteProtocol)
	require.ErrorContains(t, err, want)
	require.Equal(t, before, d.StoreView(), "nothing changed")
	d.AuditNow(t.Name())
}
