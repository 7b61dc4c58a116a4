//go:build jsvat

package jsvat

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/vat"
	"github.com/ocapgo/kernel-actors/vatproto"
)

// The adapter on its own, against a fake kernel: a real worker process,
// real liveslots, the deliveries and syscalls checked at the wire.

func startEcho(t *testing.T, rt *Runtime, k *fakeKernel, spec VatSpec) vat.RawVat {
	t.Helper()
	if spec.BundleSpec == "" {
		spec.BundleSpec = testdata(t, "echo.js")
	}
	if spec.ID == "" {
		spec.ID = "v1"
	}
	v := rt.NewVat(spec)
	t.Cleanup(v.Stop)
	require.NoError(t, v.Deliver(startVat(), k))
	return v
}

func TestDeliverMessageAndCheckpoint(t *testing.T) {
	rt := newRuntime(t, Options{})
	k := newFakeKernel()
	logs := &logSink{}
	v := startEcho(t, rt, k, VatSpec{Parameters: map[string]any{"name": "alice"}, Logger: logs.logger()})
	require.NotEmpty(t, k.store, "startVat's checkpoint reached the kernel's vatstore")
	require.Contains(t, logs.text(), "alice: buildRootObject", "console reaches the vat's log")

	require.NoError(t, v.Deliver(message(t, "o+0", "p-1", "hello", "bob"), k))
	got, rejected := resolved(t, k.take(), "p-1")
	require.False(t, rejected)
	require.Equal(t, "hello bob, from alice", got)

	// A durable write goes out in the delivery's checkpoint.
	before := len(k.store)
	require.NoError(t, v.Deliver(message(t, "o+0", "p-2", "incr"), k))
	got, _ = resolved(t, k.take(), "p-2")
	require.Equal(t, int64(1), got)
	require.GreaterOrEqual(t, len(k.store), before)

	// A method that throws rejects its result; the vat lives on.
	require.NoError(t, v.Deliver(message(t, "o+0", "p-3", "fail", "no"), k))
	got, rejected = resolved(t, k.take(), "p-3")
	require.True(t, rejected)
	require.Equal(t, "no", got.(*marshal.Error).Message)
}

// A new incarnation starts from the kernel's vatstore: the worker's copy
// is loaded from it through syscalls at startVat.
func TestRestartReadsVatstore(t *testing.T) {
	rt := newRuntime(t, Options{})
	k := newFakeKernel()
	v := startEcho(t, rt, k, VatSpec{})
	for i := 1; i <= 3; i++ {
		require.NoError(t, v.Deliver(message(t, "o+0", vatproto.VRef("p-"+string(rune('0'+i))), "incr"), k))
	}
	k.take()
	v.Stop()

	v2 := startEcho(t, rt, k, VatSpec{})
	require.NoError(t, v2.Deliver(message(t, "o+0", "p-9", "count"), k))
	got, _ := resolved(t, k.take(), "p-9")
	require.Equal(t, int64(3), got, "the count came back from the vatstore")
}

// pidGone reports whether pid names no process any more (polled: the
// process is the operating system's).
func pidGone(pid int) bool {
	err := syscall.Kill(pid, 0)
	return errors.Is(err, syscall.ESRCH)
}

// A spinning vat is killed the moment the kernel abandons the delivery:
// Deliver returns, and the worker's process is gone. So is a hung one (a
// worker that stopped answering: here, stopped by SIGSTOP), which SIGKILL
// ends all the same.
func TestAbandonKillsSpinningAndHungWorkers(t *testing.T) {
	for _, how := range []string{"spinning", "hung"} {
		t.Run(how, func(t *testing.T) {
			rt := newRuntime(t, Options{})
			k := newFakeKernel()
			logs := &logSink{}
			v := startEcho(t, rt, k, VatSpec{Logger: logs.logger()})
			pids := rt.PIDs()
			require.Len(t, pids, 1)
			k.abandon = make(chan struct{})
			d := message(t, "o+0", "p-1", "spin")
			if how == "hung" {
				require.NoError(t, syscall.Kill(pids[0], syscall.SIGSTOP))
				d = message(t, "o+0", "p-1", "hello", "anyone")
			}
			done := make(chan error, 1)
			go func() { done <- v.Deliver(d, k) }()
			if how == "spinning" {
				eventually(t, func() bool { return strings.Contains(logs.text(), "echo: spinning") }, "the vat spins")
			}
			close(k.abandon) // the kernel gives up on it
			err := <-done
			require.ErrorIs(t, err, ErrAborted)
			require.True(t, pidGone(pids[0]), "worker %d was killed and reaped", pids[0])
			require.Empty(t, rt.PIDs())
			require.ErrorIs(t, v.Deliver(message(t, "o+0", "p-2", "hello", "x"), k), ErrAborted, "a dead vat stays failed")
		})
	}
}

