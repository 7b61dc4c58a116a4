package kernel_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/kernel"
	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
)

// A GC delivery that fails (the exporter's endpoint is gone, the delivery
// errs, or the vat faults under the restart policy) is consumed with its
// c-list and count changes made: without them the object stayed reachable
// in the exporter's c-list with no dropExport pending, which the auditor
// (run after every crank by the driver) reports.
func TestFailedGCDeliveryKeepsTheCounts(t *testing.T) {
	for _, tt := range []struct {
		name  string
		fail  func(v *kt.FakeVat)
		alice kernel.VatConfig
	}{
		{"endpoint gone", func(v *kt.FakeVat) { v.Gone = true }, kernel.VatConfig{Bundle: "fake"}},
		{"delivery error", func(v *kt.FakeVat) { v.Broken = errors.New("pipe closed") }, kernel.VatConfig{Bundle: "fake"}},
		{"fault under restart", func(v *kt.FakeVat) {
			v.Next = append(v.Next, func(c *kt.Call) error { return kt.ErrScripted })
		}, kernel.VatConfig{Bundle: "fake", FailurePolicy: kernel.PolicyRestart}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := kt.New(t)
			res := d.LaunchConfig(kernel.ClusterConfig{Bootstrap: "alice", Vats: map[string]kernel.VatConfig{
				"alice": tt.alice, "bob": {Bundle: "fake"}}})
			alice, bob := d.Vat("alice"), d.Vat("bob")
			var x kernel.VRef
			bob.OnMethod["take"] = func(c *kt.Call) error { x = c.Slot(0); return nil }
			alice.OnMethod["give"] = func(c *kt.Call) error {
				c.Send(c.Slot(0), "take", c.NewExport(false))
				return nil
			}
			d.Send(res.Roots["alice"], "give", res.Roots["bob"])
			d.RunUntilQuiescent(0)
			require.NotEmpty(t, x)
			tt.fail(alice)
			bob.Next = append(bob.Next, func(c *kt.Call) error {
				c.GC(kernel.SyscallDropImports, x)
				c.GC(kernel.SyscallRetireImports, x)
				return nil
			})
			_, err := d.K.ScheduleReap(d.Ctx, res.VatIDs["bob"])
			require.NoError(t, err)
			rs := d.RunUntilQuiescent(0) // the driver audits after each crank
			var gc int
			for _, r := range rs {
				if r.Work == kernel.WorkDropExports || r.Work == kernel.WorkRetireExports {
					gc++
				}
			}
			require.NotZero(t, gc, "the GC actions were taken")
		})
	}
}

// A notify that cannot be delivered still takes the settled promise out
// of the subscriber's c-list (invariant 10), without importing its value's
// objects into a c-list the vat never heard of.
func TestFailedNotifyRetiresThePromise(t *testing.T) {
	d := kt.New(t)
	res := d.Launch("alice", "alice", "bob")
	alice, bob := d.Vat("alice"), d.Vat("bob")
	var r kernel.VRef
	bob.OnMethod["later"] = func(c *kt.Call) error { r = c.Result(); return nil }
	bob.OnMethod["settle"] = func(c *kt.Call) error {
		c.Fulfill(r, kt.Ref(string(c.NewExport(false))))
		c.Fulfill(c.Result(), kt.Undefined)
		return nil
	}
	alice.OnMethod["ask"] = func(c *kt.Call) error {
		c.Subscribe(c.Send(c.Slot(0), "later"))
		c.Fulfill(c.Result(), kt.Undefined)
		return nil
	}
	d.Send(res.Roots["alice"], "ask", res.Roots["bob"])
	d.RunUntilQuiescent(0)
	before := len(d.Store.CListKRefs(string(res.VatIDs["alice"])))
	alice.Broken = errors.New("pipe closed")
	d.Send(res.Roots["bob"], "settle")
	rs := d.RunUntilQuiescent(0)
	var notified bool
	for _, r := range rs {
		notified = notified || (r.Work == kernel.WorkNotify && r.Vat == res.VatIDs["alice"])
	}
	require.True(t, notified, "the notify to alice was taken (and failed)")
	for _, s := range d.Store.CListKRefs(string(res.VatIDs["alice"])) {
		require.False(t, kernel.KRef(s).IsPromise(), "alice still holds %s", s)
	}
	require.Equal(t, before-1, len(d.Store.CListKRefs(string(res.VatIDs["alice"]))), "and imported nothing")
}

// A launch naming a service whose object is gone is refused, not a kernel
// panic.
func TestLaunchRefusesADeadService(t *testing.T) {
	d := kt.New(t)
	res := d.Launch("bob", "bob")
	_, err := d.K.SetServiceRef(d.Ctx, "clock", res.Roots["bob"])
	require.NoError(t, err)
	d.Terminate(res.VatIDs["bob"])
	d.RunUntilQuiescent(0)
	_, _, err = d.K.Launch(d.Ctx, d, kernel.ClusterConfig{Bootstrap: "a", Services: []string{"clock"},
		Vats: map[string]kernel.VatConfig{"a": {Bundle: "fake"}}}, kernel.LaunchOptions{})
	require.ErrorIs(t, err, kernel.ErrBadConfig)
	require.ErrorIs(t, err, kernel.ErrObjectDeleted)
}
