package actors_test

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/internal/proctest"
	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/remote/identity"
	"github.com/ocapgo/kernel-actors/vat"
)

// shiftedClock is the real clock moved forward by a shift the test sets:
// its timers are real (protoactor-go remote needs real sockets, so no
// synctest bubble), and Now jumps when the test says, so an hour's wait
// takes none.
type shiftedClock struct{ shift atomic.Int64 }

func (c *shiftedClock) Now() time.Time                         { return time.Now().Add(time.Duration(c.shift.Load())) }
func (c *shiftedClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
func (c *shiftedClock) AfterFunc(d time.Duration, f func()) func() bool {
	return time.AfterFunc(d, f).Stop
}
func (c *shiftedClock) jump(to time.Duration) { c.shift.Store(int64(to)) }

// The give-up wait goes on across a restart of the kernel: a message
// waits for a peer nobody can reach; six minutes or more into the wait
// (of an hour's GiveUpAfter) its start is noted in the store; the kernel
// stops, and starts again over its file; at sixty-five minutes after the
// wait began (at most fifty-nine after the restart) the kernel gives up on
// the peer. Counted from the restart, as before, it waited an hour more.
// The note goes with the give-up. Each run of the kernel is a process of
// its own (protoactor-go remote's state is the process's: a second remote
// in one process races with the first one's closing connections), and a
// real network is involved, so the test polls with a deadline.
func TestRemoteGiveUpWaitSurvivesRestart(t *testing.T) {
	const name = "TestRemoteGiveUpWaitSurvivesRestart"
	switch os.Getenv(remoteRoleEnv) {
	case "first", "again":
		giveUpRun(t, os.Getenv(remoteRoleEnv))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	dir := t.TempDir()
	first := proctest.Start[giveUpLine](t, ctx, remoteRoleEnv, name, "first")
	first.Write(giveUpLine{Dir: dir})
	noted := first.Read()
	first.Wait()
	require.NotZero(t, noted.Since, "the first run noted the wait's start")
	again := proctest.Start[giveUpLine](t, ctx, remoteRoleEnv, name, "again")
	again.Write(giveUpLine{Dir: dir, Since: noted.Since, Shift: noted.Shift})
	report := again.Read()
	again.Wait()
	require.True(t, report.GivenUp, "given up sixty-five minutes into the wait, across the restart")
	require.Zero(t, report.Since, "giving up ends the wait")
	require.Empty(t, report.Problems, "the auditor")
}

// giveUpLine is a line between the test and its kernel runs.
type giveUpLine struct {
	Dir      string        `json:"dir,omitempty"`
	Since    int64         `json:"since,omitempty"` // the noted start, unix nanoseconds
	Shift    time.Duration `json:"shift,omitempty"` // the first run's clock shift when it stopped
	GivenUp  bool          `json:"given_up,omitempty"`
	Problems []string      `json:"problems,omitempty"`
}

// giveUpRun is one run of the kernel: the first makes the remote and the
// waiting message and runs its clock ahead until the wait is noted; the
// second starts over the same file and jumps to sixty-five minutes after
// the noted start.
func giveUpRun(t *testing.T, role string) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	pipe := proctest.NewPipe[giveUpLine](t)
	in := pipe.Read()
	clock := &shiftedClock{}
	clock.jump(in.Shift)
	cfg := actors.Config{Registry: vat.NewRegistry(), DBPath: filepath.Join(in.Dir, "k.db"), Clock: clock,
		Remote: &actors.RemoteConfig{Host: "127.0.0.1", InsecureLoopback: true,
			ResendEvery: 20 * time.Millisecond, GiveUpAfter: time.Hour}}
	k, err := actors.Start(ctx, cfg)
	require.NoError(t, err)
	defer k.Stop(context.WithoutCancel(ctx))
	noted := func(r kernel.RemoteID) (since time.Time, ok bool) {
		require.NoError(t, k.ReadStore(ctx, func(st *persistence.Store) error {
			_, since, ok = kernel.ReadRemoteWaiting(st, r)
			return nil
		}))
		return since, ok
	}
	if role == "first" {
		ghost, err := identity.Generate(rand.Reader)
		require.NoError(t, err)
		r, err := k.AddRemote(ctx, string(ghost.ID()), deadAddress(t))
		require.NoError(t, err)
		presence, err := k.ImportFromRemote(ctx, r, "ro+1")
		require.NoError(t, err)
		go k.QueueMessage(ctx, presence, "hello") // waits in the outbox; Stop ends the call
		pollRemote(ctx, t, k, func(info kernel.RemoteInfo) bool { return info.Pending == 1 })
		// The clock runs a minute ahead at each look, until the wait is
		// noted: six minutes in, a tenth of GiveUpAfter.
		shift := time.Duration(0)
		for {
			if _, ok := noted(r); ok || ctx.Err() != nil {
				break
			}
			shift += time.Minute
			clock.jump(shift)
			time.Sleep(10 * time.Millisecond)
		}
		since, ok := noted(r)
		require.True(t, ok, "the wait's start is noted once it matters")
		require.LessOrEqual(t, since, clock.Now().Add(-6*time.Minute), "the wait had lasted a tenth of GiveUpAfter")
		pipe.Write(giveUpLine{Since: since.UnixNano(), Shift: shift})
		return
	}
	infos, err := k.Remotes(ctx)
	require.NoError(t, err)
	require.Len(t, infos, 1)
	require.False(t, infos[0].GivenUp)
	require.Equal(t, 1, infos[0].Pending, "the message waits on")
	// Sixty-five minutes after the wait began; the restart came at least
	// six minutes into it, so fifty-nine at most after the restart.
	clock.jump(time.Unix(0, in.Since).Add(65 * time.Minute).Sub(time.Now()))
	pollRemote(ctx, t, k, func(info kernel.RemoteInfo) bool { return info.GivenUp || ctx.Err() != nil })
	var report giveUpLine
	report.GivenUp = ctx.Err() == nil
	if since, ok := noted(infos[0].ID); ok {
		report.Since = since.UnixNano()
	}
	require.NoError(t, k.ReadStore(ctx, func(st *persistence.Store) error {
		report.Problems, err = kernel.Audit(ctx, st)
		return err
	}))
	pipe.Write(report)
}

// pollRemote waits (a real network: polling, with ctx's deadline) until
// the kernel's one remote satisfies cond.
func pollRemote(ctx context.Context, t *testing.T, k *actors.Kernel, cond func(kernel.RemoteInfo) bool) {
	t.Helper()
	for {
		infos, err := k.Remotes(ctx)
		require.NoError(t, err)
		require.Len(t, infos, 1)
		if cond(infos[0]) {
			return
		}
		require.NoError(t, ctx.Err(), "the remote is %+v", infos[0])
		time.Sleep(10 * time.Millisecond)
	}
}
