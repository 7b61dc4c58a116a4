//go:build jsvat

package jsvat

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/vatproto"
)

// IifeBundle makes a bundle of the test vat name in ocap-kernel's iife
// format (testdata/make-iife.mjs) and returns its path. Exported for the
// package's external tests (the launch benchmark).
func IifeBundle(t testing.TB, name string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), name+".iife.bundle")
	cmd := exec.Command("node", filepath.Join("testdata", "make-iife.mjs"), testdata(t, name), out)
	msg, err := cmd.CombinedOutput()
	require.NoError(t, err, "making an iife bundle (needs `npm ci --prefix jsvat/worker`): %s", msg)
	return out
}

// A vat in ocap-kernel's own bundle format (what its vite bundler
// writes: a script declaring __vatExports__) runs as it does there:
// console, baggage and E all work.
func TestIifeBundleRuns(t *testing.T) {
	rt := newRuntime(t, Options{})
	k := newFakeKernel()
	logs := &logSink{}
	v := startEcho(t, rt, k, VatSpec{BundleSpec: IifeBundle(t, "echo.js"), Parameters: map[string]any{"name": "iife"}, Logger: logs.logger()})
	require.Contains(t, logs.text(), "iife: buildRootObject")
	require.NoError(t, v.Deliver(message(t, "o+0", "p-1", "hello", "bob"), k))
	got, rejected := resolved(t, k.take(), "p-1")
	require.False(t, rejected)
	require.Equal(t, "hello bob, from iife", got)
	require.NoError(t, v.Deliver(message(t, "o+0", "p-2", "incr"), k))
	got, _ = resolved(t, k.take(), "p-2")
	require.Equal(t, int64(1), got)
}

// An iife bundle that is not one fails the launch, naming what is wrong.
func TestBadIifeBundleRefused(t *testing.T) {
	rt := newRuntime(t, Options{})
	for i, c := range []struct{ bundle, want string }{
		{`{"moduleFormat":"iife"}`, "an iife bundle's code is missing"},
		{`{"moduleFormat":"iife","code":7}`, "an iife bundle's code is missing (or not a string)"},
		{`{"moduleFormat":"iife","code":"var __vatExports__ = 7;"}`, "did not set __vatExports__ to a namespace object"},
		{`{"moduleFormat":"iife","code":"var x = 1;"}`, "__vatExports__"},
		{`{"moduleFormat":"iife","code":"this is not javascript"}`, "Unexpected identifier"},
		{`{"moduleFormat":"nestedEvaluate","source":""}`, `moduleFormat "nestedEvaluate" is not supported`},
	} {
		file := filepath.Join(t.TempDir(), "bad.bundle")
		require.NoError(t, os.WriteFile(file, []byte(c.bundle), 0o600))
		v := rt.NewVat(VatSpec{ID: "v" + strconv.Itoa(i+1), BundleSpec: file})
		err := v.Deliver(startVat(), newFakeKernel())
		require.ErrorContains(t, err, c.want, "bundle %s", c.bundle)
		v.Stop()
	}
}

// Rejections liveslots handles itself, a turn late (a method that
// throws, a method the object lacks), are not reported as unhandled; an
// Error logged by liveslots is printed with its message.
func TestHandledRejectionsAreNotReported(t *testing.T) {
	rt := newRuntime(t, Options{})
	k := newFakeKernel()
	logs := &logSink{}
	v := startEcho(t, rt, k, VatSpec{Logger: logs.logger()})
	require.NoError(t, v.Deliver(message(t, "o+0", "p-1", "fail", "on purpose"), k))
	_, rejected := resolved(t, k.take(), "p-1")
	require.True(t, rejected)
	require.NoError(t, v.Deliver(message(t, "o+0", "p-2", "nosuch"), k))
	_, rejected = resolved(t, k.take(), "p-2")
	require.True(t, rejected)
	// Two more deliveries: turns enough for a report to have come.
	for i := 3; i <= 4; i++ {
		require.NoError(t, v.Deliver(message(t, "o+0", vatproto.VRef("p-"+strconv.Itoa(i)), "hello", "bob"), k))
		_, _ = resolved(t, k.take(), vatproto.VRef("p-"+strconv.Itoa(i)))
	}
	require.NotContains(t, logs.text(), "unhandled rejection")
	require.Contains(t, logs.text(), "Error: on purpose")
}
