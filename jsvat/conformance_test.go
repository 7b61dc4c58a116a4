//go:build jsvat

package jsvat_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/jsvat"
	"github.com/ocapgo/kernel-actors/kernel"
)

// Conformance with the reference: the scenarios of ocap-kernel's
// kernel-test, run on this kernel with JavaScript vats written for them
// here (testdata/conformance), checked against the test logs the
// reference's tests expect, vat by vat.

// testLogs returns, in order, the messages of the test log of the vat
// named name (entries tagged "test" and name) among vats.
func testLogs(l *logBuffer, vats map[string]kernel.VatID, name string) []string {
	var out []string
	for _, e := range l.entries(map[string]any{"source": "vat"}) {
		tags, _ := e["tags"].([]any)
		if !slices.Contains(tags, any("test")) || !slices.Contains(tags, any(name)) {
			continue
		}
		if id, _ := e["vat"].(string); slices.Contains(slices.Collect(mapValues(vats)), kernel.VatID(id)) {
			out = append(out, e["message"].(string))
		}
	}
	return out
}

func mapValues(m map[string]kernel.VatID) func(func(kernel.VatID) bool) {
	return func(yield func(kernel.VatID) bool) {
		for _, v := range m {
			if !yield(v) {
				return
			}
		}
	}
}

// threeVats is the reference's test subcluster: Alice (bootstrap, running
// test), Bob and Carol, all of one bundle.
func threeVats(spec, test string) kernel.ClusterConfig {
	vat := func(name string) kernel.VatConfig {
		p := map[string]any{"name": name}
		if name == "Alice" {
			p["test"] = test
		}
		return kernel.VatConfig{BundleSpec: spec, Parameters: p}
	}
	return kernel.ClusterConfig{Bootstrap: "alice", Vats: map[string]kernel.VatConfig{
		"alice": vat("Alice"), "bob": vat("Bob"), "carol": vat("Carol"),
	}}
}

