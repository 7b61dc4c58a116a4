//go:build jsvat

package conformance

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/persistence"
)

// The revocation family (the revoked-object tests of the reference's
// syscall-validation.test.ts; vats/exporter.js, vats/importer.js): once
// the host revokes an object, every message to it is rejected with
// OBJECT_REVOKED, from the host or from a vat, and its exporter goes on
// answering everything else.
//
// Where this differs from the reference on purpose: the reference's tests
// revoke by writing the store's flag (kernelStore.setRevoked), which can
// also un-revoke; here revoking is a host request (Kernel.Revoke), audited
// like any other, and permanent.

// revocationWorld launches the exporter alone, as the reference does, or
// with the importer.
func revocationWorld(t *testing.T, withImporter bool) (*world, kernel.LaunchResult) {
	w := newWorld(t)
	cfg := kernel.ClusterConfig{Bootstrap: "exporter", Vats: map[string]kernel.VatConfig{
		"exporter": jsVat(t, "exporter", map[string]any{"name": "Exporter"}),
	}}
	if withImporter {
		cfg.Vats["importer"] = jsVat(t, "importer", map[string]any{"name": "Importer"})
	}
	return w, w.launch(cfg)
}

func (w *world) revoke(kref kernel.KRef) {
	w.t.Helper()
	ctx, cancel := w.ctx()
	defer cancel()
	require.NoError(w.t, w.k.Revoke(ctx, kref))
	revoked, err := w.k.IsRevoked(ctx, kref)
	require.NoError(w.t, err)
	require.True(w.t, revoked)
	w.idle()
}

// requireRevoked checks that err is the kernel's OBJECT_REVOKED, as the
// host sees it.
func requireRevoked(t *testing.T, err error) {
	t.Helper()
	require.ErrorIs(t, err, kernel.ErrObjectRevoked)
	require.ErrorContains(t, err, "[KERNEL:OBJECT_REVOKED]")
}

// "should handle message delivery to revoked objects" and "should reject
// promises with appropriate error for revoked objects": the object
// answers until it is revoked, then every message to it is rejected, and
// the exporter answers its other messages.
func TestRevokedObject(t *testing.T) {
	w, res := revocationWorld(t, false)
	obj := w.send(res.RootKref, "createObject", "test-revocation-object").(kernel.KRef)
	require.Equal(t, "test-revocation-object", w.send(obj, "getValue"))
	w.revoke(obj)
	for range 5 {
		_, err := w.sendErr(obj, "getValue")
		requireRevoked(t, err)
		require.Equal(t, "noop", w.send(res.RootKref, "noop"))
	}
	require.Equal(t, true, w.send(res.RootKref, "isObjectPresent", "test-revocation-object"),
		"revoking changes nothing in the exporter")
}

// "should handle multiple revoked objects correctly".
func TestRevokedObjects(t *testing.T) {
	w, res := revocationWorld(t, false)
	var objs []kernel.KRef
	for _, id := range []string{"obj1", "obj2", "obj3"} {
		objs = append(objs, w.send(res.RootKref, "createObject", id).(kernel.KRef))
	}
	for _, o := range objs {
		w.revoke(o)
	}
	for _, o := range objs {
		_, err := w.sendErr(o, "getValue")
		requireRevoked(t, err)
	}
	require.Equal(t, "noop", w.send(res.RootKref, "noop"))
	row, ok := w.vatRow(res.VatIDs["exporter"])
	require.True(t, ok)
	require.Equal(t, persistence.VatActive, row.State, "the exporter is alive")
}

// Beyond the reference: a vat that imported the object before it was
// revoked has its message rejected with the kernel's coded error, as an
// Error whose message is the code and its text (the wire form liveslots
// unmarshals); the vat passes the rejection on as its own result, and
// keeps working. The host sees it as the vat's word, a RejectionError
// carrying that text, not as the kernel's own OBJECT_REVOKED: a vat could
// write the same text, so only a rejection the kernel makes matches the
// sentinel.
func TestRevokedObjectFromVat(t *testing.T) {
	w, res := revocationWorld(t, true)
	importer := res.Roots["importer"]
	obj := w.send(res.RootKref, "createObject", "shared").(kernel.KRef)
	require.Equal(t, "stored", w.send(importer, "storeImport", obj, "shared"))
	require.Equal(t, "shared", w.send(importer, "useImport", "shared"))
	w.revoke(obj)
	_, err := w.sendErr(importer, "useImport", "shared")
	var re *kernel.RejectionError
	require.ErrorAs(t, err, &re)
	require.Equal(t, "Error", re.Name)
	require.Equal(t, "[KERNEL:OBJECT_REVOKED] Target object has been revoked", re.Message)
	require.NotErrorIs(t, err, kernel.ErrObjectRevoked, "relayed by a vat, not the kernel's own")
	require.Equal(t, []any{"shared"}, w.send(importer, "listImportedObjects"), "the importer lives on")
}
