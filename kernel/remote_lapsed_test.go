package kernel_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/kernel"
	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/remote/wire"
)

// lapsedSetup brings two kernels to the order a host's export cannot be
// ordered against: B's host hands A its bank root again
// (ExportToRemote, onto the entry A had), A applies B's next message (the
// answer to a deposit), then lets go of its presence, and B takes the
// drop and the retire at their word (A knew of the message after the
// export), deleting A's entry. A's host has not yet taken up the ref.
// B's vault, a second presence in A, keeps what it is handed.
type lapsedSetup struct {
	l            *kt.Link
	presence     kernel.KRef // A's first presence of the root, retired
	vault        kernel.KRef // in A
	root         kernel.KRef // in B
	hostRef      string      // the ref B's host handed A's (A's frame)
	ref          string      // the same, in B's frame
	deposits     *[]int64
	taken        *kernel.VRef
	nextObjectAt uint64 // B's next_object for A after the retire
}

func newLapsedSetup(t *testing.T) *lapsedSetup {
	t.Helper()
	a, b := kt.New(t), kt.New(t)
	l := kt.Connect(a, b)
	_, root, deposits := bankLog(b)
	vaultVat, vaultRoot, _ := namedBank(b, "vault")
	taken := new(kernel.VRef)
	vaultVat.OnMethod["take"] = func(c *kt.Call) error {
		*taken = c.Slot(0)
		c.Fulfill(c.Result(), kt.Undefined)
		return nil
	}
	presence := l.Introduce(root)
	vault := l.Introduce(vaultRoot)

	hostRef := exportAgain(t, l, root)
	kp := a.Call(presence, "deposit", int64(1))
	l.Settle(0)
	require.Equal(t, int64(1), a.Value(kp), "B's answer, its message after the export, reached A")

	unpin(t, a, presence)
	require.Equal(t, []wire.Kind{wire.KindDropExports, wire.KindRetireExports}, kindsInOutbox(t, a, l.AtoB))
	require.Equal(t, 2, l.AB().Pump(nil, true), "the drop and the retire, which knew of the export")
	_, held := b.Store.CList(string(l.BtoA), string(root))
	require.False(t, held, "taken at their word: A's entry went")
	require.Empty(t, b.Store.SentRefs(string(l.BtoA)))
	require.Empty(t, b.Store.GoneRefs(string(l.BtoA)), "B retired nothing: A did")
	_, ok := b.Store.Object(string(root))
	require.True(t, ok, "the bank's root lives on in B")
	row, _ := b.Store.Remote(string(l.BtoA))
	return &lapsedSetup{l: l, presence: presence, vault: vault, root: root, hostRef: hostRef,
		ref: wire.FlipString(hostRef), deposits: deposits, taken: taken, nextObjectAt: row.NextObject}
}

// standInOf is the orphan B's c-list for A maps the lapsed ref to.
func (s *lapsedSetup) standInOf(t *testing.T) kernel.KRef {
	t.Helper()
	b := s.l.B
	kref, ok := b.Store.KRefOf(string(s.l.BtoA), s.ref)
	require.True(t, ok, "B holds the lapsed ref again, for its stand-in")
	require.NotEqual(t, string(s.root), kref, "not the root: naming an old ref grants nothing")
	o, ok := b.Store.Object(kref)
	require.True(t, ok && o.Owner == "", "an orphan")
	return kernel.KRef(kref)
}

