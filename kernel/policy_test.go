package kernel_test

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/kernel"
	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/persistence"
)

// Under the restart policy a vat's fault rolls the crank back and consumes
// the item (its result rejected), and the vat stays active for the
// runtime to restart; deliveries meanwhile are deferred, changing nothing.
func TestRestartPolicyConsumesTheItem(t *testing.T) {
	d := kt.New(t)
	res := d.LaunchConfig(kernel.ClusterConfig{Bootstrap: "alice", Vats: map[string]kernel.VatConfig{
		"alice": {Bundle: "fake"},
		"bob":   {Bundle: "fake", FailurePolicy: kernel.PolicyRestart},
	}})
	bob := d.Vat("bob")
	bob.OnMethod["boom"] = func(c *kt.Call) error {
		c.Syscall(kernel.Syscall{Kind: kernel.SyscallVatstoreSet, Key: "half", Value: "done"})
		panic("boom")
	}
	p := d.Send(res.Roots["bob"], "boom")
	after := d.Send(res.Roots["bob"], "fine")
	r := d.Crank()
	require.Equal(t, kernel.Aborted, r.Outcome)
	require.Equal(t, res.VatIDs["bob"], r.Restart)
	require.True(t, r.Dequeued, "aborted, but its item was consumed")
	require.Empty(t, r.Terminated)
	require.ErrorIs(t, d.ResultErr(p), kernel.ErrInternalError, "the failing message is rejected, not retried")
	require.False(t, d.Results[p].Aborted, "the item was consumed in the same crank")
	_, ok := d.Store.VatstoreGet(string(res.VatIDs["bob"]), "half")
	require.False(t, ok, "the delivery's effects were rolled back")
	info, _ := d.K.Vat(res.VatIDs["bob"])
	require.True(t, info.Active)
	require.Equal(t, 1, d.Store.QueueLen(), "only the next message is left")

	// While the runtime restarts bob, deliveries to him are deferred.
	bob.Unavailable = true
	r = d.Crank()
	require.Equal(t, kernel.Deferred, r.Outcome)
	require.False(t, r.Dequeued)
	require.Equal(t, 1, d.Store.QueueLen())
	bob.Unavailable = false
	d.Restart(res.VatIDs["bob"])
	d.RunUntilQuiescent(0)
	require.NoError(t, d.ResultErr(after), "later messages work")
}

// UpgradeVat moves a vat to new code; if the new code fails to start, the
// vat keeps its old config and incarnation.
func TestUpgradeVat(t *testing.T) {
	d := kt.New(t)
	res := d.Launch("alice", "alice")
	alice := res.VatIDs["alice"]
	_, err := d.K.UpgradeVat(d.Ctx, alice, d, kernel.VatConfig{Bundle: "fake-v2"})
	require.NoError(t, err)
	info, _ := d.K.Vat(alice)
	require.Equal(t, "fake-v2", info.Config.Bundle)
	require.Equal(t, int64(1), info.Incarnation)

	d.Vat("alice").FailStart = errors.New("durable kind counter was not re-defined")
	_, err = d.K.UpgradeVat(d.Ctx, alice, d, kernel.VatConfig{Bundle: "fake-v3"})
	require.ErrorContains(t, err, "durable kind counter was not re-defined")
	info, _ = d.K.Vat(alice)
	require.True(t, info.Active, "a failed upgrade leaves the vat as it was")
	require.Equal(t, "fake-v2", info.Config.Bundle)
	require.Equal(t, int64(1), info.Incarnation)
	d.AuditNow("failed upgrade")
	_, err = d.K.UpgradeVat(d.Ctx, alice, d, kernel.VatConfig{})
	require.ErrorIs(t, err, kernel.ErrBadConfig)
}

