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
	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/vat"
	"github.com/ocapgo/kernel-actors/vatproto"
)

// illegalVat is a raw vat that answers "misbehave" with an illegal
// syscall (resolving a promise it does not hold) and anything else
// properly.
type illegalVat struct{}

func (illegalVat) Deliver(d vatproto.Delivery, sys vatproto.Syscaller) error {
	if d.Kind != vatproto.DeliverMessage {
		return nil
	}
	method, _ := marshal.MethodName(d.Message.Methargs)
	if method == "misbehave" {
		sys.Syscall(vatproto.Syscall{Kind: vatproto.SyscallResolve, Resolutions: []vatproto.VatResolution{
			{VPID: "p-99", Data: marshal.EncodeString("not mine")}}})
	}
	sys.Syscall(vatproto.Syscall{Kind: vatproto.SyscallResolve, Resolutions: []vatproto.VatResolution{
		{VPID: d.Message.Result, Data: marshal.EncodeString("ok")}}})
	return nil
}

func (illegalVat) Stop() {}

// troubleRegistry has a vat that fails in every way on request, a raw vat
// that makes illegal syscalls, and a well-behaved one.
func troubleRegistry(release chan struct{}) *vat.Registry {
	reg := registry()
	reg.MustRegister("trouble", func(vc *vat.Context) (any, error) {
		return vat.Far("trouble", vat.Methods{
			"bootstrap": func(c *vat.Call) (any, error) { return nil, nil },
			"exit": func(c *vat.Call) (any, error) {
				vc.Exit(false, "done")
				return "leaving", nil
			},
			"panic": func(c *vat.Call) (any, error) { panic("trouble panicked") },
			"spoof": func(c *vat.Call) (any, error) { panic("terminated by the host during a delivery") },
			"hang": func(c *vat.Call) (any, error) {
				time.Sleep(time.Hour) // past any deadline (synctest's clock)
				return nil, nil
			},
			"block": func(c *vat.Call) (any, error) { <-release; return nil, nil },
		}), nil
	})
	if err := reg.RegisterRaw("illegal", func() vat.RawVat { return illegalVat{} }); err != nil {
		panic(err)
	}
	return reg
}

func troubleCluster() kernel.ClusterConfig {
	return kernel.ClusterConfig{Bootstrap: "trouble", Vats: map[string]kernel.VatConfig{
		"trouble": {Bundle: "trouble"}, "illegal": {Bundle: "illegal"}, "bob": {Bundle: "bob"},
	}}
}

// Terminating a vat from inside a crank never waits on the crank: a vat
// that exits, makes an illegal syscall, panics or hangs past its deadline,
// and a host TerminateVat racing a long delivery, each end quickly, the
// kernel goes on serving the other vats, and no goroutine is left behind.
func TestTerminateFromInsideACrank(t *testing.T) {
	tests := []struct {
		name    string
		target  string
		method  string
		wantErr error
		race    bool
	}{
		{name: "exit", target: "trouble", method: "exit"},
		{name: "illegal syscall", target: "illegal", method: "misbehave", wantErr: kernel.ErrIllegalSyscall},
		{name: "panic", target: "trouble", method: "panic", wantErr: kernel.ErrInternalError},
		{name: "deadline", target: "trouble", method: "hang", wantErr: kernel.ErrInternalError},
		{name: "host terminate racing a delivery", target: "trouble", method: "block", wantErr: kernel.ErrInternalError, race: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
				ctx := context.Background()
				release := make(chan struct{})
				k, err := actors.Start(ctx, actors.Config{Registry: troubleRegistry(release), DeliveryDeadline: 10 * time.Second})
				require.NoError(t, err)
				res, err := k.LaunchSubcluster(ctx, troubleCluster())
				require.NoError(t, err)
				target := res.VatIDs[tt.target]
				start := time.Now()
				done := make(chan error, 1)
				go func() {
					_, err := k.QueueMessage(ctx, res.Roots[tt.target], tt.method)
					done <- err
				}()
				if tt.race {
					synctest.Wait() // the delivery is under way and blocked
					require.NoError(t, k.TerminateVat(ctx, target, "host says stop"))
				}
				err = <-done
				if tt.wantErr == nil {
					require.NoError(t, err)
				} else {
					require.ErrorIs(t, err, tt.wantErr)
				}
				require.Less(t, time.Since(start), 11*time.Second, "bounded by the delivery deadline")
				st, err := k.Status(ctx)
				require.NoError(t, err)
				for _, v := range st.Vats {
					if v.ID == target {
						require.False(t, v.Active, "the vat was terminated")
					}
				}
				v, err := k.QueueMessage(ctx, res.Roots["bob"], "hello", "still here")
				require.NoError(t, err)
				require.Equal(t, "hello, still here", v)
				close(release)
				time.Sleep(2 * time.Hour) // let the hanging vat's sleep end
				require.NoError(t, k.Stop(ctx))
				settle()
			})
		})
	}
}

