//go:build jsvat

package jsvat_test

import (
	"context"
	"errors"
	"math"
	"math/big"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/jsvat"
	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/marshal"
)

func pingPongCluster(t testing.TB) kernel.ClusterConfig {
	return kernel.ClusterConfig{Bootstrap: "alice", Vats: map[string]kernel.VatConfig{
		"alice": {BundleSpec: bundleOf(t, "pingpong.js"), Parameters: map[string]any{"name": "alice", "peer": "bob"}},
		"bob":   {BundleSpec: "file://" + bundleOf(t, "pingpong.js"), Parameters: map[string]any{"name": "bob", "peer": "alice"}},
	}}
}

// Two JavaScript vats play ping-pong through the kernel. Once the kernel
// and the runtime are stopped, nothing of them is left running.
func TestJSPingPong(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) }) // runs last
	ctx := context.Background()
	rt := newRuntime(t, jsvat.Options{})
	k := startKernel(t, actors.Config{JS: rt})
	res, err := k.LaunchSubcluster(ctx, pingPongCluster(t))
	require.NoError(t, err)
	require.Equal(t, "alice ready", res.BootstrapResult)
	require.Len(t, rt.PIDs(), 2, "one worker a vat: the one started ahead for bob was used, none is left over")
	v, err := k.QueueMessage(ctx, res.RootKref, "run", 20)
	require.NoError(t, err)
	require.Equal(t, int64(20), v)
	inc, err := k.PingVat(ctx, res.VatIDs["bob"])
	require.NoError(t, err, "the worker answers a ping")
	require.Equal(t, int64(0), inc)
}

// Promise pipelining between JavaScript vats: alice sends to the result
// of a message to bob before bob has answered it.
func TestJSPromisePipelining(t *testing.T) {
	ctx := context.Background()
	k := startKernel(t, actors.Config{})
	res, err := k.LaunchSubcluster(ctx, pingPongCluster(t))
	require.NoError(t, err)
	v, err := k.QueueMessage(ctx, res.RootKref, "pipelined", 41)
	require.NoError(t, err)
	require.Equal(t, int64(42), v)
}

func mixedCluster(t testing.TB) kernel.ClusterConfig {
	return kernel.ClusterConfig{Bootstrap: "jsalice", Vats: map[string]kernel.VatConfig{
		"jsalice": {BundleSpec: testdata(t, "mixed.js")},
		"gobob":   {Bundle: "gobob"},
	}}
}

// A Go vat and a JavaScript vat send to each other and pass objects and
// promises both ways.
func TestMixedGoAndJS(t *testing.T) {
	ctx := context.Background()
	k := startKernel(t, actors.Config{})
	res, err := k.LaunchSubcluster(ctx, mixedCluster(t))
	require.NoError(t, err)
	js, gobob := res.RootKref, res.Roots["gobob"]

	// A JavaScript object in the Go vat, called from Go.
	v, err := k.QueueMessage(ctx, js, "giveObject")
	require.NoError(t, err)
	require.Equal(t, "kept", v)
	v, err = k.QueueMessage(ctx, gobob, "useKept")
	require.NoError(t, err)
	require.Equal(t, "a thing from JavaScript", v)

	// A Go object in the JavaScript vat, called from JavaScript.
	v, err = k.QueueMessage(ctx, js, "useGoObject")
	require.NoError(t, err)
	require.Equal(t, "a thing from Go", v)

	// A promise JavaScript decides, awaited by Go (parked in Await across
	// the two host requests), and settled later.
	v, err = k.QueueMessage(ctx, js, "givePromise")
	require.NoError(t, err)
	require.Equal(t, "given", v)
	v, err = k.QueueMessage(ctx, js, "settle", 41)
	require.NoError(t, err)
	require.Equal(t, int64(42), v, "Go's answer, once the promise settled")

	// A promise Go decides, awaited by JavaScript.
	v, err = k.QueueMessage(ctx, gobob, "askDouble", js)
	require.NoError(t, err)
	require.Equal(t, int64(42), v)
}

