package kernel_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/kernel"
	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/remote/wire"
)

// bank launches, in d, a vat "bank" whose root answers deposit(n) with
// the running total, and returns the vat and its root.
func bank(d *kt.Driver) (*kt.FakeVat, kernel.KRef) {
	v, root, _ := bankLog(d)
	return v, root
}

// bankLog is bank, also returning the log of the amounts deposited, in the
// order the bank received them.
func bankLog(d *kt.Driver) (*kt.FakeVat, kernel.KRef, *[]int64) { return namedBank(d, "bank") }

// namedBank is bankLog for a vat of the given name (so a kernel can have
// several banks).
func namedBank(d *kt.Driver, name string) (*kt.FakeVat, kernel.KRef, *[]int64) {
	res := d.Launch(name, name)
	v := d.Vat(name)
	total := int64(0)
	log := new([]int64)
	v.OnMethod["deposit"] = func(c *kt.Call) error {
		args, err := marshal.Decode(c.Delivery.Message.Methargs)
		if err != nil {
			return err
		}
		n, err := marshal.Int(args.([]any)[1].([]any)[0])
		if err != nil {
			return err
		}
		total += n
		*log = append(*log, n)
		v, err := marshal.Encode(total)
		if err != nil {
			return err
		}
		c.Fulfill(c.Result(), v)
		return nil
	}
	return v, res.Roots[name], log
}

func outboxLen(t *testing.T, d *kt.Driver, r kernel.RemoteID) int {
	t.Helper()
	info, err := d.K.Remote(r)
	require.NoError(t, err)
	return info.Pending
}

// A host on kernel A calls an object that lives in kernel B: the send
// becomes an outbox message of A's crank, B applies it as a run-queue
// item, its vat answers, and the answer comes back as a notify that
// settles A's result promise. Nothing is left in either outbox once both
// sides have acked, and both auditors are green after every step.
func TestRemoteSendAndReply(t *testing.T) {
	a, b := kt.New(t), kt.New(t)
	l := kt.Connect(a, b)
	bankVat, root := bank(b)
	presence := l.Introduce(root)

	kp := a.Call(presence, "deposit", int64(5))
	res := a.Crank()
	require.Equal(t, "remote", res.Routed, "the send is routed to the remote endpoint")
	require.False(t, res.Delivered)
	require.Equal(t, 1, outboxLen(t, a, l.AtoB), "one message waits for B")
	_, seen := a.Result(kp)
	require.False(t, seen)

	require.Equal(t, 1, l.AB().Pump(nil, true))
	require.Equal(t, 0, outboxLen(t, a, l.AtoB), "B's ack trimmed A's outbox")
	b.RunUntilQuiescent(0)
	require.Len(t, bankVat.Deliveries, 2, "startVat, then deposit") // startVat + deposit
	require.Equal(t, kernel.RootVRef, bankVat.Deliveries[1].Target)
	// B's vat resolved the result; B's notify crank wrote the answer.
	require.Equal(t, 1, outboxLen(t, b, l.BtoA))
	require.Equal(t, 1, l.BA().Pump(nil, true))
	require.Equal(t, int64(5), a.Value(kp))

	// A second call: the same path, the running total says it ran once.
	kp2 := a.Call(presence, "deposit", int64(7))
	l.Settle(0)
	require.Equal(t, int64(12), a.Value(kp2))
	require.Equal(t, 0, outboxLen(t, a, l.AtoB))
	require.Equal(t, 0, outboxLen(t, b, l.BtoA))
	require.Equal(t, map[string]int{"a>b": 2, "b>a": 2}, l.Applied)
}