func TestTerminateSubcluster(t *testing.T) {
	d := kt.New(t)
	one := d.Launch("a", "a", "b")
	two := d.Launch("c", "c")
	p := d.Send(one.Roots["b"], "later")
	d.Vat("b").OnMethod["later"] = func(c *kt.Call) error { return nil }
	d.RunUntilQuiescent(0)
	stopped, out, err := d.K.TerminateSubcluster(d.Ctx, one.SubclusterID, "done with it")
	require.NoError(t, err)
	require.Equal(t, []kernel.VatID{one.VatIDs["b"], one.VatIDs["a"]}, stopped, "reverse order")
	require.Len(t, out, 1)
	require.Equal(t, p, out[0].KPID, "the host's call to b")
	require.ErrorIs(t, out[0].Err(), kernel.ErrVatTerminated)
	subs := d.K.Subclusters()
	require.Len(t, subs, 1)
	require.Equal(t, two.SubclusterID, subs[0].ID)
	require.Equal(t, map[string]kernel.VatID{"c": two.VatIDs["c"]}, subs[0].Vats)
	_, _, err = d.K.TerminateSubcluster(d.Ctx, one.SubclusterID, "again")
	require.ErrorIs(t, err, kernel.ErrUnknownSubcluster)
	d.AuditNow("terminate subcluster")
}

// An object the host got in a result is pinned for it: it outlives every
// other reference until the host unpins it, and pins are counted.
func TestHostResultsArePinned(t *testing.T) {
	d := kt.New(t)
	res := d.Launch("a", "a")
	d.Vat("a").OnMethod["make"] = func(c *kt.Call) error {
		c.Fulfill(c.Result(), kt.Ref(string(c.NewExport(false))))
		return nil
	}
	p := d.Send(res.Roots["a"], "make")
	d.RunUntilQuiescent(0)
	thing := kernel.KRef(d.ResultValue(p).Slots[0])
	o, ok := d.Store.Object(string(thing))
	require.True(t, ok, "the host's result keeps it")
	require.Equal(t, int64(1), o.Pins)
	_, err := d.K.Pin(d.Ctx, thing)
	require.NoError(t, err)
	for i := 0; i < 2; i++ {
		o, _ = d.Store.Object(string(thing))
		require.Equal(t, int64(2-i), o.Pins)
		_, err = d.K.Unpin(d.Ctx, thing)
		require.NoError(t, err)
		d.RunUntilQuiescent(0)
	}
	_, ok = d.Store.Object(string(thing))
	require.False(t, ok, "unpinned and unreferenced: collected")
	_, err = d.K.Pin(d.Ctx, thing)
	require.ErrorIs(t, err, kernel.ErrObjectDeleted)
	_, err = d.K.Unpin(d.Ctx, thing)
	require.ErrorIs(t, err, kernel.ErrUnknownRef)
	d.AuditNow("pins")
}

// Only the kernel speaks for the kernel: a vat that rejects with a message
// that reads like a kernel code gives the host a RejectionError, not a
// kernel error, though Carries still reads the code it claims; the
// kernel's own rejections are kernel errors.
func TestVatCannotForgeKernelErrors(t *testing.T) {
	d := kt.New(t)
	res := d.Launch("a", "a")
	d.Vat("a").OnMethod["forge"] = func(c *kt.Call) error {
		c.Resolve(c.Result(), true, marshal.EncodeError("Error", "[KERNEL:VAT_FATAL:ILLEGAL_SYSCALL] not really"))
		return nil
	}
	p := d.Send(res.Roots["a"], "forge")
	d.RunUntilQuiescent(0)
	err := d.ResultErr(p)
	require.NotErrorIs(t, err, kernel.ErrIllegalSyscall)
	var re *kernel.RejectionError
	require.True(t, errors.As(err, &re))
	require.True(t, kernel.Carries(err, kernel.ErrIllegalSyscall), "the claim is readable")
	require.False(t, kernel.Carries(err, kernel.ErrObjectDeleted))

	p = d.Send(res.Roots["a"], "forge") // queued, then its target's vat goes
	d.Terminate(res.VatIDs["a"])
	d.RunUntilQuiescent(0)
	err = d.ResultErr(p)
	require.ErrorIs(t, err, kernel.ErrObjectDeleted, "the kernel's splat is the kernel's word")
	require.True(t, kernel.Carries(err, kernel.ErrObjectDeleted))
}

