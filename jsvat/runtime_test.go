package jsvat

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// These tests need no Node.js: they are what a launch says when it is
// missing, or the worker is.

func TestNoNodeSaysWhatToInstall(t *testing.T) {
	rt, err := NewRuntime(Options{Node: "/nonexistent/node", WorkerDir: workerDir(t)})
	require.NoError(t, err, "a runtime without node is made; JavaScript vats fail at launch")
	defer rt.Close()
	v := rt.NewVat(VatSpec{ID: "v1", BundleSpec: testdata(t, "echo.js")})
	err = v.Deliver(startVat(), newFakeKernel())
	require.ErrorIs(t, err, ErrNoNode)
	require.ErrorContains(t, err, "JavaScript vats need Node.js 20.9 or later; install it")

	empty := t.TempDir()
	require.NoError(t, os.MkdirAll(empty+"/src", 0o755))
	require.NoError(t, os.WriteFile(empty+"/src/main.js", nil, 0o644))
	rt2, err := NewRuntime(Options{WorkerDir: empty})
	require.NoError(t, err)
	defer rt2.Close()
	err = rt2.Check(t.Context())
	require.ErrorIs(t, err, ErrNoWorker)
	require.ErrorContains(t, err, "run `npm ci --prefix "+empty+"`")
}

func TestNegativeWarmIsRefused(t *testing.T) {
	_, err := NewRuntime(Options{Warm: -1})
	require.ErrorContains(t, err, "Options.Warm -1: must not be negative")
	_, err = NewRuntime(Options{WarmOnUse: -2})
	require.ErrorContains(t, err, "Options.WarmOnUse -2: must not be negative")
}
