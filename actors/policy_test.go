package actors_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/vat"
)

// orphanRegistry is the seeds' scenario (ocap-kernel #879, scenario 11):
// a provider with an ephemeral object, a consumer that holds it.
func orphanRegistry() *vat.Registry {
	reg := vat.NewRegistry()
	reg.MustRegister("provider", func(vc *vat.Context) (any, error) {
		return vat.Far("provider", vat.Methods{
			"getEphemeral": func(c *vat.Call) (any, error) {
				return vat.Far("ephemeral", vat.Methods{
					"increment": func(c *vat.Call) (any, error) { return 999, nil },
				}), nil
			},
			"ping": func(c *vat.Call) (any, error) { return "pong", nil },
		}), nil
	})
	reg.MustRegister("consumer", func(vc *vat.Context) (any, error) {
		var eph any
		return vat.Far("consumer", vat.Methods{
			"bootstrap": func(c *vat.Call) (any, error) {
				p := c.Arg(0).(map[string]any)["provider"]
				var err error
				eph, err = vat.E(p).Send("getEphemeral").Await()
				return nil, err
			},
			"useEphemeral": func(c *vat.Call) (any, error) { return vat.E(eph).Send("increment"), nil },
		}), nil
	})
	return reg
}

func orphanCluster(policy kernel.FailurePolicy) kernel.ClusterConfig {
	return kernel.ClusterConfig{Bootstrap: "consumer", Vats: map[string]kernel.VatConfig{
		"consumer": {Bundle: "consumer"},
		"provider": {Bundle: "provider", FailurePolicy: policy},
	}}
}

// The orphaned ephemeral object, with both failure policies: after the
// provider restarts, a message to the ephemeral object of its previous
// incarnation splats OBJECT_DELETED without reaching the provider (the
// restart abandoned the object), so the provider is neither terminated
// (the reference's behaviour: the stale message reaches a vat that does not
// know the object, which fails the delivery) nor restarted again.
func TestOrphanedEphemeralObject(t *testing.T) {
	for _, policy := range []kernel.FailurePolicy{kernel.PolicyTerminate, kernel.PolicyRestart} {
		t.Run(string(policy), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx := context.Background()
				k := start(t, actors.Config{Registry: orphanRegistry()})
				res, err := k.LaunchSubcluster(ctx, orphanCluster(policy))
				require.NoError(t, err)
				v, err := k.QueueMessage(ctx, res.RootKref, "useEphemeral")
				require.NoError(t, err)
				require.Equal(t, int64(999), v)

				provider := res.VatIDs["provider"]
				require.NoError(t, k.RestartVat(ctx, provider))
				_, err = k.QueueMessage(ctx, res.RootKref, "useEphemeral")
				require.True(t, kernel.Carries(err, kernel.ErrObjectDeleted), "%v", err)
				st, serr := k.Status(ctx)
				require.NoError(t, serr)
				active := map[kernel.VatID]bool{}
				for _, v := range st.Vats {
					active[v.ID] = v.Active
				}
				require.True(t, active[res.VatIDs["consumer"]], "the consumer lives on")
				require.True(t, active[provider], "the provider never saw the stale message")
				inc, err := k.PingVat(ctx, provider)
				require.NoError(t, err)
				require.Equal(t, int64(1), inc, "restarted once, by the host")
				v, err = k.QueueMessage(ctx, res.Roots["provider"], "ping")
				require.NoError(t, err)
				require.Equal(t, "pong", v)
			})
		})
	}
}

// workerRegistry has a worker that doubles numbers and panics on negative
// ones.
func workerRegistry() *vat.Registry {
	reg := vat.NewRegistry()
	reg.MustRegister("worker", func(vc *vat.Context) (any, error) {
		return vat.Far("worker", vat.Methods{
			"bootstrap": func(c *vat.Call) (any, error) { return nil, nil },
			"work": func(c *vat.Call) (any, error) {
				n, _ := marshal.Int(c.Arg(0))
				if n < 0 {
					panic("negative input")
				}
				return n * 2, nil
			},
		}), nil
	})
	return reg
}