// A message applied once is a duplicate forever after: a retransmission
// changes nothing. A message past the next expected one is refused, and
// nothing is applied until the gap is filled.
func TestRemoteDuplicatesAndGaps(t *testing.T) {
	a, b := kt.New(t), kt.New(t)
	l := kt.Connect(a, b)
	bankVat, root := bank(b)
	presence := l.Introduce(root)
	kp1 := a.Call(presence, "deposit", int64(1))
	kp2 := a.Call(presence, "deposit", int64(2))
	a.RunUntilQuiescent(0)
	require.Equal(t, 2, outboxLen(t, a, l.AtoB))

	// Message 1 lost, message 2 refused as out of order: B applied nothing.
	require.Equal(t, 0, l.AB().Pump(func(seq uint64) kt.Fault {
		if seq == 1 {
			return kt.Drop
		}
		return kt.Deliver
	}, true))
	require.Equal(t, 2, outboxLen(t, a, l.AtoB), "nothing acked, nothing trimmed")
	// Retransmitted, each twice: applied once each.
	require.Equal(t, 2, l.AB().Pump(func(uint64) kt.Fault { return kt.Twice }, false))
	require.Equal(t, 2, l.Duplicates["a>b"])
	// The ack was lost too: a full resend is all duplicates.
	require.Equal(t, 0, l.AB().Pump(nil, true))
	require.Equal(t, 4, l.Duplicates["a>b"])
	l.Settle(0)
	require.Equal(t, int64(1), a.Value(kp1))
	require.Equal(t, int64(3), a.Value(kp2), "each deposit ran exactly once")
	require.Equal(t, 3, len(bankVat.Deliveries), "startVat and two deposits")

	info, err := b.K.Remote(l.BtoA)
	require.NoError(t, err)
	_, _, err = b.K.ApplyRemote(b.Ctx, l.BtoA, info.Applied+2, `{"kind":"dropExports","refs":["ro-1"]}`)
	require.ErrorIs(t, err, kernel.ErrRemoteGap)
}

// The outbox is written in the crank's unit: a crank that fails leaves no
// message behind, and nothing can be sent for it.
func TestRemoteOutboxRollsBackWithTheCrank(t *testing.T) {
	a, b := kt.New(t), kt.New(t)
	l := kt.Connect(a, b)
	_, root := bank(b)
	presence := l.Introduce(root)
	a.Launch("alice", "alice")
	alice := a.Vat("alice")
	var held kernel.VRef
	alice.OnMethod["hold"] = func(c *kt.Call) error { held = c.Slot(0); return nil }
	alice.OnMethod["sendAndFail"] = func(c *kt.Call) error {
		c.Send(held, "deposit")
		return errors.New("alice fails after sending")
	}
	aroot := rootOf(t, a, "alice")
	a.Send(aroot, "hold", presence)
	a.RunUntilQuiescent(0)
	before := outboxLen(t, a, l.AtoB)
	a.Send(aroot, "sendAndFail")
	cr := a.RunUntilQuiescent(0)
	require.NotEmpty(t, cr)
	require.Equal(t, kernel.Aborted, cr[0].Outcome)
	require.Equal(t, before, outboxLen(t, a, l.AtoB), "the failed crank's send is gone with it")
	from, to, err := a.K.RemoteSendable(l.AtoB)
	require.NoError(t, err)
	require.Greater(t, from, to, "nothing to send")
}

// rootOf is the root object of the vat named name in d.
func rootOf(t *testing.T, d *kt.Driver, name string) kernel.KRef {
	t.Helper()
	v := d.Vat(name)
	for _, s := range d.Store.CListKRefs(string(v.ID)) {
		if e, _ := d.Store.CList(string(v.ID), s); e.VRef == string(kernel.RootVRef) {
			return kernel.KRef(s)
		}
	}
	t.Fatalf("no root for %s", name)
	return ""
}

