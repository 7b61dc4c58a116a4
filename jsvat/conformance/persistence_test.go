//go:build jsvat

package conformance

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/persistence/sqlitestore"
)

// The persistence family (the reference's persistence.test.ts;
// vats/counter.js, vats/coordinator.js, vats/worker.js): what a vat keeps
// in baggage survives a kernel restart, a vat restart, and a message left
// in the run queue; ResetStorage forgets it all.
//
// Where this differs from the reference on purpose:
//   - The reference waits a second after each kernel restart for its vats
//     to come up; here Start returns with every vat resumed.
//   - The reference's roots start at ko4 (kernel services come first);
//     here each test uses the roots the launch returned.
//   - "handles messages in queue after kernel restart" writes a queue
//     item, its promise and their refcounts straight into the reference's
//     key-value table. Here the store is never written behind the kernel's
//     back (it and the auditor would refuse rows that do not add up): with
//     the kernel stopped, a kernel over the file queues the message as the
//     host would, and the resumed kernel delivers it.

func counterCluster(t *testing.T, name string) kernel.ClusterConfig {
	return kernel.ClusterConfig{Bootstrap: "counter", Vats: map[string]kernel.VatConfig{
		"counter": jsVat(t, "counter", map[string]any{"name": name}),
	}}
}

// "maintains state across kernel restarts", with the vat's log: bootstrap
// runs once, and the new incarnation finds the count.
func TestPersistenceKernelRestart(t *testing.T) {
	w := newWorld(t)
	res := w.launch(counterCluster(t, "Counter"))
	require.Equal(t, "Counter initialized with count: 1", res.BootstrapResult)
	require.Equal(t, "Counter incremented to: 2", w.send(res.RootKref, "resume"))
	w.restartKernel()
	require.Equal(t, "Counter incremented to: 3", w.send(res.RootKref, "resume"))
	require.Equal(t, []string{
		"Counter: initialized with count: 1",
		"Counter: bootstrap called",
		"Counter: resume called",
		"Counter: incremented to: 2",
		"Counter: resumed with count: 2",
		"Counter: resume called",
		"Counter: incremented to: 3",
	}, w.testLog("Counter"))
}

// "handles multiple vats with persistent state": the coordinator's
// presences of its workers, kept in baggage, work after the restart.
func TestPersistenceMultipleVats(t *testing.T) {
	w := newWorld(t)
	res := w.launch(kernel.ClusterConfig{Bootstrap: "coordinator", Vats: map[string]kernel.VatConfig{
		"coordinator": jsVat(t, "coordinator", map[string]any{"name": "Coordinator"}),
		"worker1":     jsVat(t, "worker", map[string]any{"name": "Worker1", "id": 1}),
		"worker2":     jsVat(t, "worker", map[string]any{"name": "Worker2", "id": 2}),
	}})
	require.Equal(t, "Coordinator initialized with 2 workers", res.BootstrapResult)
	require.Equal(t, "Work completed: Worker1(1), Worker2(1)", w.send(res.RootKref, "resume"))
	w.restartKernel()
	require.Equal(t, "Work completed: Worker1(2), Worker2(2)", w.send(res.RootKref, "resume"))
	require.Equal(t, []string{
		"Coordinator: initialized",
		"Coordinator: bootstrap called",
		"Coordinator: stored 2 workers",
		"Coordinator: resume called",
		"Coordinator: Work completed: Worker1(1), Worker2(1)",
		"Coordinator: resumed with work count: 1",
		"Coordinator: resume called",
		"Coordinator: Work completed: Worker1(2), Worker2(2)",
	}, w.testLog("Coordinator"))
	require.Equal(t, []string{
		"Worker1: initialized with id: 1",
		"Worker1: resume called",
		"Worker1: did work, count: 1",
		"Worker1: resumed with work count: 1",
		"Worker1: resume called",
		"Worker1: did work, count: 2",
	}, w.testLog("Worker1"))
}

// "respects resetStorage flag when set to true".
func TestPersistenceResetStorage(t *testing.T) {
	w := newWorld(t)
	first := w.launch(counterCluster(t, "Counter"))
	require.Equal(t, "Counter incremented to: 2", w.send(first.RootKref, "resume"))
	w.stop()
	w.start(true)
	again := w.launch(counterCluster(t, "Counter"))
	require.Equal(t, "Counter initialized with count: 1", again.BootstrapResult, "a new counter")
	require.Equal(t, first.RootKref, again.RootKref, "ids start over")
}

// "handles vat restarts within persistent kernel".
func TestPersistenceVatRestart(t *testing.T) {
	w := newWorld(t)
	res := w.launch(counterCluster(t, "Counter"))
	require.Equal(t, "Counter incremented to: 2", w.send(res.RootKref, "resume"))
	ctx, cancel := w.ctx()
	defer cancel()
	require.NoError(t, w.k.RestartVat(ctx, res.VatIDs["counter"]))
	w.idle()
	row, ok := w.vatRow(res.VatIDs["counter"])
	require.True(t, ok)
	require.Equal(t, int64(1), row.Incarnation)
	require.Equal(t, "Counter incremented to: 3", w.send(res.RootKref, "resume"))
}

// "handles messages in queue after kernel restart": a message queued while
// no kernel runs is delivered, once, by the resumed kernel, ahead of the
// host's next one.
func TestPersistenceQueuedMessage(t *testing.T) {
	w := newWorld(t)
	res := w.launch(counterCluster(t, "Counter"))
	require.Equal(t, "Counter incremented to: 2", w.send(res.RootKref, "resume"))
	w.stop()

	ctx, cancel := w.ctx()
	defer cancel()
	st, err := sqlitestore.Open(ctx, w.path, persistence.Options{})
	require.NoError(t, err)
	sm, err := kernel.New(kernel.Config{Store: st})
	require.NoError(t, err)
	resume, err := marshal.Encode([]any{"resume", []any{}})
	require.NoError(t, err)
	_, _, err = sm.QueueMessage(ctx, res.RootKref, resume)
	require.NoError(t, err)
	require.Equal(t, 1, st.QueueLen(), "the message waits in the run queue")
	problems, err := kernel.Audit(ctx, st)
	require.NoError(t, err)
	require.Empty(t, problems)
	require.NoError(t, st.Close(ctx))

	w.start(false)
	require.Equal(t, "Counter incremented to: 4", w.send(res.RootKref, "resume"),
		"2, the queued message (3), this one (4)")
	var left int
	w.store(func(st *persistence.Store) { left = st.QueueLen() })
	require.Zero(t, left)
}
