package kernel_test

import (
	"path/filepath"

	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/kernel"
	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/persistence"
)

// methodsTo lists, in order, the methods of the messages v received on
// target (all targets when target is "").
func methodsTo(v *kt.FakeVat, target kernel.VRef) []string {
	var out []string
	for _, dv := range v.Deliveries {
		if dv.Kind == kernel.DeliverMessage && (target == "" || dv.Target == target) {
			out = append(out, kt.MethodOf(dv.Message.Methargs))
		}
	}
	return out
}

// The case the reference kernel gets wrong: alice sends m1 and m2 on the
// promise bob's a() returns; later m3 and m4 on the same promise are
// accepted while bob's release() (which fulfils the promise) is already
// queued. The reference appends m1 and m2 behind m3 and m4 when the
// promise resolves; here they arrive in the order alice sent them.
func TestEOrderPromiseResolvesBetweenSends(t *testing.T) {
	d := kt.New(t)
	res := d.Launch("alice", "alice", "bob")
	alice, bob := d.Vat("alice"), d.Vat("bob")
	var pa, thing kernel.VRef // bob's view of a()'s result, and its object
	bob.OnMethod["a"] = func(c *kt.Call) error { pa = c.Result(); return nil }
	bob.OnMethod["release"] = func(c *kt.Call) error {
		thing = c.NewExport(false)
		c.Fulfill(pa, kt.Ref(string(thing)))
		c.Fulfill(c.Result(), kt.Undefined)
		return nil
	}
	var alicePA kernel.VRef // alice's view of the same promise
	alice.OnMethod["go"] = func(c *kt.Call) error {
		alicePA = c.Send(c.Slot(0), "a")
		c.Send(alicePA, "m1")
		c.Send(alicePA, "m2")
		c.Fulfill(c.Result(), kt.Undefined)
		return nil
	}
	alice.OnMethod["more"] = func(c *kt.Call) error {
		c.Send(alicePA, "m3")
		c.Send(alicePA, "m4")
		c.Fulfill(c.Result(), kt.Undefined)
		return nil
	}
	d.Send(res.Roots["alice"], "go", res.Roots["bob"])
	d.RunUntilQuiescent(0)
	// alice's more() is delivered first, then bob's release().
	d.Send(res.Roots["alice"], "more")
	d.Send(res.Roots["bob"], "release")
	d.RunUntilQuiescent(0)
	require.Equal(t, []string{"m1", "m2", "m3", "m4"}, methodsTo(bob, thing))
}

// A send to an unresolved promise takes no crank of its own: it waits on
// the promise from the moment it is accepted, and the run queue never holds
// a send to an unresolved promise.
func TestSendToUnresolvedPromiseIsQueuedAtAcceptance(t *testing.T) {
	d := kt.New(t)
	res := d.Launch("alice", "alice", "bob")
	d.Vat("bob").OnMethod["a"] = func(c *kt.Call) error { return nil } // never answers
	d.Vat("alice").OnMethod["go"] = func(c *kt.Call) error {
		pa := c.Send(c.Slot(0), "a")
		for range 3 {
			c.Send(pa, "m")
		}
		return nil
	}
	d.Send(res.Roots["alice"], "go", res.Roots["bob"])
	r := d.Crank()
	require.Equal(t, 1, d.Store.QueueLen(), "only a() is on the run queue")
	require.Equal(t, kernel.Committed, r.Outcome)
	rs := d.RunUntilQuiescent(0)
	require.Len(t, rs, 1, "a() is the only crank left; the three sends wait on its result")
	for _, it := range d.Store.QueueItems() {
		require.False(t, kernel.KRef(it.Target).IsPromise(), "run queue item %v targets a promise", it)
	}
}

// E-order holds across a kernel restart: messages waiting on a promise the
// kernel decides (the result of a queued message) survive in the store in
// their order, and a message sent on the same promise after the restart
// joins them behind.
func TestEOrderAcrossKernelRestart(t *testing.T) {
	d := kt.NewWithOptions(t, filepath.Join(t.TempDir(), "k.db"), persistence.Options{})
	res := d.Launch("alice", "alice", "bob")
	bob := d.Vat("bob")
	bob.OnMethod["a"] = func(c *kt.Call) error {
		c.Fulfill(c.Result(), kt.Ref("o+d1/1")) // a durable object: it survives
		return nil
	}
	d.Vat("alice").OnMethod["go"] = func(c *kt.Call) error {
		pa := c.Send(c.Slot(0), "a")
		c.Send(pa, "m1")
		c.Send(pa, "m2")
		c.Fulfill(c.Result(), kt.Undefined)
		return nil
	}
	d.Send(res.Roots["alice"], "go", res.Roots["bob"])
	d.Crank() // alice's go(): a() is queued, m1 and m2 wait on its result
	var pa kernel.KRef
	for _, s := range d.Store.PromiseKPIDs() {
		if p, _ := d.Store.Promise(s); p.QueueTail-p.QueueHead == 2 {
			pa = kernel.KRef(s)
		}
	}
	require.NotEmpty(t, pa)

	d.Reopen()
	d.Send(pa, "m3")
	d.RunUntilQuiescent(0)
	require.Equal(t, []string{"m1", "m2", "m3"}, methodsTo(bob, "o+d1/1"))
}