// The order a host's export leaves open: A's host takes up the ref only
// after A retired it and B took the retire at its word. A's kernel makes
// a new presence of it, and A's deposit through it, and a take that
// carries it, name a ref B once gave A and no longer holds. B gives both
// an orphan standing in, as a message naming a deleted object gets: the
// deposit is rejected with OBJECT_DELETED, the vault gets the orphan,
// through which every send splats, the bank is not reached, and the link
// holds (a new export of the root works). Without it, the deposit was
// refused as a forgery, which broke the link.
func TestRemoteImportAfterRetireGetsOrphan(t *testing.T) {
	s := newLapsedSetup(t)
	l := s.l
	a, b := l.A, l.B
	again := importAgain(t, l, s.hostRef, s.presence)
	kpDeposit := a.Call(again, "deposit", int64(4))
	kpTake := a.Send(s.vault, "take", again)
	l.Settle(0)
	require.True(t, kernel.Carries(a.ResultErr(kpDeposit), kernel.ErrObjectDeleted), "the deposit: %v", a.ResultErr(kpDeposit))
	require.NoError(t, a.ResultErr(kpTake), "the take was delivered")
	require.Equal(t, []int64{1}, *s.deposits, "the bank was not reached through the old ref")

	standIn := s.standInOf(t)
	vaultHolds, ok := b.Store.KRefOf(string(b.Vat("vault").ID), string(*s.taken))
	require.True(t, ok)
	require.Equal(t, string(standIn), vaultHolds, "one stand-in for the target and the argument")
	kp := b.Send(standIn, "deposit")
	b.RunUntilQuiescent(0)
	require.True(t, kernel.Carries(b.ResultErr(kp), kernel.ErrObjectDeleted), "a send through it splats in B too")

	// The link holds: a new export of the root is a fresh ref, and a
	// deposit through it reaches the bank.
	fresh := l.Introduce(s.root)
	require.NotEqual(t, again, fresh)
	kp = a.Call(fresh, "deposit", int64(5))
	l.Settle(0)
	require.Equal(t, int64(6), a.Value(kp))

	// A lets go of the lapsed presence: its entry in B goes as any
	// import's does, and the orphan stays only for the vault.
	unpin(t, a, again)
	l.Settle(0)
	_, held := b.Store.KRefOf(string(l.BtoA), s.ref)
	require.False(t, held, "A's drop and retire of the stand-in were applied")
	o, ok := b.Store.Object(string(standIn))
	require.True(t, ok && o.Owner == "")
	require.Equal(t, int64(1), o.Reachable, "the vault's import alone")
	require.Empty(t, b.Store.GoneRefs(string(l.BtoA)))
	require.Empty(t, b.Store.SentRefs(string(l.BtoA)))
}

// Naming a lapsed ref grants nothing, and the forgery check still holds
// for what B never allocated: a target at or past next_object, a promise
// ref B never allocated, the lapsed ref as a result, and a message that
// names the lapsed ref beside a forged slot are each refused, changing
// nothing (no stand-in is left behind by the refused one); a GC message
// naming the lapsed ref is skipped, as any ref the c-list does not hold.
func TestRemoteLapsedRefStillRefusesForgeries(t *testing.T) {
	s := newLapsedSetup(t)
	l := s.l
	b := l.B
	vaultRef := mustCListRef(t, b, l.BtoA, rootOf(t, b, "vault"))
	neverObject := wire.Ref{N: s.nextObjectAt}.String()
	row, _ := b.Store.Remote(string(l.BtoA))
	neverPromise := wire.Ref{Promise: true, N: row.NextPromise}.String()
	deposit := func(target string, slots ...string) wire.Message {
		args := make([]string, len(slots))
		for i := range slots {
			args[i] = fmt.Sprintf(`"$%d.Alleged: x"`, i)
		}
		body := `#["deposit",[` + strings.Join(args, ",") + `]]`
		return wire.Message{Kind: wire.KindDeliver, Target: target, Known: row.NextSend - 1,
			Methargs: &wire.Data{Body: body, Slots: slots}}
	}
	forged := "names nothing this kernel gave the peer"
	cases := map[string]struct {
		m    wire.Message
		want string
	}{
		"an object ref never allocated":             {deposit(neverObject), forged},
		"a promise ref never allocated":             {deposit(vaultRef, neverPromise), forged},
		"the lapsed ref beside a forgery":           {deposit(s.ref, neverObject), forged},
		"the lapsed ref as a slot beside a forgery": {deposit(vaultRef, s.ref, neverObject), forged},
		"the lapsed ref as a result": {wire.Message{Kind: wire.KindDeliver, Target: vaultRef, Result: s.ref,
			Methargs: &wire.Data{Body: `#["deposit",[]]`}}, "is not a promise"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) { requireProtocolRefusal(t, b, l.BtoA, c.m, c.want) })
	}
	_, held := b.Store.KRefOf(string(l.BtoA), s.ref)
	require.False(t, held, "the refusals left no stand-in")

	info, _ := b.K.Remote(l.BtoA)
	drop := wire.Message{Kind: wire.KindDropExports, Refs: []string{s.ref}, Known: row.NextSend - 1}
	res, out, err := b.K.ApplyRemote(b.Ctx, l.BtoA, info.Applied+1, drop.Encode())
	require.NoError(t, err)
	require.Equal(t, kernel.Applied, res)
	b.Release(out)
	b.AuditNow("a drop of the lapsed ref")
	_, held = b.Store.KRefOf(string(l.BtoA), s.ref)
	require.False(t, held, "a GC message does not bring a lapsed ref back")
}