func TestStopKillsWorker(t *testing.T) {
	rt := newRuntime(t, Options{})
	k := newFakeKernel()
	v := startEcho(t, rt, k, VatSpec{})
	pids := rt.PIDs()
	require.Len(t, pids, 1)
	v.Stop()
	require.True(t, pidGone(pids[0]))
	v.Stop() // again: nothing to do
}

func TestUnknownGlobalRefused(t *testing.T) {
	rt := newRuntime(t, Options{})
	// The kernel side refuses it before starting anything...
	v := rt.NewVat(VatSpec{ID: "v1", BundleSpec: testdata(t, "echo.js"), Globals: []string{"Date", "process"}})
	err := v.Deliver(startVat(), newFakeKernel())
	require.ErrorContains(t, err, `unknown global "process"`)
	require.Empty(t, rt.PIDs())
	v.Stop()
}

// A bundle whose endoZipBase64 is not strict base64 (a character outside
// the alphabet, padding missing or left over) fails the launch naming
// the offset, as @endo/base64 refused it, though the worker now decodes
// natively (Buffer.from alone would have taken all three).
func TestBundleWithBadBase64Refused(t *testing.T) {
	rt := newRuntime(t, Options{})
	for i, text := range []string{"QUJD*RA==", "QUI", "QUJD="} {
		file := filepath.Join(t.TempDir(), "bad.bundle")
		require.NoError(t, os.WriteFile(file, []byte(`{"moduleFormat":"endoZipBase64","endoZipBase64":"`+text+`"}`), 0o600))
		v := rt.NewVat(VatSpec{ID: "v" + strconv.Itoa(i+1), BundleSpec: file})
		err := v.Deliver(startVat(), newFakeKernel())
		require.ErrorContains(t, err, "endoZipBase64: invalid base64 at offset", "text %q", text)
		v.Stop()
	}
}

// The bundle npm ci built (dist/worker.mjs) is the one a runtime runs:
// build.mjs and the Go side agree on the digest of src/, so CI, which
// runs npm ci, exercises the bundle, and the tests below the sources.
func TestBuiltBundleIsUsed(t *testing.T) {
	c := chooseEntry(workerDir(t), false)
	require.Empty(t, c.stale)
	require.True(t, c.bundled, "no dist/worker.mjs: run `npm ci --prefix jsvat/worker` (it builds the bundle)")
	require.Equal(t, c.path, newRuntime(t, Options{}).entry)
}

// The worker run from its sources (Options.Unbundled, or a missing or
// stale bundle) is the same worker: a vat starts, answers and keeps its
// state.
func TestUnbundledWorkerRuns(t *testing.T) {
	rt := newRuntime(t, Options{Unbundled: true})
	require.Equal(t, filepath.Join(workerDir(t), "src", "main.js"), rt.entry)
	k := newFakeKernel()
	v := startEcho(t, rt, k, VatSpec{Parameters: map[string]any{"name": "alice"}})
	require.NoError(t, v.Deliver(message(t, "o+0", "p-1", "hello", "bob"), k))
	got, rejected := resolved(t, k.take(), "p-1")
	require.False(t, rejected)
	require.Equal(t, "hello bob, from alice", got)
}

// A promise the vat rejects and never handles is written to the vat's log
// with its reason, and the vat lives on.
func TestUnhandledRejectionIsLogged(t *testing.T) {
	rt := newRuntime(t, Options{})
	k := newFakeKernel()
	logs := &logSink{}
	v := startEcho(t, rt, k, VatSpec{Logger: logs.logger()})
	require.NoError(t, v.Deliver(message(t, "o+0", "p-1", "leaveRejection", "nobody catches me"), k))
	got, rejected := resolved(t, k.take(), "p-1")
	require.False(t, rejected)
	require.Equal(t, "left", got)
	require.NoError(t, v.Deliver(message(t, "o+0", "p-2", "hello", "bob"), k))
	got, _ = resolved(t, k.take(), "p-2")
	require.Equal(t, "hello bob, from echo", got, "the vat lives on")
	require.Contains(t, logs.text(), "unhandled rejection: Error: nobody catches me")

	// A reason that throws when read is reported as such; the worker lives.
	require.NoError(t, v.Deliver(message(t, "o+0", "p-3", "leaveHostileRejection"), k))
	got, _ = resolved(t, k.take(), "p-3")
	require.Equal(t, "left", got)
	require.NoError(t, v.Deliver(message(t, "o+0", "p-4", "hello", "carol"), k))
	got, _ = resolved(t, k.take(), "p-4")
	require.Equal(t, "hello carol, from echo", got)
	require.Contains(t, logs.text(), "unhandled rejection: (a reason that cannot be printed: gotcha)")
}