// importOf finds the kref of the one object of owner's that vat imports
// (other than owner's root).
func importOf(t *testing.T, k *actors.Kernel, vat kernel.VatID, ownerRoot kernel.KRef) string {
	t.Helper()
	var found []string
	for kref, vref := range clist(t, k, vat) {
		if strings.HasPrefix(vref, "o-") && kref != string(ownerRoot) {
			found = append(found, kref)
		}
	}
	require.Len(t, found, 1, "imports of %s: %v", vat, clist(t, k, vat))
	return found[0]
}

// Garbage collection across the two: an object one side forgets, at its
// next reap, is dropped and retired by the other and leaves the kernel.
func TestMixedGC(t *testing.T) {
	ctx := context.Background()
	k := startKernel(t, actors.Config{})
	res, err := k.LaunchSubcluster(ctx, mixedCluster(t))
	require.NoError(t, err)
	js, gobob := res.RootKref, res.Roots["gobob"]
	jsID, goID := res.VatIDs["jsalice"], res.VatIDs["gobob"]

	t.Run("JavaScript drops a Go object", func(t *testing.T) {
		_, err := k.QueueMessage(ctx, js, "useGoObject")
		require.NoError(t, err)
		kref := importOf(t, k, jsID, gobob)
		require.Contains(t, clist(t, k, goID), kref, "exported by the Go vat")
		_, err = k.QueueMessage(ctx, js, "forget")
		require.NoError(t, err)
		require.NoError(t, k.ScheduleReap(ctx, jsID))
		require.NoError(t, k.WaitIdle(ctx))
		require.NotContains(t, clist(t, k, jsID), kref, "dropped by liveslots at bringOutYourDead")
		require.NotContains(t, clist(t, k, goID), kref, "retired by the Go vat")
		require.False(t, objectExists(t, k, kref))
	})
	t.Run("Go drops a JavaScript object", func(t *testing.T) {
		_, err := k.QueueMessage(ctx, js, "giveObject")
		require.NoError(t, err)
		kref := importOf(t, k, goID, js)
		require.Contains(t, clist(t, k, jsID), kref, "exported by the JavaScript vat")
		_, err = k.QueueMessage(ctx, gobob, "forgetKept")
		require.NoError(t, err)
		require.NoError(t, k.ScheduleReap(ctx, goID))
		require.NoError(t, k.WaitIdle(ctx))
		require.NotContains(t, clist(t, k, goID), kref)
		require.NotContains(t, clist(t, k, jsID), kref, "retired by liveslots")
		require.False(t, objectExists(t, k, kref))
	})
}

// Durable kinds and baggage survive a restart, an upgrade (which
// re-defines the kind with a new method) and a kernel restart on the same
// file; an upgrade that does not re-define the kind fails and leaves the
// vat on its old code.
func TestDurableAcrossRestartUpgradeAndResume(t *testing.T) {
	ctx := context.Background()
	path := t.TempDir() + "/k.db"
	rt := newRuntime(t, jsvat.Options{})
	k, err := actors.Start(ctx, actors.Config{DBPath: path, Registry: goRegistry(), JS: rt})
	require.NoError(t, err)
	res, err := k.LaunchSubcluster(ctx, kernel.ClusterConfig{Bootstrap: "counter", Vats: map[string]kernel.VatConfig{
		"counter": {BundleSpec: bundleOf(t, "durable-v1.js")},
	}})
	require.NoError(t, err)
	id := res.VatIDs["counter"]
	call := func(target kernel.KRef, method string, args ...any) any {
		t.Helper()
		v, err := k.QueueMessage(ctx, target, method, args...)
		require.NoError(t, err)
		return v
	}
	main := call(res.RootKref, "main").(kernel.KRef)
	for range 3 {
		call(main, "incr")
	}
	other := call(res.RootKref, "make", 10).(kernel.KRef)

	require.NoError(t, k.RestartVat(ctx, id))
	require.Equal(t, int64(3), call(main, "read"), "the durable object kept its state and its kref")
	require.Equal(t, int64(11), call(other, "incr"))

	require.NoError(t, k.UpgradeJSVat(ctx, id, bundleOf(t, "durable-v2.js"), nil))
	require.Equal(t, int64(2), call(res.RootKref, "version"))
	require.Equal(t, int64(6), call(main, "double"), "the new method, on the old object")

	err = k.UpgradeJSVat(ctx, id, bundleOf(t, "durable-broken.js"), nil)
	require.ErrorContains(t, err, "keeps its old code")
	require.Equal(t, int64(2), call(res.RootKref, "version"), "still version 2")
	require.ErrorContains(t, k.UpgradeVat(ctx, id, "gobob"), "is a JavaScript vat", "no Go code for a JavaScript vat")

	require.NoError(t, k.Stop(ctx))
	k, err = actors.Start(ctx, actors.Config{DBPath: path, Registry: goRegistry(), JS: rt})
	require.NoError(t, err)
	defer k.Stop(ctx)
	require.Equal(t, int64(6), call(main, "read"), "after the kernel restarted on its file")
	require.Equal(t, int64(2), call(res.RootKref, "version"))
}

