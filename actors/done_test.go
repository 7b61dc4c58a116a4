package actors_test

import (
	"context"
	"testing"
	"testing/synctest"

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

		// The request that panicked is not answered; its caller gives up.
		rctx, cancel := context.WithCancel(ctx)
		asked := make(chan error, 1)
		go func() {
			asked <- k.ReadStore(rctx, func(*persistence.Store) error { panic("invariant 10 broken: boom") })
		}()
		<-k.Done()
		cancel()
		require.ErrorIs(t, <-asked, context.Canceled)

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
