package kernel_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/kernel"
	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
)

// sendOnly makes a syscall.send with no result promise (SwingSet's
// sendOnly).
func sendOnly(c *kt.Call, target kernel.VRef, method string, slots ...kernel.VRef) {
	c.Syscall(kernel.Syscall{Kind: kernel.SyscallSend, Target: target,
		Message: kernel.VatMessage{Methargs: kt.Methargs(method, slots...)}})
}

// kinds lists the delivery kinds and methods a fake vat received from
// index from on, for comparing.
func kinds(v *kt.FakeVat, from int) []string {
	var out []string
	for _, dv := range v.Deliveries[from:] {
		s := dv.Kind.String()
		if dv.Kind == kernel.DeliverMessage {
			s += " " + kt.MethodOf(dv.Message.Methargs)
			if dv.Message.Result == "" {
				s += " (no result)"
			}
		}
		out = append(out, s)
	}
	return out
}

// A send with no result is delivered like any other, with no result vref,
// to an object directly or through a promise that resolves to one; nobody
// is notified of anything, and its references are released (the driver's
// audit after every crank checks the counts).
func TestSendOnlyDelivers(t *testing.T) {
	d := kt.New(t)
	res := d.Launch("alice", "alice", "bob")
	alice, bob := d.Vat("alice"), d.Vat("bob")
	var later kernel.VRef // a promise bob decides and resolves to his root
	bob.OnMethod["later"] = func(c *kt.Call) error { later = c.Result(); return nil }
	bob.OnMethod["now"] = func(c *kt.Call) error {
		c.Fulfill(later, kt.Ref(string(kernel.RootVRef)))
		c.Fulfill(c.Result(), kt.Undefined)
		return nil
	}
	bob.OnMethod["hello"] = func(c *kt.Call) error {
		require.Empty(t, c.Result(), "a sendOnly has no result")
		require.Len(t, c.Delivery.Message.Methargs.Slots, 1, "its argument arrives")
		return nil
	}
	alice.OnMethod["go"] = func(c *kt.Call) error {
		sendOnly(c, c.Slot(0), "hello", c.NewExport(false))
		p := c.Send(c.Slot(0), "later")
		sendOnly(c, p, "hello", c.NewExport(false)) // pipelined
		c.Fulfill(c.Result(), kt.Undefined)
		return nil
	}
	seenAlice := len(alice.Deliveries)
	d.Send(res.Roots["alice"], "go", res.Roots["bob"])
	d.RunUntilQuiescent(0)
	require.Equal(t, []string{"message hello (no result)", "message later"}, kinds(bob, 1))
	d.Send(res.Roots["bob"], "now")
	d.RunUntilQuiescent(0)
	require.Equal(t, []string{"message hello (no result)", "message later", "message now", "message hello (no result)"}, kinds(bob, 1))
	for _, k := range kinds(alice, seenAlice) {
		require.False(t, strings.HasPrefix(k, "notify"), "alice subscribed to nothing and hears nothing: %v", k)
	}
}

// A send with no result that splats (its target is gone, or its target
// promise was rejected) just releases its references: there is no result
// to reject. The object it carried becomes garbage and its exporter is
// told so.
func TestSendOnlySplat(t *testing.T) {
	d := kt.New(t)
	res := d.Launch("alice", "alice", "bob", "carol")
	alice := d.Vat("alice")
	var doomed kernel.VRef // a promise carol decides and will reject
	d.Vat("carol").OnMethod["doomed"] = func(c *kt.Call) error { doomed = c.Result(); return nil }
	d.Vat("carol").OnMethod["reject"] = func(c *kt.Call) error {
		c.Resolve(doomed, true, kt.Str("no"))
		c.Fulfill(c.Result(), kt.Undefined)
		return nil
	}
	var fromCarol kernel.VRef
	alice.OnMethod["ask"] = func(c *kt.Call) error {
		fromCarol = c.Send(c.Slot(1), "doomed")
		c.Fulfill(c.Result(), kt.Undefined)
		return nil
	}
	d.Send(res.Roots["alice"], "ask", res.Roots["bob"], res.Roots["carol"])
	d.RunUntilQuiescent(0)
	d.Send(res.Roots["carol"], "reject")
	d.RunUntilQuiescent(0)
	d.Terminate(res.VatIDs["bob"])
	d.RunUntilQuiescent(0)

	var gifts []kernel.VRef
	alice.OnMethod["spam"] = func(c *kt.Call) error {
		for _, target := range []kernel.VRef{c.Slot(0), fromCarol} {
			gift := c.NewExport(false)
			gifts = append(gifts, gift)
			sendOnly(c, target, "hello", gift)
		}
		c.Fulfill(c.Result(), kt.Undefined)
		return nil
	}
	seen := len(alice.Deliveries)
	d.Send(res.Roots["alice"], "spam", res.Roots["bob"])
	cranks := d.RunUntilQuiescent(0)
	var splats []string
	for _, r := range cranks {
		if strings.HasPrefix(r.Routed, "splat") {
			splats = append(splats, r.Routed)
		}
		require.Empty(t, r.Failure)
	}
	require.Len(t, splats, 2, "both sends splat: %v", splats)
	// Both gifts were referred to by nothing but the splatted sends: the
	// kernel drops and retires them, and alice hears of it.
	var retired []kernel.VRef
	for _, dv := range alice.Deliveries[seen:] {
		require.NotEqual(t, kernel.DeliverNotify, dv.Kind, "no result, so nothing to notify")
		if dv.Kind == kernel.DeliverRetireExports {
			retired = append(retired, dv.VRefs...)
		}
	}
	require.ElementsMatch(t, gifts, retired)
}

// A send with no result whose delivery fails the receiver: the receiver is
// terminated as for any message, and the retry splats with nobody to tell.
func TestSendOnlyToAFailingVat(t *testing.T) {
	d := kt.New(t)
	res := d.Launch("alice", "alice", "bob")
	d.Vat("bob").OnMethod["hello"] = func(c *kt.Call) error {
		c.Fulfill("p-99", kt.Undefined) // not his to resolve: illegal
		return nil
	}
	d.Vat("alice").OnMethod["go"] = func(c *kt.Call) error {
		sendOnly(c, c.Slot(0), "hello")
		c.Fulfill(c.Result(), kt.Undefined)
		return nil
	}
	p := d.Send(res.Roots["alice"], "go", res.Roots["bob"])
	cranks := d.RunUntilQuiescent(0)
	require.NoError(t, d.ResultErr(p))
	var failed, splat int
	for _, r := range cranks {
		if r.Outcome == kernel.Aborted {
			failed++
			require.ErrorIs(t, r.Failure, kernel.ErrIllegalSyscall)
			require.Equal(t, []kernel.VatID{res.VatIDs["bob"]}, r.Terminated)
			require.Empty(t, r.Released, "no result, so nothing for anyone")
		}
		if strings.HasPrefix(r.Routed, "splat") {
			splat++
		}
	}
	require.Equal(t, 1, failed)
	require.Equal(t, 1, splat, "the retry splats")
}
