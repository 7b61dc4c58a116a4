package jsvat

import (
	"os"
	"strings"
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

// The worker is told its tier-up budget (the default unless the caller
// set one), a worker of another language is not, and a budget past the
// bound is refused with its name.
func TestTierUpBudget(t *testing.T) {
	rt, err := NewRuntime(Options{})
	require.NoError(t, err)
	defer rt.Close()
	_, args := rt.workerCommand("v1")
	require.Equal(t, []string{"--tier-up-budget", "1024"}, args[2:4], "the default budget: %q", args)

	own, err := NewRuntime(Options{TierUpBudget: 300})
	require.NoError(t, err)
	defer own.Close()
	_, args = own.workerCommand("")
	require.Contains(t, strings.Join(args, " "), "--tier-up-budget 300")

	v8, err := NewRuntime(Options{TierUpBudget: -1})
	require.NoError(t, err)
	defer v8.Close()
	_, args = v8.workerCommand("")
	require.NotContains(t, args, "--tier-up-budget", "a negative budget keeps V8's own")

	other, err := NewRuntime(Options{Command: []string{"my-worker", "--x"}})
	require.NoError(t, err)
	defer other.Close()
	prog, args := other.workerCommand("v2")
	require.Equal(t, "my-worker", prog)
	require.NotContains(t, args, "--tier-up-budget", "a worker of another language is not told V8's budget")
	require.Equal(t, "--x", args[0])

	_, err = NewRuntime(Options{TierUpBudget: 1 << 21})
	require.ErrorContains(t, err, "Options.TierUpBudget 2097152: want at most 1048576")
}