func pidGone(pid int) bool { return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) }

// A JavaScript vat that spins is killed at its delivery deadline: its
// process is gone, its caller is told, and the kernel goes on.
func TestSpinningVatKilledAtDeadline(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t, jsvat.Options{})
	k := startKernel(t, actors.Config{JS: rt, DeliveryDeadline: 5 * time.Second})
	res, err := k.LaunchSubcluster(ctx, kernel.ClusterConfig{Bootstrap: "alice", Vats: map[string]kernel.VatConfig{
		// Bundled beforehand: the deadline bounds every delivery, startVat
		// too, and bundling a .js file at start takes seconds on a loaded
		// machine.
		"alice": {BundleSpec: bundleOf(t, "pingpong.js"), Parameters: map[string]any{"peer": "bob"}},
		"bob":   {BundleSpec: bundleOf(t, "pingpong.js"), Parameters: map[string]any{"peer": "alice"}},
		"spin":  {BundleSpec: bundleOf(t, "echo.js")},
	}})
	require.NoError(t, err)
	before := rt.PIDs()
	require.Len(t, before, 3)
	began := time.Now()
	_, err = k.QueueMessage(ctx, res.Roots["spin"], "spin")
	require.Error(t, err)
	require.ErrorIs(t, err, kernel.ErrInternalError, "a vat fault: %v", err)
	t.Logf("the spinning vat's caller was answered after %v", time.Since(began).Round(time.Millisecond))
	// The kill starts as the pump gives up, beside the crank's abort
	// (the kernel never waits on a vat), so the answer may come first.
	eventually(t, func() bool { return len(rt.PIDs()) == 2 }, "the spinning worker is reaped")
	after := rt.PIDs()
	for _, pid := range before {
		if !contains(after, pid) {
			require.True(t, pidGone(pid), "the spinning worker %d is dead and reaped", pid)
		}
	}
	v, err := k.QueueMessage(ctx, res.RootKref, "run", 5)
	require.NoError(t, err, "the other vats carry on")
	require.Equal(t, int64(5), v)
	_, err = k.PingVat(ctx, res.VatIDs["spin"])
	require.ErrorIs(t, err, actors.ErrVatNotRunning, "terminated (the default policy)")
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// The restart policy, for a JavaScript vat: a vat killed at its deadline
// is restarted from its vatstore and serves on.
func TestRestartPolicyForJSVat(t *testing.T) {
	ctx := context.Background()
	k := startKernel(t, actors.Config{DeliveryDeadline: 5 * time.Second})
	res, err := k.LaunchSubcluster(ctx, kernel.ClusterConfig{Bootstrap: "echo", Vats: map[string]kernel.VatConfig{
		"echo": {BundleSpec: testdata(t, "echo.js"), FailurePolicy: kernel.PolicyRestart,
			Restart: kernel.RestartLimits{Backoff: kernel.Duration(10 * time.Millisecond)}},
	}})
	require.NoError(t, err)
	for i := 1; i <= 2; i++ {
		v, err := k.QueueMessage(ctx, res.RootKref, "incr")
		require.NoError(t, err)
		require.Equal(t, int64(i), v)
	}
	_, err = k.QueueMessage(ctx, res.RootKref, "spin")
	require.ErrorIs(t, err, kernel.ErrInternalError)
	v, err := k.QueueMessage(ctx, res.RootKref, "incr")
	require.NoError(t, err)
	require.Equal(t, int64(3), v, "the count came back from the vatstore")
	inc, err := k.PingVat(ctx, res.VatIDs["echo"])
	require.NoError(t, err)
	require.Equal(t, int64(1), inc, "a new incarnation")
}

