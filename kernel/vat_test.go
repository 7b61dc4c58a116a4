package kernel_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/kernel"
	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/persistence/sqlitestore"
)

// Invariant 9: terminating a vat rejects every promise it decides with
// VAT_TERMINATED (so its subscribers and the host hear, and messages queued
// on them splat), later sends to its objects splat with OBJECT_DELETED, and
// nothing it owned leaks (the driver audits after every step).
func TestTerminateVat(t *testing.T) {
	d := kt.New(t)
	res := d.Launch("alice", "alice", "bob")
	alice, bob := d.Vat("alice"), d.Vat("bob")
	bobID := res.VatIDs["bob"]

	// bob keeps two promises undecided: one the host awaits, one alice
	// awaits and pipelines a message on. He also gives alice an object and
	// imports one of alice's.
	bob.OnMethod["later"] = func(c *kt.Call) error { return nil }
	var fromBob kernel.VRef
	alice.OnMethod["go"] = func(c *kt.Call) error {
		p := c.Send(c.Slot(0), "later")
		c.Subscribe(p)
		c.Subscribe(c.Send(p, "pipelined"))
		c.Subscribe(c.Send(c.Slot(0), "give", c.NewExport(false)))
		c.Fulfill(c.Result(), kt.Undefined)
		return nil
	}
	bob.OnMethod["give"] = func(c *kt.Call) error {
		c.Fulfill(c.Result(), kt.Ref(string(c.NewExport(false))))
		return nil
	}
	alice.OnMethod["poke"] = func(c *kt.Call) error {
		c.Subscribe(c.Send(fromBob, "anyone?"))
		c.Fulfill(c.Result(), kt.Undefined)
		return nil
	}
	hostP := d.Send(res.Roots["bob"], "later")
	d.Send(res.Roots["alice"], "go", res.Roots["bob"])
	d.RunUntilQuiescent(0)
	_, done := d.Result(hostP)
	require.False(t, done)
	decided := 0
	for _, kp := range d.Store.PromiseKPIDs() {
		if p, _ := d.Store.Promise(kp); p.Decider == string(bobID) {
			decided++
		}
	}
	require.Equal(t, 2, decided, "bob decides two promises")
	for _, dv := range alice.Deliveries { // give's answer: bob's object
		for _, r := range dv.Resolutions {
			if len(r.Data.Slots) == 1 {
				fromBob = kernel.VRef(r.Data.Slots[0])
			}
		}
	}
	require.NotEmpty(t, fromBob, "alice got an object from bob")

	d.Terminate(bobID)
	require.ErrorIs(t, d.ResultErr(hostP), kernel.ErrVatTerminated)
	require.Equal(t, "(empty)\n", kernel.DescribeCList(d.Store, bobID))
	d.RunUntilQuiescent(0)

	var rejections []error
	for _, dv := range alice.Deliveries {
		for _, r := range dv.Resolutions {
			if r.Rejected {
				rejections = append(rejections, kernel.ErrorFromRejection(r.Data))
			}
		}
	}
	require.Len(t, rejections, 2, "alice hears of her send to bob and of the message pipelined on it")
	require.ErrorIs(t, rejections[0], kernel.ErrVatTerminated)
	require.ErrorIs(t, rejections[1], kernel.ErrVatTerminated, "the pipelined message splats with the same rejection")

	// Sends to bob's root and to the object alice got from him splat.
	p := d.Send(res.Roots["bob"], "anyone?")
	d.RunUntilQuiescent(0)
	require.ErrorIs(t, d.ResultErr(p), kernel.ErrObjectDeleted, "alice still imports bob's root, so it lingers orphaned")
	seen := len(alice.Deliveries)
	d.Send(res.Roots["alice"], "poke")
	d.RunUntilQuiescent(0)
	var fromGift []error
	for _, dv := range alice.Deliveries[seen:] {
		for _, r := range dv.Resolutions {
			fromGift = append(fromGift, kernel.ErrorFromRejection(r.Data))
		}
	}
	require.Len(t, fromGift, 1, "alice hears back from her send to bob's object")
	require.ErrorIs(t, fromGift[0], kernel.ErrObjectDeleted)
	for _, kp := range d.Store.PromiseKPIDs() {
		pr, _ := d.Store.Promise(kp)
		require.NotEqual(t, string(bobID), pr.Decider)
	}
	for _, ko := range d.Store.ObjectKRefs() {
		o, _ := d.Store.Object(ko)
		require.NotEqual(t, string(bobID), o.Owner)
	}
	_, err := d.K.TerminateVat(d.Ctx, bobID, "again")
	require.ErrorIs(t, err, kernel.ErrVatNotActive)
	_, err = d.K.TerminateVat(d.Ctx, "v99", "nobody")
	require.ErrorIs(t, err, kernel.ErrUnknownVat)
}

