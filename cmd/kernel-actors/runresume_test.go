package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/clusterfile"
	"github.com/ocapgo/kernel-actors/internal/demos/catalog"
	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/persistence/sqlitestore"
)

// The child process that makes a database as a crash during a launch
// leaves it: the test binary run again with these variables set (see
// TestMain) launches the config in a kernel on the database and dies by
// SIGKILL at the point named.
const (
	cutLaunchEnv       = "KERNEL_ACTORS_TEST_CUT_LAUNCH" // the cut point, below
	cutLaunchDBEnv     = "KERNEL_ACTORS_TEST_CUT_LAUNCH_DB"
	cutLaunchConfigEnv = "KERNEL_ACTORS_TEST_CUT_LAUNCH_CONFIG"

	// cutAfterLaunch: at the first flush after the launch was asked for,
	// once its COMMIT has returned: the launch's unit is in the file,
	// its bootstrap message queued and not delivered.
	cutAfterLaunch = "after-launch"
	// cutAfterBootstrap: once LaunchSubcluster has answered, the
	// bootstrap settled and flushed, before anything else.
	cutAfterBootstrap = "after-bootstrap"
)

// cutLaunchChild is the child's whole life; it returns an exit code only
// if it was not killed where it should have been.
func cutLaunchChild(point string) int {
	ctx := context.Background()
	fail := func(format string, args ...any) int {
		fmt.Fprintf(os.Stderr, "cut-launch child: "+format+"\n", args...)
		return 3
	}
	cfg, err := clusterfile.Load(os.Getenv(cutLaunchConfigEnv), clusterfile.Options{})
	if err != nil {
		return fail("%v", err)
	}
	cut := &killAtCommit{}
	k, err := actors.Start(ctx, actors.Config{DBPath: os.Getenv(cutLaunchDBEnv), Registry: catalog.Registry(),
		CommitPolicy: persistence.Durable, StoreFaults: cut})
	if err != nil {
		return fail("start: %v", err)
	}
	switch point {
	case cutAfterLaunch:
		cut.armed.Store(true)
		_, err := k.LaunchSubcluster(ctx, cfg)
		return fail("the launch answered (%v) and no flush killed the child", err)
	case cutAfterBootstrap:
		if _, err := k.LaunchSubcluster(ctx, cfg); err != nil {
			return fail("launch: %v", err)
		}
		killSelf()
	}
	return fail("unknown cut point %q", point)
}

// killAtCommit kills the process at the first flush's FaultAfterCommit
// once armed.
type killAtCommit struct{ armed atomic.Bool }

// Fault is the store's hook at each commit boundary.
func (c *killAtCommit) Fault(p persistence.FaultPoint) error {
	if p == persistence.FaultAfterCommit && c.armed.Load() {
		killSelf()
	}
	return nil
}

// killSelf dies as kill -9 would make it, and never returns.
func killSelf() {
	syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {}
}

// cutLaunch runs the child on db and config and checks it died by SIGKILL.
func cutLaunch(t *testing.T, point, db, config string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), cutLaunchEnv+"="+point, cutLaunchDBEnv+"="+db, cutLaunchConfigEnv+"="+config)
	out, err := cmd.CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	require.True(t, ok, "the child did not fail: %v\n%s", err, out)
	ws, ok := ee.Sys().(syscall.WaitStatus)
	require.True(t, ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL, "the child died by SIGKILL: %v\n%s", err, out)
}

// fileState is what the database holds, read read-only as inspect does.
func fileState(t *testing.T, db string) (subclusters []kernel.SubclusterInfo, vats []kernel.VatInfo, queued int) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlitestore.Open(ctx, db, persistence.Options{ReadOnly: true})
	require.NoError(t, err)
	defer st.Close(ctx)
	problems, err := kernel.Audit(ctx, st)
	require.NoError(t, err)
	require.Empty(t, problems, "the file audits clean")
	k, err := kernel.New(kernel.Config{Store: st})
	require.NoError(t, err)
	return k.Subclusters(), k.Vats(), st.QueueLen()
}

// requireInOrder fails unless out holds every part, in this order.
func requireInOrder(t *testing.T, out string, parts ...string) {
	t.Helper()
	rest := out
	for _, p := range parts {
		i := strings.Index(rest, p)
		require.GreaterOrEqual(t, i, 0, "want %q (after the parts before it) in:\n%s", p, out)
		rest = rest[i+len(p):]
	}
}