// The reference's "liveslots promise handling" family.
func TestConformanceLiveslotsPromises(t *testing.T) {
	ctx := context.Background()
	logs := &logBuffer{}
	k := startKernel(t, actors.Config{Logger: zerologTo(logs)})
	spec := bundleOf(t, "conformance/promises.js")
	tests := []struct {
		test       string
		result     any
		alice, bob []string
		carol      []string
	}{
		{"promiseArg1", "bobPSucc", []string{
			"running test promiseArg1", "sending the promise to Bob", "resolving the promise that was sent to Bob",
			"awaiting Bob's response", "Bob's response to hereIsAPromise: 'Bob.hereIsAPromise done'",
		}, []string{"the promise parameter resolved to 'Alice said hi after send'"}, nil},
		{"promiseArg2", "bobPSucc", []string{
			"running test promiseArg2", "resolving the promise that will be sent to Bob", "sending the promise to Bob",
			"awaiting Bob's response", "Bob's response to hereIsAPromise: 'Bob.hereIsAPromise done'",
		}, []string{"the promise parameter resolved to 'Alice said hi before send'"}, nil},
		{"promiseArg3", "bobPSucc", []string{
			"running test promiseArg3", "sending the promise to Bob", "awaiting Bob's response",
			"Bob's response to hereIsAPromise: 'Bob.hereIsAPromise done'", "resolving the promise that was sent to Bob",
		}, []string{"the promise parameter resolved to 'Alice said hi after Bob's reply'"}, nil},
		{"promiseChain", "end of chain", []string{
			"running test promiseChain", "waitFor start", "count 0 < 3, recurring...", "waitFor start",
			"count 1 < 3, recurring...", "waitFor start", "count 2 < 3, recurring...", "waitFor start", "finishing chain",
		}, []string{"bobGen set value to 1", "bobGen set value to 2", "bobGen set value to 3", "bobGen set value to 4"}, nil},
		{"promiseCycle", "done", []string{
			"running test promiseCycle", "isPromise(resolutionX[0]): true", "isPromise(resolutionY[0]): true",
		}, []string{"genPromise1", "genPromise2", "resolveBoth"}, nil},
		{"promiseCycleMultiCrank", "done", []string{
			"running test promiseCycleMultiCrank", "isPromise(resolutionX[0]): true", "isPromise(resolutionY[0]): true",
		}, []string{"genPromise1", "genPromise2", "resolve1", "resolve2"}, nil},
		{"promiseCrosswise", "done", []string{
			"running test promiseCrosswise", "isPromise(resolutionX[0]): true", "isPromise(resolutionY[0]): true",
		}, []string{"genPromise", "resolve"}, []string{"genPromise", "resolve"}},
		{"promiseIndirect", "done", []string{"running test promiseIndirect", "resolution == hello"},
			[]string{"genPromise1", "genPromise2", "resolve"}, nil},
		{"passResult", []any{"p1succ", "p2succ"}, []string{
			"running test passResult", "first result resolved to Bob's first answer", "second result resolved to Bob's second answer",
		}, []string{"first", "second", "parameter to second resolved to Bob's first answer"}, nil},
		{"passResultPromise", []any{"p1succ", "p2succ"}, []string{
			"running test passResultPromise", "first result resolved to Bob answers first in second",
			"second result resolved to Bob's second answer",
		}, []string{"first", "second", "parameter to second resolved to Bob answers first in second"}, nil},
		{"resolvePipelined", []any{"p1succ", "p2succ"}, []string{
			"running test resolvePipelined", "first result resolved to [object Alleged: thing]",
			"second result resolved to Bob's second answer",
		}, []string{"first", "thing.second"}, nil},
		{"messageToPromise", "p2succ", []string{
			"running test messageToPromise", "invoking loopback", "second result resolved to 'deferred something'", "loopback done",
		}, []string{"setup", "doResolve", "thing.doSomething", "loopback"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.test, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			res, err := k.LaunchSubcluster(ctx, threeVats(spec, tt.test))
			require.NoError(t, err)
			require.Equal(t, tt.result, res.BootstrapResult)
			require.NoError(t, k.WaitIdle(ctx))
			require.Equal(t, tt.alice, testLogs(logs, res.VatIDs, "Alice"), "Alice")
			require.Equal(t, tt.bob, testLogs(logs, res.VatIDs, "Bob"), "Bob")
			require.Equal(t, tt.carol, testLogs(logs, res.VatIDs, "Carol"), "Carol")
			require.NoError(t, k.TerminateSubcluster(ctx, res.SubclusterID))
		})
	}
}

// The reference's rejection scenario: a method that throws rejects its
// caller's result; the vat goes on.
func TestConformanceRejection(t *testing.T) {
	ctx := context.Background()
	logs := &logBuffer{}
	k := startKernel(t, actors.Config{Logger: zerologTo(logs)})
	spec := testdata(t, "conformance/rejection.js")
	res, err := k.LaunchSubcluster(ctx, kernel.ClusterConfig{Bootstrap: "main", Vats: map[string]kernel.VatConfig{
		"main": {BundleSpec: spec}, "rejector": {BundleSpec: spec},
	}})
	require.NoError(t, err)
	require.Equal(t, "done", res.BootstrapResult)
	require.NoError(t, k.WaitIdle(ctx))
	for vat, want := range map[string][]string{"main": {"bar", "err", "bar"}, "rejector": {"resolve", "reject", "resolve"}} {
		require.Equal(t, want, testLogs(logs, map[string]kernel.VatID{vat: res.VatIDs[vat]}, "test"), vat)
	}
}

