package actors_test

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/vat"
)

// Stop with a context that has already ended still closes the store: the
// same process opens the file again at once, and finds the state it left
// (the counter at 2, no second bootstrap). A Stop called again reports
// what the first one did, not nil for having nothing left to do. Before
// the fix, Stop returned context.Canceled with the store open and its
// lock held, and the second Start failed on the lock.
func TestStopWithAnEndedContextClosesTheStore(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
		path := filepath.Join(t.TempDir(), "k.db")
		ctx, cancel := context.WithCancel(context.Background())
		k, err := actors.Start(ctx, actors.Config{DBPath: path, Registry: counterRegistry()})
		require.NoError(t, err)
		res, err := k.LaunchSubcluster(ctx, counterCluster())
		require.NoError(t, err)
		for range 2 {
			_, err = k.QueueMessage(ctx, res.RootKref, "incr")
			require.NoError(t, err)
		}

		cancel()
		require.NoError(t, k.Stop(ctx), "everything was closed: nothing to report")
		require.NoError(t, k.Stop(ctx), "a retry reports the same stop")
		require.ErrorIs(t, k.Err(), actors.ErrStopped)

		bg := context.Background()
		k2, err := actors.Start(bg, actors.Config{DBPath: path, Registry: counterRegistry()})
		require.NoError(t, err, "the store was closed and its lock let go")
		v, err := k2.QueueMessage(bg, res.RootKref, "incr")
		require.NoError(t, err)
		require.Equal(t, int64(3), v, "the state the first kernel committed")
		r, err := k2.QueueMessage(bg, res.RootKref, "report")
		require.NoError(t, err)
		require.Equal(t, int64(1), r.(map[string]any)["bootstraps"])
		require.NoError(t, k2.Stop(bg))
		settle()
	})
}

// The README's shape: a context from signal.NotifyContext and a deferred
// k.Stop(ctx). The interrupt ends the context before Stop runs; Stop
// closes the store anyway, and the same process reopens the file.
// (A real signal: the signal package's goroutine lives outside any
// synctest bubble, so this test runs on the real clock; nothing in it
// waits on a timer.)
func TestStopAfterAnInterrupt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.db")
	runOnce := func(interrupt bool) int64 {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		defer stop()
		k, err := actors.Start(ctx, actors.Config{DBPath: path, Registry: counterRegistry()})
		require.NoError(t, err)
		defer k.Stop(ctx)
		res, err := k.Subcluster(ctx, counterCluster())
		if errors.Is(err, kernel.ErrUnknownSubcluster) {
			res, err = k.LaunchSubcluster(ctx, counterCluster())
		}
		require.NoError(t, err)
		v, err := k.QueueMessage(ctx, res.RootKref, "incr")
		require.NoError(t, err)
		if interrupt {
			p, err := os.FindProcess(os.Getpid())
			require.NoError(t, err)
			require.NoError(t, p.Signal(os.Interrupt))
			<-ctx.Done() // the deferred Stop gets an ended context
		}
		return v.(int64)
	}
	require.Equal(t, int64(1), runOnce(true))
	require.Equal(t, int64(2), runOnce(true), "reopened in the same process after the interrupt")
	require.Equal(t, int64(3), runOnce(false))
}

// A delivery that would never end (a vat blocked, no delivery deadline)
// does not hold Stop once its context has ended: the delivery is cut
// short and its crank rolled back, so the message stays queued, and the
// store is closed. The blocked vat's goroutine cannot be stopped (Go vats
// are trusted code), and Stop says so, within its budget, wrapping
// ErrStopTimeout. A retried Stop reports the same. Reopened, the kernel
// delivers the message that was cut short, once.
func TestStopCutsADeliveryShortOnceItsContextEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "k.db")
		release := make(chan struct{})
		reg := counterRegistry()
		reg.MustRegister("stuck", func(vc *vat.Context) (any, error) {
			return vat.Far("stuck", vat.Methods{
				"bootstrap": func(c *vat.Call) (any, error) { return nil, nil },
				"wait": func(c *vat.Call) (any, error) {
					if vc.Incarnation == 0 {
						<-release
					}
					n, _ := vc.Baggage.Get("waits")
					if n == nil {
						n = int64(0)
					}
					return n.(int64) + 1, vc.Baggage.Set("waits", n.(int64)+1)
				},
			}), nil
		})
		bg := context.Background()
		k, err := actors.Start(bg, actors.Config{DBPath: path, Registry: reg, DeliveryDeadline: -1, StopTimeout: 5 * time.Second})
		require.NoError(t, err)
		res, err := k.LaunchSubcluster(bg, stuckCluster())
		require.NoError(t, err)
		asked := make(chan error, 1)
		go func() {
			_, err := k.QueueMessage(bg, res.RootKref, "wait")
			asked <- err
		}()
		synctest.Wait() // the delivery is under way, and blocked

		ctx, cancel := context.WithTimeout(bg, time.Minute)
		defer cancel()
		start := time.Now()
		err = k.Stop(ctx)
		require.ErrorIs(t, err, actors.ErrStopTimeout)
		require.ErrorContains(t, err, "the store is closed")
		require.Equal(t, time.Minute+5*time.Second, time.Since(start), "the context, then the budget")
		require.ErrorIs(t, <-asked, actors.ErrStopped, "the cut delivery's caller is told")
		// The retry waits for the stop's own end: the actors' wait (10 s)
		// runs out, and the blocked vat is named as what kept them.
		err = k.Stop(bg)
		require.ErrorIs(t, err, actors.ErrStopTimeout, "a retry reports the stop: %v", err)
		require.ErrorContains(t, err, "the store is closed, but the kernel's actors did not stop")

		k2, err := actors.Start(bg, actors.Config{DBPath: path, Registry: reg})
		require.NoError(t, err, "the store was closed")
		require.NoError(t, k2.WaitIdle(bg))
		v, err := k2.QueueMessage(bg, res.RootKref, "wait")
		require.NoError(t, err)
		require.Equal(t, int64(2), v, "the cut message ran once, after the reopen; this is the second")
		require.NoError(t, k2.Stop(bg))
		close(release) // the first incarnation's goroutine ends
		settle()
	})
}

func stuckCluster() kernel.ClusterConfig {
	return kernel.ClusterConfig{Bootstrap: "stuck", Vats: map[string]kernel.VatConfig{"stuck": {Bundle: "stuck"}}}
}