func TestLaunchValidation(t *testing.T) {
	tests := []struct {
		name string
		cfg  kernel.ClusterConfig
		want string
	}{
		{"no vats", kernel.ClusterConfig{Bootstrap: "a"}, "vats: at least one"},
		{"no bootstrap", kernel.ClusterConfig{Vats: map[string]kernel.VatConfig{"a": {Bundle: "b"}}}, "bootstrap: missing"},
		{"unknown bootstrap", kernel.ClusterConfig{Bootstrap: "x", Vats: map[string]kernel.VatConfig{"a": {Bundle: "b"}}}, `invalid bootstrap vat name "x"`},
		{"no bundle", kernel.ClusterConfig{Bootstrap: "a", Vats: map[string]kernel.VatConfig{"a": {}}}, "vats.a.bundle: missing"},
		{"bad policy", kernel.ClusterConfig{Bootstrap: "a", Vats: map[string]kernel.VatConfig{"a": {Bundle: "b", FailurePolicy: "pray"}}}, "vats.a.failurePolicy"},
		{"bad parameters", kernel.ClusterConfig{Bootstrap: "a", Vats: map[string]kernel.VatConfig{"a": {Bundle: "b", Parameters: map[string]any{"f": func() {}}}}}, "vats.a.parameters"},
		{"bundle and bundleSpec", kernel.ClusterConfig{Bootstrap: "a", Vats: map[string]kernel.VatConfig{"a": {Bundle: "b", BundleSpec: "a.js"}}}, "vats.a.bundleSpec: set together with bundle"},
		{"globals of a Go vat", kernel.ClusterConfig{Bootstrap: "a", Vats: map[string]kernel.VatConfig{"a": {Bundle: "b", Globals: []string{"Date"}}}}, "vats.a.globals: only a JavaScript vat"},
		{"bundleSpec over http", kernel.ClusterConfig{Bootstrap: "a", Vats: map[string]kernel.VatConfig{"a": {BundleSpec: "http://x/a.js"}}}, "vats.a.bundleSpec: \"http://x/a.js\": want a file path or a file:// URL"},
		{"empty global", kernel.ClusterConfig{Bootstrap: "a", Vats: map[string]kernel.VatConfig{"a": {BundleSpec: "a.js", Globals: []string{"Date", ""}}}}, "vats.a.globals[1]: empty name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := kt.New(t)
			_, _, err := d.K.Launch(d.Ctx, d, tt.cfg, kernel.LaunchOptions{})
			require.ErrorIs(t, err, kernel.ErrBadConfig)
			require.ErrorContains(t, err, tt.want)
			require.Empty(t, d.Store.SubclusterIDs(), "nothing is recorded")
			require.Empty(t, d.Store.VatIDs())
		})
	}
}

func TestLaunchRecordsVatsAndRoots(t *testing.T) {
	d := kt.New(t)
	res := d.Launch("alice", "carol", "alice", "bob")
	require.Equal(t, kernel.SubclusterID("s1"), res.SubclusterID)
	// Vats are numbered in name order, whatever order the config lists.
	require.Equal(t, map[string]kernel.VatID{"alice": "v1", "bob": "v2", "carol": "v3"}, res.VatIDs)
	require.Equal(t, res.Roots["alice"], res.RootKref)
	for name, id := range res.VatIDs {
		info, err := d.K.Vat(id)
		require.NoError(t, err)
		require.Equal(t, name, info.Name)
		require.True(t, info.Active)
		require.Equal(t, res.Roots[name], info.Root)
		require.Equal(t, 1, d.Vat(name).Started)
	}
	res2 := d.Launch("x", "x")
	require.Equal(t, kernel.SubclusterID("s2"), res2.SubclusterID)
	require.Equal(t, kernel.VatID("v4"), res2.VatIDs["x"])
}

