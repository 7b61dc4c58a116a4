package kernel_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/kernel"
	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/persistence"
)

// The host's note of since when a remote's outbox has waited survives a
// restart of the kernel (and a crash after its unit), is refused for an
// ack the remote has not reached or a time before 1970 with nothing
// written, is cleared by a zero time, and goes when the host gives up.
// The auditor checks it after every step.
func TestRemoteWaitingNote(t *testing.T) {
	a := kt.NewWithOptions(t, filepath.Join(t.TempDir(), "a.db"), persistence.Options{})
	b := kt.New(t)
	l := kt.Connect(a, b)
	_, root := bank(b)
	presence := l.Introduce(root)
	a.Call(presence, "deposit", int64(1))
	a.RunUntilQuiescent(0)
	_, _, ok := a.K.RemoteWaiting(l.AtoB)
	require.False(t, ok, "no note yet")

	since := time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)
	out, err := a.K.SetRemoteWaiting(a.Ctx, l.AtoB, 0, since)
	require.NoError(t, err)
	a.Release(out)
	a.AuditNow("note")
	a.RestartKernel(true) // kill -9 after the unit committed
	acked, got, ok := a.K.RemoteWaiting(l.AtoB)
	require.True(t, ok, "the note survived the crash")
	require.Zero(t, acked)
	require.True(t, since.Equal(got), "%v, want %v", got, since)

	before := kernel.DescribeState(a.Store)
	_, err = a.K.SetRemoteWaiting(a.Ctx, l.AtoB, 1, since)
	require.ErrorIs(t, err, kernel.ErrBadConfig, "an ack the remote has not reached")
	_, err = a.K.SetRemoteWaiting(a.Ctx, l.AtoB, 0, time.Unix(0, -5))
	require.ErrorIs(t, err, kernel.ErrBadConfig, "before 1970")
	_, err = a.K.SetRemoteWaiting(a.Ctx, "r9", 0, since)
	require.ErrorIs(t, err, kernel.ErrUnknownRemote)
	require.Equal(t, before, kernel.DescribeState(a.Store), "nothing written")

	out, err = a.K.SetRemoteWaiting(a.Ctx, l.AtoB, 0, time.Time{})
	require.NoError(t, err)
	a.Release(out)
	_, _, ok = a.K.RemoteWaiting(l.AtoB)
	require.False(t, ok, "cleared")

	out, err = a.K.SetRemoteWaiting(a.Ctx, l.AtoB, 0, since)
	require.NoError(t, err)
	a.Release(out)
	out, err = a.K.GiveUpRemote(a.Ctx, l.AtoB)
	require.NoError(t, err)
	a.Release(out)
	a.AuditNow("give up")
	_, _, ok = a.K.RemoteWaiting(l.AtoB)
	require.False(t, ok, "giving up ends the wait")
	_, err = a.K.SetRemoteWaiting(a.Ctx, l.AtoB, 0, since)
	require.ErrorIs(t, err, kernel.ErrRemoteGivenUp)
}
