package actors_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/vat"
)

func registry() *vat.Registry {
	reg := vat.NewRegistry()
	reg.MustRegister("alice", func(vc *vat.Context) (any, error) {
		var bob any
		return vat.Far("alice", vat.Methods{
			"bootstrap": func(c *vat.Call) (any, error) {
				bob = c.Arg(0).(map[string]any)["bob"]
				return "alice is ready", nil
			},
			"ask": func(c *vat.Call) (any, error) {
				return vat.E(bob).Send("hello", c.Arg(0)).Await()
			},
		}), nil
	})
	reg.MustRegister("bob", func(vc *vat.Context) (any, error) {
		return vat.Far("bob", vat.Methods{
			"hello": func(c *vat.Call) (any, error) { return "hello, " + c.Arg(0).(string), nil },
		}), nil
	})
	return reg
}

func twoVats() kernel.ClusterConfig {
	return kernel.ClusterConfig{Bootstrap: "alice", Vats: map[string]kernel.VatConfig{
		"alice": {Bundle: "alice"}, "bob": {Bundle: "bob"},
	}}
}

// start starts a kernel for a test and stops it when the test ends.
func start(t *testing.T, cfg actors.Config) *actors.Kernel {
	t.Helper()
	if cfg.Registry == nil {
		cfg.Registry = registry()
	}
	k, err := actors.Start(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		k.Stop(context.Background())
		settle()
	})
	return k
}

// settle lets protoactor's background timers (the dead-letter throttle)
// run out, on synctest's clock, before a test's bubble ends.
func settle() { time.Sleep(time.Minute) }

func TestLaunchAndQueueMessage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
		ctx := context.Background()
		k, err := actors.Start(ctx, actors.Config{Registry: registry()})
		require.NoError(t, err)
		res, err := k.LaunchSubcluster(ctx, twoVats())
		require.NoError(t, err)
		require.Equal(t, "alice is ready", res.BootstrapResult)
		require.Equal(t, kernel.SubclusterID("s1"), res.SubclusterID)
		require.Len(t, res.VatIDs, 2)

		v, err := k.QueueMessage(ctx, res.RootKref, "ask", "host")
		require.NoError(t, err)
		require.Equal(t, "hello, host", v)

		st, err := k.Status(ctx)
		require.NoError(t, err)
		require.Len(t, st.Vats, 2)
		require.Equal(t, 0, st.QueueLength)
		require.NoError(t, k.Stop(ctx))
		_, err = k.Status(ctx)
		require.ErrorIs(t, err, actors.ErrStopped)
		settle()
	})
}

// WaitIdle returns only once the work under way has run out, and at once
// when there is none; ReadStore sees the state between cranks.
func TestWaitIdleAndReadStore(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		reg := registry()
		reg.MustRegister("sleepy", func(vc *vat.Context) (any, error) {
			return vat.Far("sleepy", vat.Methods{
				"bootstrap": func(c *vat.Call) (any, error) { return nil, nil },
				"nap":       func(c *vat.Call) (any, error) { time.Sleep(time.Second); return "rested", nil },
			}), nil
		})
		k := start(t, actors.Config{Registry: reg})
		require.NoError(t, k.WaitIdle(ctx), "a new kernel is idle")
		res, err := k.LaunchSubcluster(ctx, kernel.ClusterConfig{Bootstrap: "sleepy", Vats: map[string]kernel.VatConfig{"sleepy": {Bundle: "sleepy"}}})
		require.NoError(t, err)
		done := make(chan error, 2)
		for i := 0; i < 2; i++ {
			go func() { _, err := k.QueueMessage(ctx, res.RootKref, "nap"); done <- err }()
		}
		synctest.Wait() // the first nap is under way (on synctest's clock)
		start := time.Now()
		require.NoError(t, k.WaitIdle(ctx))
		require.Equal(t, 2*time.Second, time.Since(start), "both naps ran before the kernel was idle")
		var queued int
		require.NoError(t, k.ReadStore(ctx, func(st *persistence.Store) error {
			queued = st.QueueLen()
			return nil
		}))
		require.Zero(t, queued)
		require.NoError(t, <-done)
		require.NoError(t, <-done)
		require.ErrorIs(t, k.ReadStore(ctx, func(*persistence.Store) error { return errBoom }), errBoom)
	})
}

var errBoom = errors.New("boom")

// A request still waiting for its result when the kernel stops is
// answered ErrStopped, and what it would have done next does not run.
func TestStopAnswersWaitingRequests(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		reg := registry()
		reg.MustRegister("never", func(vc *vat.Context) (any, error) {
			return vat.Far("never", vat.Methods{
				"bootstrap": func(c *vat.Call) (any, error) { return nil, nil },
				"wait": func(c *vat.Call) (any, error) {
					p, _, _ := c.NewPromise() // never settled
					return p, nil
				},
			}), nil
		})
		k := start(t, actors.Config{Registry: reg})
		res, err := k.LaunchSubcluster(ctx, kernel.ClusterConfig{Bootstrap: "never", Vats: map[string]kernel.VatConfig{"never": {Bundle: "never"}}})
		require.NoError(t, err)
		errs := make(chan error, 1)
		go func() { _, err := k.QueueMessage(ctx, res.RootKref, "wait"); errs <- err }()
		require.NoError(t, k.WaitIdle(ctx))
		synctest.Wait()
		require.NoError(t, k.Stop(ctx))
		err = <-errs
		require.ErrorIs(t, err, actors.ErrStopped)
		require.Equal(t, actors.ErrStopped.Error(), err.Error(), "said once")
	})
}