// A backoff timer from before a host restart does not restart the vat
// early after its next failure: that failure waits out its own backoff.
func TestStaleBackoffTimerIsIgnored(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		k := start(t, actors.Config{Registry: workerRegistry()})
		limits := kernel.RestartLimits{MaxRestarts: 5, Within: kernel.Duration(time.Hour),
			Backoff: kernel.Duration(20 * time.Second), MaxBackoff: kernel.Duration(time.Minute)}
		res, err := k.LaunchSubcluster(ctx, kernel.ClusterConfig{Bootstrap: "worker", Vats: map[string]kernel.VatConfig{
			"worker": {Bundle: "worker", FailurePolicy: kernel.PolicyRestart, Restart: limits},
		}})
		require.NoError(t, err)
		worker := res.VatIDs["worker"]
		_, err = k.QueueMessage(ctx, res.RootKref, "work", -1) // restart due in 20 s
		require.ErrorIs(t, err, kernel.ErrInternalError)
		time.Sleep(time.Second)
		require.NoError(t, k.RestartVat(ctx, worker))          // the host does not wait
		_, err = k.QueueMessage(ctx, res.RootKref, "work", -1) // due in 40 s
		require.ErrorIs(t, err, kernel.ErrInternalError)
		time.Sleep(25 * time.Second) // past the first timer
		_, err = k.PingVat(ctx, worker)
		require.ErrorIs(t, err, actors.ErrVatNotRunning, "still in its second backoff")
		time.Sleep(20 * time.Second)
		synctest.Wait()
		inc, err := k.PingVat(ctx, worker)
		require.NoError(t, err)
		require.Equal(t, int64(2), inc, "restarted by the host, then after the second backoff")
	})
}

// Restart policy: a vat that panics on one message is restarted after a
// backoff and serves later messages; one that keeps failing is terminated
// once it exceeds its restart intensity. Each decision is in the store.
func TestRestartPolicy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		k := start(t, actors.Config{Registry: workerRegistry()})
		limits := kernel.RestartLimits{MaxRestarts: 2, Within: kernel.Duration(time.Minute),
			Backoff: kernel.Duration(100 * time.Millisecond), MaxBackoff: kernel.Duration(time.Second)}
		res, err := k.LaunchSubcluster(ctx, kernel.ClusterConfig{Bootstrap: "worker", Vats: map[string]kernel.VatConfig{
			"worker": {Bundle: "worker", FailurePolicy: kernel.PolicyRestart, Restart: limits},
		}})
		require.NoError(t, err)
		worker := res.VatIDs["worker"]

		_, err = k.QueueMessage(ctx, res.RootKref, "work", -1)
		require.ErrorIs(t, err, kernel.ErrInternalError)
		require.Contains(t, err.Error(), "negative input")
		began := time.Now()
		v, err := k.QueueMessage(ctx, res.RootKref, "work", 21) // waits for the restart
		require.NoError(t, err)
		require.Equal(t, int64(42), v)
		require.GreaterOrEqual(t, time.Since(began), 100*time.Millisecond, "after the backoff")
		inc, err := k.PingVat(ctx, worker)
		require.NoError(t, err)
		require.Equal(t, int64(1), inc)

		// Two more failures within the minute: the second restart takes a
		// doubled backoff, the third failure exceeds MaxRestarts.
		_, err = k.QueueMessage(ctx, res.RootKref, "work", -2)
		require.ErrorIs(t, err, kernel.ErrInternalError)
		_, err = k.QueueMessage(ctx, res.RootKref, "work", 1)
		require.NoError(t, err)
		_, err = k.QueueMessage(ctx, res.RootKref, "work", -3)
		require.ErrorIs(t, err, kernel.ErrInternalError)
		_, err = k.QueueMessage(ctx, res.RootKref, "work", 1)
		require.ErrorIs(t, err, kernel.ErrObjectDeleted, "given up: terminated")
		st, err := k.Status(ctx)
		require.NoError(t, err)
		require.False(t, st.Vats[0].Active)
		_, err = k.PingVat(ctx, worker)
		require.ErrorIs(t, err, actors.ErrVatNotRunning)

		// Every decision is in the store.
		log, err := k.VatLog(ctx, worker)
		require.NoError(t, err)
		var events []string
		for _, e := range log {
			events = append(events, e.Event)
		}
		require.Equal(t, []string{"failed", "restarted", "failed", "restarted", "failed", "terminated"}, events)
		require.Contains(t, log[len(log)-1].Reason, "giving up")
	})
}