// A peer is held to what it was given: a ref it was never given, a
// resolution of a promise it does not decide, an ack of what was never
// sent, and a malformed message are each refused, changing nothing.
func TestRemoteRefusesProtocolViolations(t *testing.T) {
	a, b := kt.New(t), kt.New(t)
	l := kt.Connect(a, b)
	_, root := bank(b)
	l.Introduce(root)
	ctx := context.Background()
	msgs := map[string]wire.Message{
		"a target it was never given": {Kind: wire.KindDeliver, Target: "ro-99", Methargs: &wire.Data{Body: `#["deposit",[]]`}},
		"a slot it was never given": {Kind: wire.KindDeliver, Target: "ro-1",
			Methargs: &wire.Data{Body: `#["deposit",["$0.Alleged: x"]]`, Slots: []string{"rp-5"}}},
		"an object as the result":         {Kind: wire.KindDeliver, Target: "ro-1", Methargs: &wire.Data{Body: `#["deposit",[]]`}, Result: "ro-1"},
		"methargs that are not a message": {Kind: wire.KindDeliver, Target: "ro-1", Methargs: &wire.Data{Body: `#"hello"`}},
		"a resolution of a promise it does not hold": {Kind: wire.KindNotify,
			Resolutions: []wire.Resolution{{Promise: "rp-1", Data: wire.Data{Body: "#1"}}}},
		"a send to its own object": {Kind: wire.KindDeliver, Target: "ro+7", Methargs: &wire.Data{Body: `#["deposit",[]]`}},
	}
	for name, m := range msgs {
		t.Run(name, func(t *testing.T) {
			before := kernel.DescribeState(b.Store)
			_, _, err := b.K.ApplyRemote(ctx, l.BtoA, 1, m.Encode())
			require.ErrorIs(t, err, kernel.ErrRemoteProtocol)
			require.Equal(t, before, kernel.DescribeState(b.Store), "nothing changed")
			b.AuditNow(name)
			info, _ := b.K.Remote(l.BtoA)
			require.Zero(t, info.Applied, "a refused message is not recorded as applied")
		})
	}
	_, _, err := b.K.ApplyRemote(ctx, l.BtoA, 1, `{"kind":"deliver"`)
	require.ErrorIs(t, err, kernel.ErrRemoteProtocol)
	_, err = a.K.AckRemote(ctx, l.AtoB, 1)
	require.ErrorIs(t, err, kernel.ErrRemoteProtocol, "an ack of a message never sent")
	_, _, err = a.K.ApplyRemote(ctx, "r9", 1, "{}")
	require.ErrorIs(t, err, kernel.ErrUnknownRemote)
}

// Promise pipelining across kernels: sends to the result of a send to a
// peer go to the peer that decides it, without waiting here for the
// answer. One is queued on the result before the first send leaves (it
// follows the send, in order, in the same crank's outbox), one after
// (it goes from the run queue to the peer). Both reach the account the
// bank returned, in B, and both answers come back.
func TestRemotePipelining(t *testing.T) {
	a, b := kt.New(t), kt.New(t)
	l := kt.Connect(a, b)
	bankVat, root := bank(b)
	var account kernel.VRef
	bankVat.OnMethod["open"] = func(c *kt.Call) error {
		account = c.NewExport(false)
		c.Fulfill(c.Result(), kt.Ref(string(account)))
		return nil
	}
	var calledOn []kernel.VRef
	bankVat.OnMethod["balance"] = func(c *kt.Call) error {
		calledOn = append(calledOn, c.Target())
		v, _ := marshal.Encode(int64(len(calledOn)))
		c.Fulfill(c.Result(), v)
		return nil
	}
	presence := l.Introduce(root)

	kpAcct := a.Send(presence, "open")
	kpBal1 := a.Send(kpAcct, "balance") // waits on the result, before "open" leaves
	res := a.Crank()
	require.Equal(t, "remote", res.Routed)
	require.Equal(t, 2, outboxLen(t, a, l.AtoB), "open and the pipelined balance leave together, in order")
	p, _ := a.Store.Promise(string(kpAcct))
	require.Equal(t, string(l.AtoB), p.Decider, "B decides the account promise now")
	require.Equal(t, p.QueueHead, p.QueueTail, "nothing waits on it in A")

	kpBal2 := a.Send(kpAcct, "balance") // after: the run queue, then B
	res = a.Crank()
	require.Equal(t, "remote", res.Routed, "a send to a promise B decides goes to B")
	require.Equal(t, 3, outboxLen(t, a, l.AtoB))

	l.Settle(0)
	require.Equal(t, []kernel.VRef{account, account}, calledOn, "both reached the account in B")
	require.Equal(t, int64(1), a.Value(kpBal1))
	require.Equal(t, int64(2), a.Value(kpBal2))
	require.Equal(t, map[string]int{"a>b": 3, "b>a": 3}, l.Applied, "three messages each way, no round trip for the pipelined sends")
}

