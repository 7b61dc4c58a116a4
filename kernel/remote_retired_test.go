package kernel_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/kernel"
	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
)

// A send pipelined on a redemption that reaches the issuer after the
// issuer answered (its notify crossed the send on the link) still reaches
// the object: the issuer kept the answered promise's ref as retired, and
// forgets it once a message of the redeemer shows it had the answer.
// Without the retired ref the send named a promise B no longer held,
// which B took for a new promise of A's and sent back (the auditor's
// "decider is also a subscriber").
func TestURLPipelinedSendCrossesTheAnswer(t *testing.T) {
	l, _, root := urlLink(t)
	a, b := l.A, l.B
	kp := a.RedeemURL(b.IssueURL(root))
	require.Equal(t, 1, l.AB().Pump(nil, true))
	b.RunUntilQuiescent(0) // B's answer is in its outbox; A has not seen it
	require.Len(t, b.Store.RetiredRefs(string(l.BtoA)), 1, "the answered promise's ref is kept")
	kpDep := a.Call(kp, "deposit", int64(5))
	a.RunUntilQuiescent(0)
	l.Settle(0)
	require.Equal(t, int64(5), a.Value(kpDep))
	old := b.Store.RetiredRefs(string(l.BtoA))
	require.Len(t, old, 2, "the redemption's and the deposit's: A has written nothing since it learned of them")
	// A's next message is written knowing both answers: B forgets them.
	kp2 := a.Call(presenceOf(t, a, kp), "deposit", int64(1))
	l.Settle(0)
	require.Equal(t, int64(6), a.Value(kp2))
	now := b.Store.RetiredRefs(string(l.BtoA))
	require.Len(t, now, 1, "only the last answer's, until A writes again")
	require.NotContains(t, old, now[0])
}

// The same crossing for an ordinary send's result: a deposit pipelined on
// open's result, sent after B answered open, reaches the account.
func TestRemotePipelinedSendCrossesTheAnswer(t *testing.T) {
	l, bankVat, root := urlLink(t)
	a := l.A
	bankVat.OnMethod["open"] = func(c *kt.Call) error {
		c.Fulfill(c.Result(), kt.Ref(string(kernel.RootVRef)))
		return nil
	}
	presence := l.Introduce(root)
	kp := a.Send(presence, "open")
	a.RunUntilQuiescent(0)
	require.Equal(t, 1, l.AB().Pump(nil, true))
	l.B.RunUntilQuiescent(0)
	kpDep := a.Call(kp, "deposit", int64(5))
	a.RunUntilQuiescent(0)
	l.Settle(0)
	require.Equal(t, int64(5), a.Value(kpDep))
}