// Vat lifecycle: a vat that cannot start fails its launch, saying why, and
// leaves nothing (no vat, no worker); a vat that is terminated takes its
// objects with it, its worker is killed, and the others go on.
func TestConformanceVatLifecycle(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t, jsvat.Options{})
	k := startKernel(t, actors.Config{JS: rt})
	broken := testdata(t, "conformance/broken.js")
	for _, tt := range []struct {
		name string
		cfg  kernel.VatConfig
		want string
	}{
		{"build throws", kernel.VatConfig{BundleSpec: broken, Parameters: map[string]any{"fail": "build"}}, "buildRootObject refuses"},
		{"root not Far", kernel.VatConfig{BundleSpec: broken, Parameters: map[string]any{"fail": "notFar"}}, "Remotables must be explicitly declared"},
		{"module throws", kernel.VatConfig{BundleSpec: testdata(t, "conformance/module-throws.js")}, "the module itself throws"},
		{"bootstrap throws", kernel.VatConfig{BundleSpec: broken, Parameters: map[string]any{"fail": "bootstrap"}}, "bootstrap refuses"},
		{"no such file", kernel.VatConfig{BundleSpec: testdata(t, "conformance/nonexistent.js")}, "vats.a.bundleSpec"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := k.LaunchSubcluster(ctx, kernel.ClusterConfig{Bootstrap: "a", Vats: map[string]kernel.VatConfig{"a": tt.cfg}})
			require.ErrorContains(t, err, tt.want)
			eventually(t, func() bool { return len(rt.PIDs()) == 0 }, "no worker is left")
			st, err := k.Status(ctx)
			require.NoError(t, err)
			for _, v := range st.Vats {
				require.False(t, v.Active, "no vat of a failed launch runs")
			}
		})
	}

	res, err := k.LaunchSubcluster(ctx, pingPongCluster(t))
	require.NoError(t, err)
	bob := res.Roots["bob"]
	other, err := k.QueueMessage(ctx, bob, "makeCounter", 1)
	require.NoError(t, err)
	require.NoError(t, k.TerminateVat(ctx, res.VatIDs["bob"], "done with bob"))
	_, err = k.QueueMessage(ctx, bob, "ping", 1)
	require.ErrorIs(t, err, kernel.ErrObjectDeleted)
	_, err = k.QueueMessage(ctx, other.(kernel.KRef), "incr")
	require.ErrorIs(t, err, kernel.ErrObjectDeleted, "its other objects too")
	_, err = k.QueueMessage(ctx, res.RootKref, "run", 1)
	require.True(t, kernel.Carries(err, kernel.ErrObjectDeleted), "alice hears bob is gone: %v", err)
	v, err := k.QueueMessage(ctx, res.RootKref, "ping", 41)
	require.NoError(t, err, "alice goes on")
	require.Equal(t, int64(42), v)
	eventually(t, func() bool { return len(rt.PIDs()) == 1 }, "bob's worker is killed")
}

// Revocation: a revoked object of a JavaScript vat can no longer be sent
// to; the vat and its other objects go on.
func TestConformanceRevocation(t *testing.T) {
	ctx := context.Background()
	k := startKernel(t, actors.Config{})
	res, err := k.LaunchSubcluster(ctx, pingPongCluster(t))
	require.NoError(t, err)
	counter, err := k.QueueMessage(ctx, res.Roots["bob"], "makeCounter", 1)
	require.NoError(t, err)
	c := counter.(kernel.KRef)
	v, err := k.QueueMessage(ctx, c, "incr")
	require.NoError(t, err)
	require.Equal(t, int64(2), v)
	require.NoError(t, k.Revoke(ctx, c))
	revoked, err := k.IsRevoked(ctx, c)
	require.NoError(t, err)
	require.True(t, revoked)
	_, err = k.QueueMessage(ctx, c, "incr")
	require.ErrorIs(t, err, kernel.ErrObjectRevoked)
	v, err = k.QueueMessage(ctx, res.Roots["bob"], "ping", 1)
	require.NoError(t, err)
	require.Equal(t, int64(2), v)
}

