//go:build jsvats

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
