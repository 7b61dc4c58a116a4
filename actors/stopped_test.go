package actors_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/persistence"
)

// A request whose handling panicked (a kernel bug) gets an answer as soon
// as the kernel stops itself: ErrStopped, naming the panic. Its context
// never ends, so before the fix its caller waited forever (synctest then
// fails the test: every goroutine blocked). Requests sent after it are
// refused the same way, and Stop still answers with its own result.
func TestPanickedRequestIsAnsweredErrStopped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
		ctx := context.Background()
		k, err := actors.Start(ctx, actors.Config{Registry: registry()})
		require.NoError(t, err)
		res, err := k.LaunchSubcluster(ctx, twoVats())
		require.NoError(t, err)

		err = k.ReadStore(ctx, func(*persistence.Store) error { panic("invariant 10 broken: boom") })
		require.ErrorIs(t, err, actors.ErrStopped)
		require.ErrorContains(t, err, "kernel failure: invariant 10 broken: boom")
		select {
		case <-k.Done():
		default:
			t.Fatal("answered ErrStopped, but Done is open")
		}

		_, err = k.QueueMessage(ctx, res.RootKref, "ask", "host")
		require.ErrorIs(t, err, actors.ErrStopped)
		require.ErrorContains(t, err, "boom")
		require.False(t, errors.Is(err, persistence.ErrFailed), "a kernel bug is not a store failure")
		require.NoError(t, k.Stop(ctx), "Stop answers for itself, not with the kernel's end")
		settle()
	})
}

// The reason a kernel stopped itself is wrapped, not only quoted: a host
// matches a store failure with errors.Is(k.Err(), persistence.ErrFailed)
// (and the requests refused after it), to tell it from a kernel bug.
func TestStoppedErrWrapsTheReason(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		db := filepath.Join(t.TempDir(), "k.db")
		k, err := actors.Start(ctx, actors.Config{Registry: registry(), DBPath: db})
		require.NoError(t, err)
		res, err := k.LaunchSubcluster(ctx, twoVats())
		require.NoError(t, err)

		// Another program holds the write lock past the busy timeout: the
		// next flush fails, and the kernel stops itself.
		other, err := sql.Open("sqlite3", db)
		require.NoError(t, err)
		defer other.Close()
		lock, err := other.Conn(ctx)
		require.NoError(t, err)
		_, err = lock.ExecContext(ctx, "BEGIN IMMEDIATE")
		require.NoError(t, err)
		_, err = k.QueueMessage(ctx, res.RootKref, "ask", "host")
		require.ErrorIs(t, err, persistence.ErrFailed)
		<-k.Done()

		require.ErrorIs(t, k.Err(), actors.ErrStopped)
		require.ErrorIs(t, k.Err(), persistence.ErrFailed, "the reason is wrapped: %v", k.Err())
		_, err = k.Status(ctx)
		require.ErrorIs(t, err, actors.ErrStopped)
		require.ErrorIs(t, err, persistence.ErrFailed, "requests refused later say why too")

		_, err = lock.ExecContext(ctx, "ROLLBACK")
		require.NoError(t, err)
		require.NoError(t, lock.Close())
		require.NoError(t, other.Close())
		require.NoError(t, k.Stop(ctx))
		require.ErrorIs(t, k.Err(), persistence.ErrFailed, "Stop keeps the first reason")
		settle()
	})
}