// Garbage collection between two JavaScript vats: an import the importer
// forgets is dropped at its next reap, and the exporter retires it.
func TestConformanceGC(t *testing.T) {
	ctx := context.Background()
	k := startKernel(t, actors.Config{})
	spec := testdata(t, "conformance/gc.js")
	res, err := k.LaunchSubcluster(ctx, kernel.ClusterConfig{Bootstrap: "importer", Vats: map[string]kernel.VatConfig{
		"importer": {BundleSpec: spec}, "exporter": {BundleSpec: spec},
	}})
	require.NoError(t, err)
	imp, exp := res.VatIDs["importer"], res.VatIDs["exporter"]
	v, err := k.QueueMessage(ctx, res.RootKref, "take", res.Roots["exporter"])
	require.NoError(t, err)
	require.Equal(t, "pong", v)
	kref := importOf(t, k, imp, res.Roots["exporter"])
	require.Contains(t, clist(t, k, exp), kref)
	_, err = k.QueueMessage(ctx, res.RootKref, "forget")
	require.NoError(t, err)
	require.NoError(t, k.ScheduleReap(ctx, imp))
	require.NoError(t, k.WaitIdle(ctx))
	require.NotContains(t, clist(t, k, imp), kref, "dropped and retired by the importer's liveslots")
	require.NotContains(t, clist(t, k, exp), kref, "retired by the exporter's")
	require.False(t, objectExists(t, k, kref))
}

// Exos: interface guards, exo classes and class kits, stores and durable
// kinds, as the reference's exo scenarios use them; a guard refuses a bad
// argument sent through the kernel before the method runs.
func TestConformanceExo(t *testing.T) {
	ctx := context.Background()
	logs := &logBuffer{}
	k := startKernel(t, actors.Config{Logger: zerologTo(logs)})
	res, err := k.LaunchSubcluster(ctx, kernel.ClusterConfig{Bootstrap: "exo", Vats: map[string]kernel.VatConfig{
		"exo": {BundleSpec: bundleOf(t, "conformance/exo.js")},
	}})
	require.NoError(t, err)
	require.Equal(t, "exo-test-complete", res.BootstrapResult)
	require.NoError(t, k.WaitIdle(ctx))
	require.Equal(t, []string{
		"Created counter with initial value: 10",
		"Incremented counter by 5 to: 15",
		"Increment with negative value failed, as it should",
		"Temperature at 25°C = 77°F",
		"After setting to 68°F, celsius is 20°C",
		"Map store has alice: true, size 1",
	}, testLogs(logs, res.VatIDs, "ExoTest"))

	counter, err := k.QueueMessage(ctx, res.RootKref, "makeCounter", 42)
	require.NoError(t, err)
	v, err := k.QueueMessage(ctx, counter.(kernel.KRef), "increment", 5)
	require.NoError(t, err)
	require.Equal(t, int64(47), v)
	_, err = k.QueueMessage(ctx, counter.(kernel.KRef), "increment", -1)
	var re *kernel.RejectionError
	require.True(t, errors.As(err, &re), "%v", err)
	require.Contains(t, re.Message, "increment", "the guard names the method it refused")
	v, err = k.QueueMessage(ctx, counter.(kernel.KRef), "read")
	require.NoError(t, err)
	require.Equal(t, int64(47), v, "the refused call changed nothing")

	d, err := k.QueueMessage(ctx, res.RootKref, "makeDurable", 1)
	require.NoError(t, err)
	require.NoError(t, k.RestartVat(ctx, res.VatIDs["exo"]))
	v, err = k.QueueMessage(ctx, d.(kernel.KRef), "add", 2)
	require.NoError(t, err)
	require.Equal(t, int64(3), v, "the durable object outlived the restart")
	_, err = k.QueueMessage(ctx, counter.(kernel.KRef), "read")
	require.ErrorIs(t, err, kernel.ErrObjectDeleted, "the ephemeral one did not")
}

