package kernel_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/kernel"
	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/persistence"
)

// failSecond is a Deliverer whose second startVat writes to its vatstore
// and then fails, after the first succeeded and wrote too.
type failSecond struct {
	starts int
	d      *kt.Driver
}

func (f *failSecond) Deliver(ctx context.Context, vat kernel.VatID, dv kernel.Delivery, sys kernel.Syscaller) error {
	if dv.Kind != kernel.DeliverStartVat {
		return f.d.Deliver(ctx, vat, dv, sys)
	}
	f.starts++
	sys.Syscall(kernel.Syscall{Kind: kernel.SyscallVatstoreSet, Key: "built", Value: "yes"})
	if f.starts == 2 {
		return kernel.ErrVatFault
	}
	return nil
}

// A launch is one unit: when a vat fails to start, nothing is left (no
// subcluster, no vats, no objects, no vatstore, no queued bootstrap), the
// error names the vat, and the ids it would have used are used by the
// next launch (they never left the kernel).
func TestLaunchIsAllOrNothing(t *testing.T) {
	d := kt.New(t)
	cfg := kernel.ClusterConfig{Bootstrap: "alice", Vats: map[string]kernel.VatConfig{
		"alice": {Bundle: "fake"}, "bob": {Bundle: "fake"}}}
	_, out, err := d.K.Launch(d.Ctx, &failSecond{d: d}, cfg, kernel.LaunchOptions{})
	require.ErrorIs(t, err, kernel.ErrVatFault)
	require.ErrorContains(t, err, `vat "bob" failed to start`)
	require.Empty(t, out)
	require.Empty(t, d.Store.SubclusterIDs())
	require.Empty(t, d.Store.VatIDs())
	require.Empty(t, d.Store.ObjectKRefs())
	require.Empty(t, d.Store.PromiseKPIDs())
	require.Zero(t, d.Store.QueueLen())
	require.Empty(t, d.Store.VatstoreKeys("v1"), "what alice wrote while starting is gone too")
	d.AuditNow("failed launch")

	res := d.LaunchConfig(cfg)
	require.Equal(t, kernel.SubclusterID("s1"), res.SubclusterID)
	require.Equal(t, kernel.VatID("v1"), res.VatIDs["alice"])
	require.Equal(t, kernel.KRef("ko1"), res.RootKref)
}

// The bootstrap message is queued in the launch's unit; the subcluster
// holds its promise, so its value can be read at any later time.
func TestLaunchQueuesBootstrapAndKeepsItsResult(t *testing.T) {
	d := kt.New(t)
	cfg := kernel.ClusterConfig{Bootstrap: "alice", Vats: map[string]kernel.VatConfig{
		"alice": {Bundle: "fake"}, "bob": {Bundle: "fake"}}}
	res, out, err := d.K.Launch(d.Ctx, d, cfg, kernel.LaunchOptions{})
	require.NoError(t, err)
	require.Empty(t, out)
	require.NotEmpty(t, res.BootstrapKPID)
	require.Equal(t, 1, d.Store.QueueLen(), "bootstrap is queued")
	d.AuditNow("launch")
	state, _, err := d.K.SubclusterBootstrap(res.SubclusterID)
	require.NoError(t, err)
	require.Equal(t, persistence.PromiseUnresolved, state)

	d.Vat("alice").OnMethod["bootstrap"] = func(c *kt.Call) error {
		require.Len(t, c.Delivery.Message.Methargs.Slots, 2, "bootstrap names both roots")
		c.Fulfill(c.Result(), kt.Str("ready"))
		return nil
	}
	d.RunUntilQuiescent(0)
	require.Equal(t, "ready", d.Value(res.BootstrapKPID), "the host was told")
	state, value, err := d.K.SubclusterBootstrap(res.SubclusterID)
	require.NoError(t, err)
	require.Equal(t, persistence.PromiseFulfilled, state)
	require.Equal(t, kt.Str("ready"), value, "and the value stays readable")
	subs := d.K.Subclusters()
	require.Equal(t, persistence.PromiseFulfilled, subs[0].BootstrapState)
	require.Equal(t, kt.Str("ready"), subs[0].BootstrapValue)

	// Terminating the subcluster lets the result go.
	_, _, err = d.K.TerminateSubcluster(d.Ctx, res.SubclusterID, "done")
	require.NoError(t, err)
	_, ok := d.Store.Promise(string(res.BootstrapKPID))
	require.False(t, ok, "freed with its subcluster")
	d.AuditNow("terminate")
}