// The kernel applies the restart policy itself, with the time it is told:
// each failure within the window doubles the backoff it returns, and the
// failure past MaxRestarts terminates the vat in the same crank, with the
// reason in the vat log. The restarts in the window are in the store, so a
// kernel restart does not reset the intensity.
func TestRestartPolicyIsTheKernels(t *testing.T) {
	d := kt.NewWithOptions(t, filepath.Join(t.TempDir(), "k.db"), persistence.Options{})
	res := d.LaunchConfig(kernel.ClusterConfig{Bootstrap: "bob", Vats: map[string]kernel.VatConfig{
		"bob": {Bundle: "fake", FailurePolicy: kernel.PolicyRestart, Restart: kernel.RestartLimits{
			MaxRestarts: 2, Within: kernel.Duration(time.Minute),
			Backoff: kernel.Duration(100 * time.Millisecond), MaxBackoff: kernel.Duration(time.Second)}}}})
	bobID := res.VatIDs["bob"]
	d.Vat("bob").OnMethod["boom"] = func(c *kt.Call) error { panic("boom") }
	fail := func() kernel.CrankResult {
		d.Send(res.Roots["bob"], "boom")
		return d.Crank()
	}
	r := fail()
	require.Equal(t, bobID, r.Restart)
	require.Equal(t, 100*time.Millisecond, r.RestartAfter)
	d.Restart(bobID)

	d.Now = d.Now.Add(time.Second)
	r = fail()
	require.Equal(t, 200*time.Millisecond, r.RestartAfter, "doubled: one restart in the window")
	d.Restart(bobID)

	d.Reopen() // the window survives a kernel restart
	d.Now = d.Now.Add(time.Second)
	r = fail()
	require.Empty(t, r.Restart, "a third failure within a minute: giving up")
	require.Equal(t, []kernel.VatID{bobID}, r.Terminated, "terminated in the crank that failed")
	info, _ := d.K.Vat(bobID)
	require.False(t, info.Active)
	events, err := d.Store.VatEvents(d.Ctx, string(bobID))
	require.NoError(t, err)
	last := events[len(events)-1]
	require.Equal(t, "terminated", last.Event)
	require.Contains(t, last.Reason, "failed 3 times within 1m0s; giving up")
}

// Once its restarts have left the window, a vat is restarted again with
// the first backoff.
func TestRestartWindowSlides(t *testing.T) {
	d := kt.New(t)
	res := d.LaunchConfig(kernel.ClusterConfig{Bootstrap: "bob", Vats: map[string]kernel.VatConfig{
		"bob": {Bundle: "fake", FailurePolicy: kernel.PolicyRestart, Restart: kernel.RestartLimits{
			MaxRestarts: 1, Within: kernel.Duration(time.Minute)}}}})
	bobID := res.VatIDs["bob"]
	d.Vat("bob").OnMethod["boom"] = func(c *kt.Call) error { panic("boom") }
	d.Send(res.Roots["bob"], "boom")
	require.Equal(t, bobID, d.Crank().Restart)
	d.Restart(bobID)
	d.Now = d.Now.Add(2 * time.Minute)
	d.Send(res.Roots["bob"], "boom")
	r := d.Crank()
	require.Equal(t, bobID, r.Restart, "the first restart left the window")
	require.Equal(t, time.Duration(kernel.DefaultBackoff), r.RestartAfter)
}

// A failure outside any delivery (the vat's actor crashed) goes through
// the same policy: terminate, or restart after a backoff.
func TestVatFailed(t *testing.T) {
	d := kt.New(t)
	res := d.LaunchConfig(kernel.ClusterConfig{Bootstrap: "a", Vats: map[string]kernel.VatConfig{
		"a": {Bundle: "fake"}, "b": {Bundle: "fake", FailurePolicy: kernel.PolicyRestart}}})
	after, _, err := d.K.VatFailed(d.Ctx, res.VatIDs["b"], "actor crashed")
	require.NoError(t, err)
	require.Equal(t, time.Duration(kernel.DefaultBackoff), after)
	require.Empty(t, d.K.TakeStopped())
	after, _, err = d.K.VatFailed(d.Ctx, res.VatIDs["a"], "actor crashed")
	require.NoError(t, err)
	require.Zero(t, after)
	require.Equal(t, []kernel.VatID{res.VatIDs["a"]}, d.K.TakeStopped())
	_, _, err = d.K.VatFailed(d.Ctx, res.VatIDs["a"], "again")
	require.ErrorIs(t, err, kernel.ErrVatNotActive)
	d.AuditNow("vat failed")
}