// The reference's resume scenarios: three vats keep their names, start
// counts and each other in baggage; after each is restarted, or the
// kernel is restarted on its file, they find each other and talk again.
// The logs, sorted as the reference's test sorts them, are the
// reference's.
func TestConformanceResume(t *testing.T) {
	bootstrapped := []string{
		"Alice: saving name", "Alice: start count: 1", "Bob: saving name", "Bob: start count: 1",
		"Carol: saving name", "Carol: start count: 1", "Alice: bootstrap()", "Bob: intro()", "Carol: intro()",
		"Bob: greet('hello from Alice')", "Carol: greet('hello from Alice')",
		"Alice: Bob answers greeting: 'Bob returns your greeting 'hello from Alice''",
		"Alice: Carol answers greeting: 'Carol returns your greeting 'hello from Alice''", "Alice: end bootstrap",
	}
	restarted := []string{
		"Alice: saved name is Alice", "Alice: start count: 2", "Bob: saved name is Bob", "Bob: start count: 2",
		"Carol: saved name is Carol", "Carol: start count: 2",
	}
	resumed := []string{
		"Alice: resume()", "Alice: resumed vat is bootstrap", "Bob: greet('hello again from Alice')",
		"Carol: greet('hello again from Alice')",
		"Alice: Bob answers greeting: 'Bob returns your greeting 'hello again from Alice''",
		"Alice: Carol answers greeting: 'Carol returns your greeting 'hello again from Alice''", "Alice: end resume",
		"Bob: resume()", "Bob: resumed vat is not bootstrap", "Alice: greet('hello boot vat from Bob')",
		"Bob: boot vat returns greeting with 'Alice returns your greeting 'hello boot vat from Bob''", "Bob: end resume",
		"Carol: resume()", "Carol: resumed vat is not bootstrap", "Alice: greet('hello boot vat from Carol')",
		"Carol: boot vat returns greeting with 'Alice returns your greeting 'hello boot vat from Carol''", "Carol: end resume",
	}
	cfg := threeVats(bundleOf(t, "conformance/resume.js"), "")
	resume := func(t *testing.T, k *actors.Kernel, res kernel.LaunchResult) {
		for _, name := range []string{"alice", "bob", "carol"} {
			v, err := k.QueueMessage(context.Background(), res.Roots[name], "resume")
			require.NoError(t, err)
			require.Equal(t, "resume "+map[string]string{"alice": "Alice", "bob": "Bob", "carol": "Carol"}[name], v)
		}
		require.NoError(t, k.WaitIdle(context.Background()))
	}
	sorted := func(logs ...[]string) []string { return slices.Sorted(slices.Values(slices.Concat(logs...))) }

	t.Run("restart vats individually", func(t *testing.T) {
		ctx := context.Background()
		logs := &logBuffer{}
		k := startKernel(t, actors.Config{Logger: zerologTo(logs)})
		res, err := k.LaunchSubcluster(ctx, cfg)
		require.NoError(t, err)
		require.Equal(t, "bootstrap Alice", res.BootstrapResult)
		for _, name := range []string{"alice", "bob", "carol"} {
			require.NoError(t, k.RestartVat(ctx, res.VatIDs[name]))
		}
		resume(t, k, res)
		require.Equal(t, sorted(bootstrapped, restarted, resumed), sorted(testLogs(logs, res.VatIDs, "test")))
	})
	t.Run("restart kernel", func(t *testing.T) {
		ctx := context.Background()
		path := t.TempDir() + "/k.db"
		rt := newRuntime(t, jsvat.Options{})
		logs1 := &logBuffer{}
		k, err := actors.Start(ctx, actors.Config{DBPath: path, Registry: goRegistry(), JS: rt, Logger: zerologTo(logs1)})
		require.NoError(t, err)
		res, err := k.LaunchSubcluster(ctx, cfg)
		require.NoError(t, err)
		require.NoError(t, k.WaitIdle(ctx))
		require.NoError(t, k.Stop(ctx))
		require.Equal(t, sorted(bootstrapped), sorted(testLogs(logs1, res.VatIDs, "test")))

		logs2 := &logBuffer{}
		k, err = actors.Start(ctx, actors.Config{DBPath: path, Registry: goRegistry(), JS: rt, Logger: zerologTo(logs2)})
		require.NoError(t, err)
		defer k.Stop(ctx)
		resume(t, k, res)
		require.Equal(t, sorted(restarted, resumed), sorted(testLogs(logs2, res.VatIDs, "test")))
	})
}