// A worker that dies mid-delivery fails the delivery; the crank rolls
// back (the syscall it made before dying is undone) and the vat is
// terminated, while the kernel goes on.
func TestWorkerDeathRollsBackTheCrank(t *testing.T) {
	ctx := context.Background()
	hostile := newRuntime(t, jsvat.Options{Command: []string{"node", testdata(t, "hostile-worker.mjs"), "exit"}})
	k := startKernel(t, actors.Config{JS: hostile})
	res, err := k.LaunchSubcluster(ctx, kernel.ClusterConfig{Bootstrap: "gobob", Vats: map[string]kernel.VatConfig{
		"gobob":   {Bundle: "gobob"},
		"hostile": {BundleSpec: testdata(t, "echo.js")},
	}})
	require.NoError(t, err)
	// The hostile worker resolves the message's result to "hi", then
	// exits: had the crank kept that syscall, the host would get "hi".
	_, err = k.QueueMessage(ctx, res.Roots["hostile"], "hello")
	require.ErrorIs(t, err, kernel.ErrInternalError)
	log, err := k.VatLog(ctx, res.VatIDs["hostile"])
	require.NoError(t, err)
	require.NotEmpty(t, log)
	require.Contains(t, log[len(log)-1].Reason, "the worker process exited")
	require.Contains(t, log[len(log)-1].Reason, "exit status 7")
	v, err := k.QueueMessage(ctx, res.RootKref, "ping", 1)
	require.NoError(t, err, "the kernel goes on")
	require.Equal(t, int64(2), v)
	require.Empty(t, hostile.PIDs())
}

// Globals: one from the allow-list is given; an unknown one is refused at
// launch, naming it, and nothing is launched.
func TestGlobals(t *testing.T) {
	ctx := context.Background()
	k := startKernel(t, actors.Config{})
	_, err := k.LaunchSubcluster(ctx, kernel.ClusterConfig{Bootstrap: "a", Vats: map[string]kernel.VatConfig{
		"a": {BundleSpec: testdata(t, "echo.js"), Globals: []string{"TextEncoder", "fetchEverything"}},
	}})
	require.ErrorIs(t, err, kernel.ErrBadConfig)
	require.ErrorContains(t, err, `vats.a.globals[1]: unknown global "fetchEverything"`)
	st, err := k.Status(ctx)
	require.NoError(t, err)
	require.Empty(t, st.Vats)

	res, err := k.LaunchSubcluster(ctx, kernel.ClusterConfig{Bootstrap: "a", Vats: map[string]kernel.VatConfig{
		"a": {BundleSpec: testdata(t, "globals.js"), Globals: []string{"Date", "URL"}},
	}})
	require.NoError(t, err)
	v, err := k.QueueMessage(ctx, res.RootKref, "probe")
	require.NoError(t, err)
	require.Equal(t, map[string]any{
		"Date": "function", "URL": "function", "atob": "undefined", "setTimeout": "undefined",
		// TextDecoder is one of SES's own intrinsics, in every compartment.
		"TextDecoder": "function",
		"process":     "undefined", "require": "undefined", "fetch": "undefined", "now": true,
	}, v)
}

// A vat's console output reaches the kernel's log, tagged with the vat.
func TestConsoleReachesKernelLog(t *testing.T) {
	ctx := context.Background()
	logs := &logBuffer{}
	k := startKernel(t, actors.Config{Logger: zerologTo(logs)})
	res, err := k.LaunchSubcluster(ctx, kernel.ClusterConfig{Bootstrap: "echo", Vats: map[string]kernel.VatConfig{
		"echo": {BundleSpec: testdata(t, "echo.js"), Parameters: map[string]any{"name": "carol"}},
	}})
	require.NoError(t, err)
	_, err = k.QueueMessage(ctx, res.RootKref, "hello", "dave")
	require.NoError(t, err)
	lines := logs.entries(map[string]any{"vat": string(res.VatIDs["echo"]), "message": "carol: hello from dave"})
	require.Len(t, lines, 1, "logged once, with the vat's id")
	require.Equal(t, "vat", lines[0]["source"])
	require.Equal(t, "info", lines[0]["level"])
}