// Giving up on the peer releases a lapsed ref's stand-in with the rest of
// what the peer held: no entry, no orphan, no row is left of it.
func TestRemoteGiveUpReleasesLapsedRefs(t *testing.T) {
	s := newLapsedSetup(t)
	l := s.l
	a, b := l.A, l.B
	again := importAgain(t, l, s.hostRef, s.presence)
	kp := a.Call(again, "deposit", int64(4))
	l.Settle(0)
	require.True(t, kernel.Carries(a.ResultErr(kp), kernel.ErrObjectDeleted))
	standIn := s.standInOf(t)

	out, err := b.K.GiveUpRemote(b.Ctx, l.BtoA)
	require.NoError(t, err)
	b.Release(out)
	b.AuditNow("give up")
	b.RunUntilQuiescent(0)
	require.Empty(t, b.Store.CListKRefs(string(l.BtoA)), "nothing of A's is held")
	_, ok := b.Store.Object(string(standIn))
	require.False(t, ok, "the stand-in went with A's entry: nothing else named it")
	require.Empty(t, b.Store.GoneRefs(string(l.BtoA)))
	require.Empty(t, b.Store.SentRefs(string(l.BtoA)))
}

// A gone ref (remote_gone.go) is forgotten once A writes a message that
// knows of its retireImports; a copy of the ref A's host takes up after
// that is a lapsed ref: A's kernel makes a new presence of it, and B a
// new stand-in under it, not the vault's. The deposit through it is
// rejected with OBJECT_DELETED, and the link holds. Refused as a forgery
// (a gone ref named by a message whose Known covers its retire), it
// broke the link.
func TestRemoteGoneRefTakenUpLateIsLapsed(t *testing.T) {
	s := newGoneSetup(t)
	l := s.l
	a, b := l.A, l.B
	require.Equal(t, 1, l.AB().Pump(only(s.drop), true))
	b.RunUntilQuiescent(0)
	s.finish(t) // the gone ref is forgotten, its stand-in with the vault
	vaultHolds, ok := b.Store.KRefOf(string(b.Vat("vault").ID), string(*s.taken))
	require.True(t, ok)

	late, out, err := a.K.ImportFromRemote(a.Ctx, l.AtoB, wire.FlipString(s.ref))
	require.NoError(t, err)
	a.Release(out)
	a.AuditNow("import late")
	require.NotEqual(t, s.presence, late, "A retired the old presence: a new one")
	kp := a.Call(late, "deposit", int64(2))
	l.Settle(0)
	require.True(t, kernel.Carries(a.ResultErr(kp), kernel.ErrObjectDeleted), "the deposit: %v", a.ResultErr(kp))
	standIn, ok := b.Store.KRefOf(string(l.BtoA), s.ref)
	require.True(t, ok, "B holds the ref again, for its stand-in")
	require.NotEqual(t, vaultHolds, standIn, "a stand-in of its own")
	o, ok := b.Store.Object(standIn)
	require.True(t, ok && o.Owner == "", "an orphan")
	require.Empty(t, b.Store.GoneRefs(string(l.BtoA)))

	kp = a.Call(s.vault, "deposit", int64(1))
	l.Settle(0)
	require.Equal(t, int64(2), a.Value(kp), "the link holds")
}