// The host's request for an aborted send is rejected at once with the
// VAT_FATAL code; the kernel promise is settled later by the retry's
// splat, and a vat that sent the same message gets the splat's code.
func TestAbortedSendRejectsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		reg := troubleRegistry(nil)
		reg.MustRegister("caller", func(vc *vat.Context) (any, error) {
			var trouble any
			return vat.Far("caller", vat.Methods{
				"bootstrap": func(c *vat.Call) (any, error) { trouble = c.Arg(0).(map[string]any)["trouble"]; return nil, nil },
				"callIt":    func(c *vat.Call) (any, error) { return vat.E(trouble).Send("panic").Await() },
			}), nil
		})
		k := start(t, actors.Config{Registry: reg})
		res, err := k.LaunchSubcluster(ctx, kernel.ClusterConfig{Bootstrap: "caller", Vats: map[string]kernel.VatConfig{
			"caller": {Bundle: "caller"}, "trouble": {Bundle: "trouble"},
		}})
		require.NoError(t, err)
		_, err = k.QueueMessage(ctx, res.RootKref, "callIt")
		// The vat caller got the splat code, and relayed it to the host.
		require.True(t, kernel.Carries(err, kernel.ErrObjectDeleted), "the vat caller gets the splat code: %v", err)
		var re *kernel.RejectionError
		require.True(t, errors.As(err, &re), "relayed by a vat: the vat's rejection")

		// A second trouble vat, called by the host directly.
		res2, err := k.LaunchSubcluster(ctx, kernel.ClusterConfig{Bootstrap: "trouble", Vats: map[string]kernel.VatConfig{
			"trouble": {Bundle: "trouble"},
		}})
		require.NoError(t, err)
		_, err = k.QueueMessage(ctx, res2.RootKref, "panic")
		require.ErrorIs(t, err, kernel.ErrInternalError)
		require.Contains(t, err.Error(), "trouble panicked")
		// The answer came at the abort, before the retry: the retry is the
		// kernel's next crank, and a host request may come between the two
		// (invariant 11), so wait for it rather than race it.
		require.NoError(t, k.WaitIdle(ctx))
		st, err := k.Status(ctx)
		require.NoError(t, err)
		require.Equal(t, 0, st.QueueLength, "the retried item splatted and settled its promise")
		require.Equal(t, st.CranksRun, st.CrankMessages, "one crank per runCrank message")
	})
}

// A vat that fails with the words of a host interrupt is not taken for
// one: terminating it afterwards says it is terminated already.
func TestInterruptCannotBeSpoofed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		k := start(t, actors.Config{Registry: troubleRegistry(nil)})
		res, err := k.LaunchSubcluster(ctx, troubleCluster())
		require.NoError(t, err)
		_, err = k.QueueMessage(ctx, res.RootKref, "spoof")
		require.ErrorIs(t, err, kernel.ErrInternalError)
		require.ErrorIs(t, k.TerminateVat(ctx, res.VatIDs["trouble"], "late"), kernel.ErrVatNotActive)
	})
}