// Without Node, a JavaScript vat's launch is refused saying what to
// install; without a runtime, saying what to configure.
func TestLaunchWithoutNode(t *testing.T) {
	ctx := context.Background()
	rt, err := jsvat.NewRuntime(jsvat.Options{Node: "/nonexistent/bin/node"})
	require.NoError(t, err)
	defer rt.Close()
	k := startKernel(t, actors.Config{JS: rt})
	cfg := kernel.ClusterConfig{Bootstrap: "echo", Vats: map[string]kernel.VatConfig{
		"echo": {BundleSpec: testdata(t, "echo.js")},
	}}
	_, err = k.LaunchSubcluster(ctx, cfg)
	require.ErrorIs(t, err, jsvat.ErrNoNode)
	require.ErrorContains(t, err, "vats.echo")
	require.ErrorContains(t, err, "install it")

	k2, err := actors.Start(ctx, actors.Config{Registry: goRegistry()})
	require.NoError(t, err)
	defer k2.Stop(ctx)
	_, err = k2.LaunchSubcluster(ctx, cfg)
	require.ErrorIs(t, err, actors.ErrNoJSRuntime)
	require.ErrorIs(t, err, kernel.ErrBadConfig)
}

func zerologTo(l *logBuffer) zerolog.Logger { return zerolog.New(l).Level(zerolog.InfoLevel) }

// The kernel's smallcaps codec and liveslots' agree: values the host
// encodes come back from a JavaScript vat unchanged, values JavaScript
// makes decode to the Go mapping, and errors cross both ways as name and
// message.
func TestValuesCrossBothWays(t *testing.T) {
	ctx := context.Background()
	k := startKernel(t, actors.Config{})
	res, err := k.LaunchSubcluster(ctx, kernel.ClusterConfig{Bootstrap: "values", Vats: map[string]kernel.VatConfig{
		"values": {BundleSpec: testdata(t, "values.js")},
	}})
	require.NoError(t, err)
	root := res.RootKref
	big70 := new(big.Int).Lsh(big.NewInt(1), 70)
	for _, v := range []any{
		nil, true, int64(7), -0.25, math.Inf(1), "!bang", "#hash", "$dollar", "&amp", "plain",
		big70, marshal.Undefined, marshal.Symbol("registered"),
		[]any{int64(1), "a", []any{}}, map[string]any{"z": int64(1), "a": "x", "nested": map[string]any{}},
	} {
		got, err := k.QueueMessage(ctx, root, "echo", v)
		require.NoError(t, err, "%v", v)
		require.Equal(t, v, got, "%#v", v)
	}
	got, err := k.QueueMessage(ctx, root, "echo", math.NaN())
	require.NoError(t, err)
	require.True(t, math.IsNaN(got.(float64)))

	made, err := k.QueueMessage(ctx, root, "make")
	require.NoError(t, err)
	m := made.(map[string]any)
	require.True(t, math.IsNaN(m["nan"].(float64)))
	delete(m, "nan")
	require.Equal(t, map[string]any{
		"null": nil, "t": true, "n": -1.5, "inf": math.Inf(-1), "big": big70, "negbig": new(big.Int).Neg(big70),
		"undef": marshal.Undefined, "bang": "!bang", "hash": "#hash",
		"list": []any{int64(1), "two", []any{int64(3)}}, "rec": map[string]any{"a": int64(2), "b": int64(1)},
		"sym": marshal.Symbol("registered"),
	}, m)

	_, err = k.QueueMessage(ctx, root, "throwError")
	var re *kernel.RejectionError
	require.True(t, errors.As(err, &re), "%v", err)
	require.Equal(t, "thrown from JavaScript", re.Message)
	require.Equal(t, "TypeError", re.Name)

	// An error the host sends arrives as an Error, and goes back as one.
	v, err := k.QueueMessage(ctx, root, "typeOf", &marshal.Error{Name: "RangeError", Message: "from Go"})
	require.NoError(t, err)
	require.Equal(t, "Error RangeError: from Go", v)
	_, err = k.QueueMessage(ctx, root, "rejectWith", &marshal.Error{Name: "RangeError", Message: "round trip"})
	require.True(t, errors.As(err, &re), "%v", err)
	require.Equal(t, "round trip", re.Message)
}

