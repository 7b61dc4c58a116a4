//go:build jsvat

package conformance

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/persistence"
)

// The garbage-collection family (the reference's
// garbage-collection.test.ts; vats/exporter.js and vats/importer.js): one
// object through its life, from its export to its deletion, with real
// liveslots reporting what the importer drops (dropImports) and forgets
// (retireImports) at bring-out-your-dead, and engine GC in the worker.
//
// Where the counts differ from the reference's, on purpose:
//   - Each importing c-list entry counts (reachable and recognizable), and
//     the exporter's own entry nothing, as in SwingSet. The reference
//     counts an export and nothing for an import.
//   - An object a result hands to the host is pinned for the host (one
//     reachable reference) until the host releases it; the result promise
//     itself is freed once the host has its value. The reference keeps
//     every resolved promise, so its result promise holds the object
//     forever: it reads (2,2) after createObject, (1,1) at the end, and
//     never collects the object. Here the release lets the kernel tell the
//     exporter to drop and retire it, and delete it.
//   - A reap is a crank of its own, ahead of the run queue: no noop
//     messages are needed to make it run.

// gcWorld launches the exporter and the importer.
func gcWorld(t *testing.T) (w *world, res kernel.LaunchResult) {
	w = newWorld(t)
	res = w.launch(kernel.ClusterConfig{Bootstrap: "exporter", Vats: map[string]kernel.VatConfig{
		"exporter": jsVat(t, "exporter", map[string]any{"name": "Exporter"}),
		"importer": jsVat(t, "importer", map[string]any{"name": "Importer"}),
	}})
	require.Equal(t, "bootstrap-Exporter", res.BootstrapResult)
	return w, res
}

// counts is an object's (reachable, recognizable, pins).
func (w *world) counts(kref kernel.KRef) [3]int64 {
	w.t.Helper()
	row, ok := w.object(kref)
	require.True(w.t, ok, "object %s exists", kref)
	return [3]int64{row.Reachable, row.Recognizable, row.Pins}
}

// inCList reports whether vat's c-list names kref.
func (w *world) inCList(vat kernel.VatID, kref kernel.KRef) (ok bool) {
	w.store(func(st *persistence.Store) { _, ok = st.CList(string(vat), string(kref)) })
	return ok
}

// reap has vat bring out its dead, and waits until the kernel has acted
// on what it reports.
func (w *world) reap(vat kernel.VatID) {
	w.t.Helper()
	ctx, cancel := w.ctx()
	defer cancel()
	require.NoError(w.t, w.k.ScheduleReap(ctx, vat))
	w.idle()
}

// "objects are tracked with reference counts": an export the host holds,
// then imported by another vat, which uses it.
func TestGCRefCounts(t *testing.T) {
	w, res := gcWorld(t)
	exporter, importer := res.Roots["exporter"], res.Roots["importer"]
	obj, ok := w.send(exporter, "createObject", "test-object").(kernel.KRef)
	require.True(t, ok, "createObject returns an object")
	require.Equal(t, [3]int64{1, 1, 1}, w.counts(obj), "the host's pin only")
	require.True(t, w.inCList(res.VatIDs["exporter"], obj), "the exporter's export")

	require.Equal(t, "stored", w.send(importer, "storeImport", obj))
	require.Equal(t, [3]int64{2, 2, 1}, w.counts(obj), "the pin and the importer's entry")
	require.True(t, w.inCList(res.VatIDs["importer"], obj))
	require.Equal(t, "test-object", w.send(importer, "useImport"))
}

// "should trigger GC syscalls through bringOutYourDead": the importer
// drops its strong reference (dropImports at its next reap: unreachable,
// still recognizable), then its weak one (retireImports: gone from its
// c-list); the exporter forgets the object; the host releases it, and
// the kernel retires it from the exporter and deletes it.
func TestGCBringOutYourDead(t *testing.T) {
	w, res := gcWorld(t)
	exporter, importer := res.Roots["exporter"], res.Roots["importer"]
	exporterID, importerID := res.VatIDs["exporter"], res.VatIDs["importer"]
	obj := w.send(exporter, "createObject", "test-object").(kernel.KRef)
	require.Equal(t, "stored", w.send(importer, "storeImport", obj, "test-object"))
	require.Equal(t, []any{"test-object"}, w.send(importer, "listImportedObjects"))
	require.Equal(t, true, w.send(exporter, "isObjectPresent", "test-object"))
	require.Equal(t, [3]int64{2, 2, 1}, w.counts(obj))

	require.Equal(t, true, w.send(importer, "makeWeak", "test-object"))
	require.Equal(t, [3]int64{2, 2, 1}, w.counts(obj), "nothing is reported before a reap")
	w.reap(importerID)
	require.Equal(t, [3]int64{1, 2, 1}, w.counts(obj), "dropped: the importer only recognizes it")
	require.True(t, w.inCList(importerID, obj))

	require.Equal(t, true, w.send(importer, "forgetImport"))
	w.reap(importerID)
	require.Equal(t, [3]int64{1, 1, 1}, w.counts(obj), "retired: the host's pin only")
	require.False(t, w.inCList(importerID, obj), "gone from the importer's c-list")

	require.Equal(t, true, w.send(exporter, "forgetObject", "test-object"))
	w.reap(exporterID)
	require.Equal(t, false, w.send(exporter, "isObjectPresent", "test-object"))
	require.Equal(t, [3]int64{1, 1, 1}, w.counts(obj), "the host still holds it")

	ctx, cancel := w.ctx()
	defer cancel()
	require.NoError(t, w.k.Release(ctx, obj))
	w.idle()
	_, exists := w.object(obj)
	require.False(t, exists, "the kernel deleted the object")
	require.False(t, w.inCList(exporterID, obj), "and retired it from its exporter")

	require.Equal(t, []string{
		"Exporter: Created object test-object",
		"Exporter: Forgetting object test-object",
	}, w.testLog("Exporter"))
	require.Equal(t, []string{
		"Importer: Storing import test-object",
		"Importer: Making weak reference to test-object (dropping strong ref)",
	}, w.testLog("Importer"))
}
