package actors_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"testing/synctest"

	_ "github.com/mattn/go-sqlite3"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/persistence"
)

// A kernel that stops itself (here a kernel bug: a panic on the kernel
// actor) closes Done at once, without a request, and Err names the
// reason; a later Stop keeps that reason.
func TestDoneWhenTheKernelStopsItself(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
		ctx := context.Background()
		k, err := actors.Start(ctx, actors.Config{Registry: registry()})
		require.NoError(t, err)
		require.NoError(t, k.Err(), "running")
		select {
		case <-k.Done():
			t.Fatal("Done closed while the kernel runs")
		default:
		}

		// The request that panicked is answered ErrStopped once Done
		// closes, though its context never ends (stopped_test.go).
		asked := make(chan error, 1)
		go func() {
			asked <- k.ReadStore(ctx, func(*persistence.Store) error { panic("invariant 10 broken: boom") })
		}()
		<-k.Done()
		require.ErrorIs(t, <-asked, actors.ErrStopped)

		err = k.Err()
		require.ErrorIs(t, err, actors.ErrStopped)
		require.Contains(t, err.Error(), "kernel failure: invariant 10 broken: boom")
		_, err = k.Status(ctx)
		require.ErrorIs(t, err, actors.ErrStopped)
		require.Contains(t, err.Error(), "boom", "requests are told why")

		require.NoError(t, k.Stop(ctx))
		require.Contains(t, k.Err().Error(), "boom", "Stop keeps the first reason")
		settle()
	})
}

// A clean Stop closes Done too, with Err plain ErrStopped.
func TestDoneAtStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
		ctx := context.Background()
		k, err := actors.Start(ctx, actors.Config{Registry: registry()})
		require.NoError(t, err)
		require.NoError(t, k.Stop(ctx))
		<-k.Done()
		require.Equal(t, actors.ErrStopped, k.Err())
		settle()
	})
}

// A store failure in a host request's own unit (here its flush cannot
// take the write lock: another program holds it past the busy timeout)
// stops the kernel as a crank's would: Done closes, Err says why, and
// later requests get ErrStopped instead of the store's error each time.
func TestDoneWhenARequestsFlushFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		db := filepath.Join(t.TempDir(), "k.db")
		k, err := actors.Start(ctx, actors.Config{Registry: registry(), DBPath: db})
		require.NoError(t, err)
		res, err := k.LaunchSubcluster(ctx, twoVats())
		require.NoError(t, err)

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
		require.Contains(t, k.Err().Error(), persistence.ErrFailed.Error())
		require.Contains(t, k.Err().Error(), "database is locked")
		_, err = k.Status(ctx)
		require.ErrorIs(t, err, actors.ErrStopped)

		_, err = lock.ExecContext(ctx, "ROLLBACK")
		require.NoError(t, err)
		require.NoError(t, lock.Close())
		require.NoError(t, other.Close())
		require.NoError(t, k.Stop(ctx))
		settle()
	})
}