// A warm worker is started ahead of need and used by the next launch (a
// replacement is then started); stopping the kernel kills its vats'
// workers and closing the runtime the warm one.
func TestWarmWorkerAndStop(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t, jsvat.Options{Warm: 1})
	eventually(t, func() bool { return len(rt.PIDs()) == 1 }, "a warm worker is up")
	warm := rt.PIDs()[0]
	k, err := actors.Start(ctx, actors.Config{Registry: goRegistry(), JS: rt})
	require.NoError(t, err)
	res, err := k.LaunchSubcluster(ctx, kernel.ClusterConfig{Bootstrap: "echo", Vats: map[string]kernel.VatConfig{
		"echo": {BundleSpec: testdata(t, "echo.js")},
	}})
	require.NoError(t, err)
	v, err := k.QueueMessage(ctx, res.RootKref, "hello", "warm")
	require.NoError(t, err)
	require.Equal(t, "hello warm, from echo", v)
	eventually(t, func() bool { return len(rt.PIDs()) == 2 }, "a replacement warm worker is up")
	require.Contains(t, rt.PIDs(), warm, "the warm worker runs the vat")

	require.NoError(t, k.Stop(ctx))
	eventually(t, func() bool { return !contains(rt.PIDs(), warm) }, "the vat's worker is reaped")
	require.True(t, pidGone(warm), "stopping the kernel killed the vat's worker")
	left := rt.PIDs()
	require.Len(t, left, 1, "the warm one is the runtime's")
	require.NoError(t, rt.Close())
	require.True(t, pidGone(left[0]), "closing the runtime killed the warm one")
	require.Empty(t, rt.PIDs())
}

// WarmOnUse keeps no worker until a vat takes one, then one: a kernel of
// Go vats never starts Node, and one that runs JavaScript vats launches
// the next without the process start.
func TestWarmOnUse(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t, jsvat.Options{WarmOnUse: 1})
	k, err := actors.Start(ctx, actors.Config{Registry: goRegistry(), JS: rt})
	require.NoError(t, err)
	t.Cleanup(func() { _ = k.Stop(ctx) })
	// A Go vat's launch starts no worker.
	_, err = k.LaunchSubcluster(ctx, kernel.ClusterConfig{Bootstrap: "bob", Vats: map[string]kernel.VatConfig{
		"bob": {Bundle: "gobob"},
	}})
	require.NoError(t, err)
	require.Empty(t, rt.PIDs(), "no JavaScript vat yet: no worker")

	echo := kernel.ClusterConfig{Bootstrap: "echo", Vats: map[string]kernel.VatConfig{
		"echo": {BundleSpec: testdata(t, "echo.js")},
	}}
	first, err := k.LaunchSubcluster(ctx, echo)
	require.NoError(t, err)
	eventually(t, func() bool { return len(rt.PIDs()) == 2 }, "the vat's worker and one warm one")
	running := rt.PIDs()

	// The next launch takes the warm worker, and a replacement starts.
	second, err := k.LaunchSubcluster(ctx, echo)
	require.NoError(t, err)
	v, err := k.QueueMessage(ctx, second.RootKref, "hello", "again")
	require.NoError(t, err)
	require.Equal(t, "hello again, from echo", v)
	eventually(t, func() bool { return len(rt.PIDs()) == 3 }, "two vats' workers and one warm one")
	for _, p := range running {
		require.Contains(t, rt.PIDs(), p, "the warm worker became the second vat's")
	}

	// Vats gone, one warm worker stays: the kernel has run JavaScript vats.
	require.NoError(t, k.TerminateSubcluster(ctx, first.SubclusterID))
	require.NoError(t, k.TerminateSubcluster(ctx, second.SubclusterID))
	eventually(t, func() bool { return len(rt.PIDs()) == 1 }, "only the warm worker is left")
}