// run on a database cut after the launch committed and before its
// bootstrap ran: the subcluster is there, its bootstrap message queued.
// run says so, says the bootstrap runs now, and prints its result once it
// has settled; it launches nothing. The next run finds a bootstrap that
// ran before, and says that.
func TestRunAfterCrashBeforeBootstrap(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "k.db")
	cfg := writeFile(t, dir, "c.yaml", counterConfig)
	cutLaunch(t, cutAfterLaunch, db, cfg)
	subs, _, queued := fileState(t, db)
	require.Len(t, subs, 1, "the launch committed")
	require.Equal(t, persistence.PromiseUnresolved, subs[0].BootstrapState, "and its bootstrap had not run")
	require.Equal(t, 1, queued, "the bootstrap message waits in the queue")

	code, out, errOut := cli(t, "run", "--config", cfg, "--db", db)
	require.Equal(t, 0, code, errOut)
	requireInOrder(t, out,
		"subcluster s1 is in "+db+" already: resumed. Its bootstrap had not finished when the last run stopped: it runs now\n",
		"bootstrap result: \"counter ready\"\n",
		"quiescent: 1 crank in this run", "1 in all") // the bootstrap's, in the resume
	require.NotContains(t, out, "launched")
	require.NotContains(t, out, "ran before")
	subs, vats, queued := fileState(t, db)
	require.Len(t, subs, 1)
	require.Equal(t, persistence.PromiseFulfilled, subs[0].BootstrapState)
	require.Zero(t, queued)
	require.Len(t, vats, 1, "no second launch")

	code, out, errOut = cli(t, "run", "--config", cfg, "--db", db)
	require.Equal(t, 0, code, errOut)
	requireInOrder(t, out,
		"subcluster s1 is in "+db+" already: resumed. Its bootstrap ran before, with result \"counter ready\"; it does not run again\n",
		"quiescent: 0 cranks in this run", "1 in all")
	require.NotContains(t, out, "runs now")
	require.NotContains(t, out, "launched")
}

// run on a database cut after the bootstrap had settled: it says that the
// bootstrap ran before, with its result read from the file, and that it
// does not run again.
func TestRunAfterCrashAfterBootstrap(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "k.db")
	cfg := writeFile(t, dir, "c.yaml", counterConfig)
	cutLaunch(t, cutAfterBootstrap, db, cfg)
	subs, _, _ := fileState(t, db)
	require.Len(t, subs, 1)
	require.Equal(t, persistence.PromiseFulfilled, subs[0].BootstrapState, "the bootstrap had settled")

	code, out, errOut := cli(t, "run", "--config", cfg, "--db", db)
	require.Equal(t, 0, code, errOut)
	requireInOrder(t, out,
		"subcluster s1 is in "+db+" already: resumed. Its bootstrap ran before, with result \"counter ready\"; it does not run again\n",
		"quiescent: 0 cranks in this run", "1 in all") // not delivered again
	require.NotContains(t, out, "runs now")
	require.NotContains(t, out, "launched")
	subs, vats, _ := fileState(t, db)
	require.Len(t, subs, 1)
	require.Len(t, vats, 1)
}

// run on a database cut before a bootstrap that then rejects (echo/bob
// has no bootstrap method): the kernel terminates the subcluster in the
// unit that rejects it; run says so, launches it afresh as it says, and
// fails as a fresh launch of that config fails, leaving no subcluster.
func TestRunAfterCrashBeforeRejectedBootstrap(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "k.db")
	cfg := writeFile(t, dir, "c.yaml", "bootstrap: bob\nvats:\n  bob: {bundle: echo/bob}\n")
	cutLaunch(t, cutAfterLaunch, db, cfg)
	subs, _, _ := fileState(t, db)
	require.Len(t, subs, 1)
	require.Equal(t, persistence.PromiseUnresolved, subs[0].BootstrapState)

	code, out, errOut := cli(t, "run", "--config", cfg, "--db", db)
	require.Equal(t, 1, code, "%s\n%s", out, errOut)
	requireInOrder(t, out, "was rejected, so the kernel terminated the subcluster: launching it afresh\n")
	require.NotContains(t, out, "quiescent")
	require.Contains(t, errOut, `bootstrap of vat "bob" failed, and the subcluster was terminated`)
	require.Contains(t, errOut, `has no method "bootstrap"`)
	subs, vats, _ := fileState(t, db)
	require.Empty(t, subs, "nothing left behind")
	require.Len(t, vats, 2, "the resumed launch's vat and the fresh one's")
	for _, v := range vats {
		require.False(t, v.Active, "vat %s", v.ID)
	}
}