// A peer that never answers costs only waiting, until the host gives up
// on it: then every promise it decides is rejected with PEER_UNREACHABLE
// (a pipelined send's result too), whose text names no ref and no remote,
// its objects are orphaned (a later send splats OBJECT_DELETED), its
// outbox is dropped, and nothing more is taken from it.
func TestRemoteGiveUp(t *testing.T) {
	a, b := kt.New(t), kt.New(t)
	l := kt.Connect(a, b)
	_, root := bank(b)
	presence := l.Introduce(root)
	kp1 := a.Call(presence, "deposit", int64(1))
	kp2 := a.Send(kp1, "more") // pipelined on kp1, to B
	a.RunUntilQuiescent(0)
	require.Equal(t, 2, outboxLen(t, a, l.AtoB), "waiting for a peer that does not answer")
	_, seen := a.Result(kp1)
	require.False(t, seen, "no answer, no error: just waiting")

	out, err := a.K.GiveUpRemote(a.Ctx, l.AtoB)
	require.NoError(t, err)
	a.Release(out)
	a.AuditNow("give up")
	for _, kp := range []kernel.KRef{kp1, kp2} {
		err := a.ResultErr(kp)
		require.ErrorIs(t, err, kernel.ErrPeerUnreachable)
		require.Contains(t, err.Error(), "[KERNEL:PEER_UNREACHABLE]")
		require.NotRegexp(t, `k[op][0-9]|r[op][+-]|\br[0-9]`, err.Error(), "no kref, remote ref or remote id in the text")
	}
	info, err := a.K.Remote(l.AtoB)
	require.NoError(t, err)
	require.True(t, info.GivenUp)
	require.Zero(t, info.Pending, "the outbox is dropped")
	require.Empty(t, a.Store.CListKRefs(string(l.AtoB)), "its c-list is emptied")

	kp3 := a.Call(presence, "deposit", int64(2))
	a.RunUntilQuiescent(0)
	require.ErrorIs(t, a.ResultErr(kp3), kernel.ErrObjectDeleted, "its objects are orphaned")
	_, _, err = a.K.ApplyRemote(a.Ctx, l.AtoB, 1, `{"kind":"dropExports","refs":["ro-1"]}`)
	require.ErrorIs(t, err, kernel.ErrRemoteGivenUp)
	_, err = a.K.AckRemote(a.Ctx, l.AtoB, 1)
	require.ErrorIs(t, err, kernel.ErrRemoteGivenUp)
	// No introduction through it either: a presence would be orphaned at
	// birth, an export never reached.
	_, _, err = a.K.ImportFromRemote(a.Ctx, l.AtoB, "ro+9")
	require.ErrorIs(t, err, kernel.ErrRemoteGivenUp)
	_, own := bank(a)
	_, _, err = a.K.ExportToRemote(a.Ctx, l.AtoB, own)
	require.ErrorIs(t, err, kernel.ErrRemoteGivenUp)
	out, err = a.K.GiveUpRemote(a.Ctx, l.AtoB)
	require.NoError(t, err)
	require.Empty(t, out, "giving up twice does nothing")
}
