//go:build jsvat

package conformance

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/kernel"
)

// The resume family (the reference's resume.test.ts; vats/resume.js):
// three vats keep each other's presences in baggage at bootstrap; after
// each is restarted, alone or with the whole kernel, each greets the
// others from its new incarnation, and bootstrap is never sent again.
//
// The reference compares the log sorted by vat (a stable sort, so each
// vat's own lines keep their order); here each vat's lines are compared
// in order, which is the same check.

func resumeCluster(t *testing.T) kernel.ClusterConfig {
	return kernel.ClusterConfig{Bootstrap: "alice", Vats: map[string]kernel.VatConfig{
		"alice": jsVat(t, "resume", map[string]any{"name": "Alice"}),
		"bob":   jsVat(t, "resume", map[string]any{"name": "Bob"}),
		"carol": jsVat(t, "resume", map[string]any{"name": "Carol"}),
	}}
}

// The lines each vat logs over the whole scenario: bootstrap, a restart,
// then resume() sent to alice, bob and carol in turn.
var resumeWant = map[string][]string{
	"alice": {
		"Alice: saving name",
		"Alice: start count: 1",
		"Alice: bootstrap()",
		"Alice: Bob answers greeting: 'Bob returns your greeting 'hello from Alice''",
		"Alice: Carol answers greeting: 'Carol returns your greeting 'hello from Alice''",
		"Alice: end bootstrap",
		"Alice: saved name is Alice",
		"Alice: start count: 2",
		"Alice: resume()",
		"Alice: resumed vat is bootstrap",
		"Alice: Bob answers greeting: 'Bob returns your greeting 'hello again from Alice''",
		"Alice: Carol answers greeting: 'Carol returns your greeting 'hello again from Alice''",
		"Alice: end resume",
		"Alice: greet('hello boot vat from Bob')",
		"Alice: greet('hello boot vat from Carol')",
	},
	"bob":   peerWant("Bob"),
	"carol": peerWant("Carol"),
}

func peerWant(n string) []string {
	return []string{
		n + ": saving name",
		n + ": start count: 1",
		n + ": intro()",
		n + ": greet('hello from Alice')",
		n + ": saved name is " + n,
		n + ": start count: 2",
		n + ": greet('hello again from Alice')",
		n + ": resume()",
		n + ": resumed vat is not bootstrap",
		n + ": boot vat returns greeting with 'Alice returns your greeting 'hello boot vat from " + n + "''",
		n + ": end resume",
	}
}

// resumeAll sends resume() to each vat in turn and checks the logs.
func resumeAll(t *testing.T, w *world, res kernel.LaunchResult) {
	for _, n := range []string{"alice", "bob", "carol"} {
		who := map[string]string{"alice": "Alice", "bob": "Bob", "carol": "Carol"}[n]
		require.Equal(t, "resume "+who, w.send(res.Roots[n], "resume"))
	}
	for n, want := range resumeWant {
		require.Equal(t, want, w.vatTestLog(res.VatIDs[n]), "vat %s (%s)", n, res.VatIDs[n])
	}
}

// "exercise restart vats individually".
func TestResumeRestartVats(t *testing.T) {
	w := newWorld(t)
	res := w.launch(resumeCluster(t))
	require.Equal(t, "bootstrap Alice", res.BootstrapResult)
	for _, n := range []string{"alice", "bob", "carol"} {
		ctx, cancel := w.ctx()
		require.NoError(t, w.k.RestartVat(ctx, res.VatIDs[n]))
		cancel()
		w.idle()
	}
	resumeAll(t, w, res)
}

// "exercise restart kernel".
func TestResumeRestartKernel(t *testing.T) {
	w := newWorld(t)
	res := w.launch(resumeCluster(t))
	require.Equal(t, "bootstrap Alice", res.BootstrapResult)
	w.restartKernel()
	resumeAll(t, w, res)
}

// Promises across restarts (vats/watcher.js): alice watches a promise bob
// holds in his heap, with a heap callback and with a durable promise
// watcher (VatData.watchPromise). The reference has no test of its own
// for these; what they check is where this kernel differs from it, or
// should agree with liveslots.

func watchCluster(t *testing.T) kernel.ClusterConfig {
	return kernel.ClusterConfig{Bootstrap: "alice", Vats: map[string]kernel.VatConfig{
		"alice": jsVat(t, "watcher", map[string]any{"name": "Alice"}),
		"peer":  jsVat(t, "watcher", map[string]any{"name": "Bob"}),
	}}
}

func (w *world) restartVat(id kernel.VatID) {
	w.t.Helper()
	ctx, cancel := w.ctx()
	defer cancel()
	require.NoError(w.t, w.k.RestartVat(ctx, id))
	w.idle()
}

// Bob is restarted while alice waits on the promise his old heap held:
// the kernel rejects it in the restart's unit, and alice's callback and
// watcher both hear. This differs from the reference on purpose: its
// restartVat rejects nothing, so alice would wait forever on a promise
// no one can settle (a stranded promise).
func TestRestartRejectsStrandedPromise(t *testing.T) {
	w := newWorld(t)
	res := w.launch(watchCluster(t))
	require.Equal(t, "Alice ready", res.BootstrapResult)
	w.send(res.RootKref, "watch")
	w.restartVat(res.VatIDs["peer"])
	const why = "[KERNEL:VAT_TERMINATED] The vat that decides this promise was restarted"
	require.Equal(t, []string{
		"Alice: incarnation started",
		"Alice: watching",
		"Alice: heap callback: rejected with " + why,
		"Alice: durable watcher: rejected with " + why,
	}, w.vatTestLog(res.VatIDs["alice"]))
	require.Equal(t, false, w.send(res.Roots["peer"], "release", "too late"),
		"bob's new incarnation holds nothing")
}

// Alice is restarted while she watches bob's promise; then bob settles it.
// Liveslots keeps a durable watcher's promise in the vatstore and revives
// it in the new incarnation (as for a SwingSet upgrade, where the kernel
// keeps the vat's imported promises and its subscriptions), so alice's
// new incarnation must hear the value. (This scenario found that the
// kernel dropped a vat's imported promises at a new incarnation; it keeps
// them now, as SwingSet does.)
func TestDurableWatcherAcrossRestart(t *testing.T) {
	w := newWorld(t)
	res := w.launch(watchCluster(t))
	w.send(res.RootKref, "watch")
	w.restartVat(res.VatIDs["alice"])
	require.Equal(t, true, w.send(res.Roots["peer"], "release", "hi"))
	require.Equal(t, []string{
		"Alice: incarnation started",
		"Alice: watching",
		"Alice: incarnation started",
		"Alice: durable watcher: fulfilled with hi",
	}, w.vatTestLog(res.VatIDs["alice"]))
}

// The kernel restarts while alice watches bob's promise: bob's heap is
// gone, so the kernel rejects the promise at resume (where the reference
// leaves it pending forever), and alice's new incarnation, whose durable
// watcher liveslots revived, must hear the rejection.
func TestDurableWatcherAcrossResume(t *testing.T) {
	w := newWorld(t)
	res := w.launch(watchCluster(t))
	w.send(res.RootKref, "watch")
	w.restartKernel()
	w.idle()
	require.Equal(t, []string{
		"Alice: incarnation started",
		"Alice: watching",
		"Alice: incarnation started",
		"Alice: durable watcher: rejected with [KERNEL:VAT_TERMINATED] The vat that decides this promise was restarted",
	}, w.vatTestLog(res.VatIDs["alice"]))
}