// Revocation is permanent, idempotent, and refused for promises and
// unknown krefs (scenario 13).
func TestRevoke(t *testing.T) {
	d := kt.New(t)
	res := d.Launch("alice", "alice")
	root := res.Roots["alice"]
	for i := 0; i < 2; i++ {
		_, err := d.K.Revoke(d.Ctx, root)
		require.NoError(t, err)
	}
	revoked, err := d.K.IsRevoked(root)
	require.NoError(t, err)
	require.True(t, revoked)
	var ps []kernel.KRef
	for i := 0; i < 5; i++ {
		ps = append(ps, d.Send(root, "getValue"))
	}
	d.RunUntilQuiescent(0)
	for _, p := range ps {
		require.ErrorIs(t, d.ResultErr(p), kernel.ErrObjectRevoked)
	}
	_, err = d.K.Revoke(d.Ctx, "kp1")
	require.ErrorIs(t, err, kernel.ErrPromiseNotRevocable)
	_, err = d.K.Revoke(d.Ctx, "ko999")
	require.ErrorIs(t, err, kernel.ErrUnknownRef)
	_, err = d.K.Revoke(d.Ctx, "bogus")
	require.ErrorIs(t, err, kernel.ErrBadRef)
}

// Malformed and unknown krefs are refused at once and leave nothing behind
// (scenario 14; the reference leaks a promise here).
func TestQueueMessageValidation(t *testing.T) {
	d := kt.New(t)
	res := d.Launch("alice", "alice")
	tests := []struct {
		target kernel.KRef
		slots  []string
		want   error
	}{
		{"invalid-kref", nil, kernel.ErrBadRef},
		{"", nil, kernel.ErrBadRef},
		{"ko999", nil, kernel.ErrUnknownRef},
		{"kp999", nil, kernel.ErrUnknownRef},
		{res.RootKref, []string{"o+1"}, kernel.ErrBadRef},
		{res.RootKref, []string{"ko999"}, kernel.ErrUnknownRef},
	}
	for _, tt := range tests {
		_, _, err := d.K.QueueMessage(d.Ctx, tt.target, kt.Methargs("x", toVRefs(tt.slots)...))
		require.ErrorIs(t, err, tt.want, "target %q slots %v", tt.target, tt.slots)
	}
	require.Equal(t, 0, d.Store.PromiseCount())
	require.Equal(t, 0, d.Store.QueueLen())
	p := d.Send(res.RootKref, "still works")
	d.RunUntilQuiescent(0)
	require.NoError(t, d.ResultErr(p))
}

func toVRefs(xs []string) []kernel.VRef {
	out := make([]kernel.VRef, len(xs))
	for i, x := range xs {
		out[i] = kernel.VRef(x)
	}
	return out
}

// Closing and reopening a file store gives the same state, and the kernel
// resumes where it stopped: a queued item is delivered once.
func TestReopenResumes(t *testing.T) {
	ctx := context.Background()
	path := t.TempDir() + "/k.db"
	d := kt.NewWithOptions(t, path, persistence.Options{})
	res := d.Launch("alice", "alice", "bob")
	d.Send(res.Roots["bob"], "one")
	d.RunUntilQuiescent(0)
	p := d.Send(res.Roots["bob"], "two")
	before := kernel.DescribeState(d.Store)
	require.NoError(t, d.Store.Close(ctx))

	st, err := sqlitestore.Open(ctx, path, persistence.Options{})
	require.NoError(t, err)
	defer st.Close(ctx)
	require.Equal(t, before, kernel.DescribeState(st))
	d2 := kt.NewWithStore(t, st)
	for id, v := range d.Vats {
		d2.Vats[id] = &kt.FakeVat{ID: id, Name: v.Name, OnMethod: map[string]kt.Handler{}}
	}
	d2.AuditNow("reopen")
	cranks := d2.RunUntilQuiescent(0)
	require.Len(t, cranks, 1)
	require.Len(t, d2.Vat("bob").Deliveries, 1, "the queued item is delivered once")
	// The settlement is still released (a runtime with no waiter drops it),
	// which lets the promise go.
	require.NoError(t, d2.ResultErr(p))
	_, ok := st.Promise(string(p))
	require.False(t, ok)
}