// A rejected bootstrap terminates the subcluster in the unit of the
// rejection, whoever rejects: the bootstrap method, or the kernel when the
// bootstrap vat fails the delivery. No half-launched subcluster remains.
func TestRejectedBootstrapTerminatesTheSubcluster(t *testing.T) {
	for _, tt := range []struct {
		name    string
		handler kt.Handler
		wantErr error
	}{
		{"rejects", func(c *kt.Call) error {
			c.Resolve(c.Result(), true, kt.Str("no"))
			return nil
		}, nil},
		{"panics", func(c *kt.Call) error { panic("boom") }, kernel.ErrInternalError},
		{"illegal syscall", func(c *kt.Call) error {
			c.Send("o-99", "nope")
			return nil
		}, kernel.ErrIllegalSyscall},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := kt.New(t)
			cfg := kernel.ClusterConfig{Bootstrap: "alice", Vats: map[string]kernel.VatConfig{
				"alice": {Bundle: "fake"}, "bob": {Bundle: "fake"}}}
			res, _, err := d.K.Launch(d.Ctx, d, cfg, kernel.LaunchOptions{})
			require.NoError(t, err)
			d.Vat("alice").OnMethod["bootstrap"] = tt.handler
			var terminated []kernel.VatID
			for _, r := range d.RunUntilQuiescent(0) {
				terminated = append(terminated, r.Terminated...)
			}
			require.ElementsMatch(t, []kernel.VatID{res.VatIDs["alice"], res.VatIDs["bob"]}, terminated,
				"every vat of the subcluster is stopped")
			require.Error(t, d.ResultErr(res.BootstrapKPID))
			if tt.wantErr != nil {
				require.ErrorIs(t, d.ResultErr(res.BootstrapKPID), tt.wantErr)
			}
			require.Empty(t, d.Store.SubclusterIDs(), "the subcluster is gone")
			for _, id := range res.VatIDs {
				info, err := d.K.Vat(id)
				require.NoError(t, err)
				require.False(t, info.Active)
			}
			_, ok := d.Store.Promise(string(res.BootstrapKPID))
			require.False(t, ok, "the bootstrap promise was let go")
			events, err := d.Store.VatEvents(d.Ctx, string(res.VatIDs["bob"]))
			require.NoError(t, err)
			last := events[len(events)-1]
			require.Equal(t, "terminated", last.Event)
			require.Contains(t, last.Reason, "bootstrap failed: ", "the vat log keeps why")
		})
	}
}

// Terminating the bootstrap vat before bootstrap runs settles the launch
// the same way: the queued bootstrap splats, and the rest of the
// subcluster goes with it.
func TestTerminatingTheBootstrapVatEndsThePendingLaunch(t *testing.T) {
	d := kt.New(t)
	cfg := kernel.ClusterConfig{Bootstrap: "alice", Vats: map[string]kernel.VatConfig{
		"alice": {Bundle: "fake"}, "bob": {Bundle: "fake"}}}
	res, _, err := d.K.Launch(d.Ctx, d, cfg, kernel.LaunchOptions{})
	require.NoError(t, err)
	d.Terminate(res.VatIDs["alice"])
	require.Equal(t, []kernel.VatID{res.VatIDs["alice"]}, d.Stopped)
	d.RunUntilQuiescent(0)
	require.Equal(t, []kernel.VatID{res.VatIDs["alice"], res.VatIDs["bob"]}, d.Stopped)
	require.ErrorIs(t, d.ResultErr(res.BootstrapKPID), kernel.ErrObjectDeleted)
	require.Empty(t, d.Store.SubclusterIDs())
	info, _ := d.K.Vat(res.VatIDs["bob"])
	require.False(t, info.Active, "bob went with the failed launch")
}

// A launch naming a service that is not registered is refused before
// anything is recorded.
func TestLaunchRefusesUnknownService(t *testing.T) {
	d := kt.New(t)
	cfg := kernel.ClusterConfig{Bootstrap: "alice", Services: []string{"clock"},
		Vats: map[string]kernel.VatConfig{"alice": {Bundle: "fake"}}}
	_, _, err := d.K.Launch(d.Ctx, d, cfg, kernel.LaunchOptions{})
	require.ErrorIs(t, err, kernel.ErrBadConfig)
	require.ErrorContains(t, err, `"clock"`)
	require.Empty(t, d.Store.VatIDs())
}

// A bootstrap vat under the restart policy that fails its bootstrap is not
// restarted: the consumed bootstrap's rejection terminated its subcluster.
func TestFailedBootstrapUnderRestartPolicyEndsTheLaunch(t *testing.T) {
	d := kt.New(t)
	cfg := kernel.ClusterConfig{Bootstrap: "alice", Vats: map[string]kernel.VatConfig{
		"alice": {Bundle: "fake", FailurePolicy: kernel.PolicyRestart}, "bob": {Bundle: "fake"}}}
	res, _, err := d.K.Launch(d.Ctx, d, cfg, kernel.LaunchOptions{})
	require.NoError(t, err)
	d.Vat("alice").OnMethod["bootstrap"] = func(c *kt.Call) error { panic("boom") }
	r := d.Crank()
	require.Equal(t, kernel.Aborted, r.Outcome)
	require.Empty(t, r.Restart, "nothing to restart")
	require.ElementsMatch(t, []kernel.VatID{res.VatIDs["alice"], res.VatIDs["bob"]}, r.Terminated)
	require.ErrorIs(t, d.ResultErr(res.BootstrapKPID), kernel.ErrInternalError)
	require.Empty(t, d.Store.SubclusterIDs())
}
