package supervisor

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/vat"
	"github.com/ocapgo/kernel-actors/vatproto"
)

// kernelSide answers syscalls like a kernel would, recording them.
type kernelSide struct{ seen []vatproto.SyscallKind }

func (k *kernelSide) Syscall(s vatproto.Syscall) vatproto.SyscallResult {
	k.seen = append(k.seen, s.Kind)
	return vatproto.SyscallResult{}
}

func quietSystem() *actor.ActorSystem {
	return actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.DiscardHandler)
	}))
}

func spawnVat(sys *actor.ActorSystem, methods vat.Methods) *actor.PID {
	return sys.Root.Spawn(Props(VatSpec{Build: func(vc *vat.Context) (any, error) {
		return vat.Far("v", methods), nil
	}}))
}

func message(method string, result vatproto.VRef) vatproto.Delivery {
	m, _ := marshal.Encode([]any{method, []any{}})
	return vatproto.Delivery{Kind: vatproto.DeliverMessage, Target: vatproto.RootVRef,
		Message: vatproto.VatMessage{Methargs: m, Result: result}}
}

func TestPumpCarriesSyscalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sys := quietSystem()
		pid := spawnVat(sys, vat.Methods{"hi": func(c *vat.Call) (any, error) { return "hello", nil }})
		send := func(m any) { sys.Root.Send(pid, m) }
		ks := &kernelSide{}
		ctx := context.Background()
		require.NoError(t, Pump(ctx, send, vatproto.Delivery{Kind: vatproto.DeliverStartVat}, ks, PumpOptions{Deadline: time.Second}))
		require.NoError(t, Pump(ctx, send, message("hi", "p-1"), ks, PumpOptions{Deadline: time.Second}))
		require.Contains(t, ks.seen, vatproto.SyscallResolve)
		sys.Root.StopFuture(pid).Wait()
	})
}

func TestPumpReportsFaultsDeadlinesAndInterrupts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sys := quietSystem()
		release := make(chan struct{})
		ks := &kernelSide{}
		ctx := context.Background()
		// A vat that failed is done for: each case gets a fresh one.
		var pids []*actor.PID
		fresh := func() func(any) {
			pid := spawnVat(sys, vat.Methods{
				"panic": func(c *vat.Call) (any, error) { panic("boom") },
				"slow": func(c *vat.Call) (any, error) {
					time.Sleep(time.Hour) // on synctest's clock
					return nil, nil
				},
				"stuck": func(c *vat.Call) (any, error) { <-release; return nil, nil },
				"hi":    func(c *vat.Call) (any, error) { return nil, nil },
			})
			pids = append(pids, pid)
			send := func(m any) { sys.Root.Send(pid, m) }
			require.NoError(t, Pump(ctx, send, vatproto.Delivery{Kind: vatproto.DeliverStartVat}, ks, PumpOptions{Deadline: time.Second}))
			return send
		}
		send := fresh()

		err := Pump(ctx, send, message("panic", "p-1"), ks, PumpOptions{Deadline: time.Second})
		require.ErrorIs(t, err, kernel.ErrVatFault)
		require.ErrorContains(t, err, "panic: boom")
		require.NotContains(t, err.Error(), "goroutine", "the stack goes to the log, not the error")

		send = fresh()
		start := time.Now()
		err = Pump(ctx, send, message("slow", "p-2"), ks, PumpOptions{Deadline: 5 * time.Second})
		require.ErrorIs(t, err, kernel.ErrVatFault)
		require.ErrorContains(t, err, "missed its delivery deadline")
		require.Equal(t, 5*time.Second, time.Since(start), "the deadline, on the fake clock")

		send = fresh()
		interrupts := make(chan kernel.VatID, 2)
		interrupts <- "v9" // another vat's: ignored
		interrupts <- "v1"
		err = Pump(ctx, send, message("stuck", "p-3"), ks, PumpOptions{Deadline: time.Minute, Interrupts: interrupts, Vat: "v1"})
		require.ErrorIs(t, err, ErrInterrupted)
		close(release)

		send = fresh()
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		err = Pump(cctx, send, message("hi", "p-4"), ks, PumpOptions{Deadline: time.Minute})
		require.True(t, errors.Is(err, context.Canceled))
		time.Sleep(2 * time.Hour) // let the slow vat's sleep end
		for _, pid := range pids {
			sys.Root.StopFuture(pid).Wait()
		}
	})
}

// A delivery the kernel gave up on cannot reach it afterwards: the old
// incarnation's late syscalls are answered ErrAborted on the vat side and
// never arrive at the kernel's Syscaller.
func TestPumpIgnoresLateSyscalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sys := quietSystem()
		ctx := context.Background()
		ks := &kernelSide{}
		pid := spawnVat(sys, vat.Methods{
			"late": func(c *vat.Call) (any, error) {
				time.Sleep(time.Hour) // past the deadline, then answer
				return "too late", nil
			},
		})
		send := func(m any) { sys.Root.Send(pid, m) }
		require.NoError(t, Pump(ctx, send, vatproto.Delivery{Kind: vatproto.DeliverStartVat}, ks, PumpOptions{Deadline: time.Second}))
		before := len(ks.seen)
		err := Pump(ctx, send, message("late", "p-1"), ks, PumpOptions{Deadline: time.Minute})
		require.ErrorContains(t, err, "missed its delivery deadline")
		time.Sleep(2 * time.Hour) // the method returns and liveslots resolves p-1
		synctest.Wait()
		require.Len(t, ks.seen, before, "no syscall after the kernel stopped pumping")
		sys.Root.StopFuture(pid).Wait()
	})
}