// Restarting a vat starts a new incarnation from durable state: its
// vatstore and c-list stay, the promises the old incarnation decided are
// rejected, and a failed start terminates the vat.
func TestRestartVat(t *testing.T) {
	d := kt.New(t)
	res := d.Launch("alice", "alice", "bob")
	bobID := res.VatIDs["bob"]
	bob := d.Vat("bob")
	bob.OnMethod["later"] = func(c *kt.Call) error {
		c.Syscall(kernel.Syscall{Kind: kernel.SyscallVatstoreSet, Key: "durable", Value: "kept"})
		return nil // never answers
	}
	p := d.Send(res.Roots["bob"], "later")
	d.RunUntilQuiescent(0)

	d.Restart(bobID)
	require.Equal(t, 2, bob.Started)
	require.Equal(t, int64(1), bob.Deliveries[len(bob.Deliveries)-1].Incarnation)
	info, _ := d.K.Vat(bobID)
	require.Equal(t, int64(1), info.Incarnation)
	require.True(t, info.Active)
	require.Equal(t, res.Roots["bob"], info.Root, "the root survives")
	v, ok := d.Store.VatstoreGet(string(bobID), "durable")
	require.True(t, ok)
	require.Equal(t, "kept", v)
	err := d.ResultErr(p)
	require.ErrorIs(t, err, kernel.ErrVatTerminated, "the old incarnation's promise is rejected")
	require.Contains(t, err.Error(), "restarted")

	// The restarted vat serves.
	p2 := d.Send(res.Roots["bob"], "hello")
	d.RunUntilQuiescent(0)
	require.NoError(t, d.ResultErr(p2))

	// A start that fails terminates the vat and says why.
	bob.FailStart = errors.New("kind counter was not re-defined")
	_, err = d.K.RestartVat(d.Ctx, bobID, d, "again")
	require.ErrorIs(t, err, kernel.ErrVatFault)
	require.ErrorContains(t, err, "kind counter was not re-defined")
	info, _ = d.K.Vat(bobID)
	require.False(t, info.Active)
	require.Equal(t, int64(1), info.Incarnation, "the failed restart was undone before terminating")
	d.AuditNow("failed restart")
}

// cancelStart is a Deliverer whose startVat is cut short by the host's
// context ending mid-delivery, as a Stop with an ended context does.
type cancelStart struct {
	kernel.Deliverer
	cancel context.CancelFunc
}

func (c cancelStart) Deliver(ctx context.Context, vat kernel.VatID, d kernel.Delivery, sys kernel.Syscaller) error {
	if d.Kind == kernel.DeliverStartVat {
		c.cancel()
		return ctx.Err()
	}
	return c.Deliverer.Deliver(ctx, vat, d, sys)
}

// A restart whose start is cut short because the host's context ended is
// not the vat's failure: the unit rolls back and the vat lives on, in the
// incarnation it had, and a later restart goes through.
func TestRestartCutByTheHostKeepsTheVat(t *testing.T) {
	d := kt.New(t)
	res := d.Launch("alice", "alice", "bob")
	bobID := res.VatIDs["bob"]
	ctx, cancel := context.WithCancel(d.Ctx)
	_, err := d.K.RestartVat(ctx, bobID, cancelStart{Deliverer: d, cancel: cancel}, "stop")
	require.ErrorIs(t, err, context.Canceled)
	info, _ := d.K.Vat(bobID)
	require.True(t, info.Active, "a start the host cut short does not terminate the vat")
	require.Equal(t, int64(0), info.Incarnation, "the cut restart was rolled back")
	d.AuditNow("restart cut by the host")

	d.Restart(bobID)
	info, _ = d.K.Vat(bobID)
	require.Equal(t, int64(1), info.Incarnation)
	p := d.Send(res.Roots["bob"], "hello")
	d.RunUntilQuiescent(0)
	require.NoError(t, d.ResultErr(p))
}
