package supervisor

import (
	"context"
	"errors"
	"log/slog"
	"runtime/pprof"
	"strings"
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

// recorder is a kernel side that records which delivery each syscall
// came in, by a label the test sets between deliveries.
type recorder struct {
	label string
	seen  []string
}

func (r *recorder) Syscall(s vatproto.Syscall) vatproto.SyscallResult {
	r.seen = append(r.seen, r.label+":"+s.Kind.String())
	return vatproto.SyscallResult{}
}

// sleeper is a vat whose nap(d) sleeps d seconds (on synctest's clock)
// and returns. The test stops it (stopAll) before its bubble ends: an
// incarnation keeps a worker goroutine until it is stopped.
func sleeper(sys *actor.ActorSystem, pids *[]*actor.PID) func(any) {
	pid := spawnVat(sys, vat.Methods{"nap": func(c *vat.Call) (any, error) {
		n, err := marshal.Int(c.Arg(0))
		if err != nil {
			return nil, err
		}
		time.Sleep(time.Duration(n) * time.Second)
		return n, nil
	}})
	*pids = append(*pids, pid)
	return func(m any) { sys.Root.Send(pid, m) }
}

func stopAll(sys *actor.ActorSystem, pids []*actor.PID) {
	for _, pid := range pids {
		sys.Root.StopFuture(pid).Wait()
	}
}

func nap(seconds int, result vatproto.VRef) vatproto.Delivery {
	m, _ := marshal.Encode([]any{"nap", []any{seconds}})
	return vatproto.Delivery{Kind: vatproto.DeliverMessage, Target: vatproto.RootVRef,
		Message: vatproto.VatMessage{Methargs: m, Result: result}}
}

// A Pumper keeps one deadline timer across deliveries. The timer armed by
// one delivery fires during the next, which must then go on (its own
// deadline is later); a delivery after an idle spell longer than the
// deadline finds the timer fired long ago, and must go on too; and a
// delivery that does miss its own deadline fails exactly at it.
func TestPumperTimerNeverFiresIntoTheNextDelivery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sys := quietSystem()
		var pids []*actor.PID
		send := sleeper(sys, &pids)
		p := NewPumper()
		ks := &kernelSide{}
		ctx := context.Background()
		opts := PumpOptions{Deadline: 10 * time.Second}
		require.NoError(t, p.Pump(ctx, send, vatproto.Delivery{Kind: vatproto.DeliverStartVat}, ks, opts))

		start := time.Now()
		require.NoError(t, p.Pump(ctx, send, nap(9, "p-1"), ks, opts), "9 s of a 10 s deadline")
		// The timer armed at start fires at start+10s, 1 s into this one.
		require.NoError(t, p.Pump(ctx, send, nap(9, "p-2"), ks, opts), "the first delivery's timer fired 1 s into this one")
		require.Equal(t, 18*time.Second, time.Since(start))

		time.Sleep(time.Minute) // idle: the re-armed timer fires with nobody waiting
		require.NoError(t, p.Pump(ctx, send, nap(1, "p-3"), ks, opts), "a timer that fired while idle")

		begin := time.Now()
		err := p.Pump(ctx, send, nap(11, "p-4"), ks, opts)
		require.ErrorIs(t, err, kernel.ErrVatFault)
		require.ErrorContains(t, err, "missed its delivery deadline")
		require.Equal(t, 10*time.Second, time.Since(begin), "exactly its own deadline, on the fake clock")
		time.Sleep(time.Minute) // the late nap ends
		stopAll(sys, pids)
	})
}

// A delivery the kernel gave up on cannot reach the next one on the same
// Pumper: its late syscalls and its late outcome, arriving while the next
// delivery (to another vat) is under way, are dropped, and the next
// delivery ends with its own outcome.
func TestPumperLateDeliveryCannotReachTheNext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sys := quietSystem()
		var pids []*actor.PID
		slow, other := sleeper(sys, &pids), sleeper(sys, &pids)
		p := NewPumper()
		rec := &recorder{label: "start"}
		ctx := context.Background()
		opts := PumpOptions{Deadline: time.Hour}
		start := vatproto.Delivery{Kind: vatproto.DeliverStartVat}
		require.NoError(t, p.Pump(ctx, slow, start, rec, opts))
		require.NoError(t, p.Pump(ctx, other, start, rec, opts))

		rec.label = "slow"
		err := p.Pump(ctx, slow, nap(2*3600, "p-1"), rec, opts) // wakes at 2h, resolves p-1
		require.ErrorContains(t, err, "missed its delivery deadline")

		rec.label = "other"
		require.NoError(t, p.Pump(ctx, other, nap(3*3600, "p-2"), rec, PumpOptions{Deadline: 4 * time.Hour}),
			"the slow vat's late outcome, at 2h, is not this delivery's")
		var late []string
		for _, s := range rec.seen {
			if s == "slow:resolve" || s == "other:resolve" {
				late = append(late, s)
			}
		}
		require.Equal(t, []string{"other:resolve"}, late, "only the delivery in progress reaches the kernel")
		stopAll(sys, pids)
	})
}

// panicky is a kernel side with a bug: its syscalls panic.
type panicky struct{}

func (panicky) Syscall(vatproto.Syscall) vatproto.SyscallResult { panic("kernel bug") }

// A panic in the kernel's Syscaller is the kernel's, not the vat's: it
// is raised again on the pump's goroutine (where the kernel actor's guard
// catches it), not reported as the vat's fault.
func TestPumpRaisesSyscallPanicsOnTheKernelsGoroutine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sys := quietSystem()
		var pids []*actor.PID
		send := sleeper(sys, &pids)
		ctx := context.Background()
		require.NoError(t, Pump(ctx, send, vatproto.Delivery{Kind: vatproto.DeliverStartVat}, &kernelSide{}, PumpOptions{}))
		var raised any
		func() {
			defer func() { raised = recover() }()
			_ = Pump(ctx, send, nap(0, "p-1"), panicky{}, PumpOptions{Deadline: time.Minute})
		}()
		sp, ok := raised.(*SyscallPanic)
		require.True(t, ok, "raised %#v", raised)
		require.Equal(t, "kernel bug", sp.Value)
		require.Contains(t, string(sp.Stack), "panicky", "the stack of the syscall")
		stopAll(sys, pids)
	})
}

// A delivery through a Pumper allocates no channel and no timer: only its
// Deliver message. (The vat here is a send func that answers at once.)
func TestPumperAllocatesOnlyTheMessage(t *testing.T) {
	p := NewPumper()
	ks := &kernelSide{}
	send := func(m any) {
		d := m.(*Deliver)
		d.Sys.Syscall(vatproto.Syscall{Kind: vatproto.SyscallVatstoreGet})
		d.Done(nil)
	}
	opts := PumpOptions{Deadline: time.Hour}
	ctx := context.Background()
	require.NoError(t, p.Pump(ctx, send, vatproto.Delivery{}, ks, opts)) // arms the timer
	allocs := testing.AllocsPerRun(100, func() {
		ks.seen = ks.seen[:0]
		if err := p.Pump(ctx, send, vatproto.Delivery{}, ks, opts); err != nil {
			t.Fatal(err)
		}
	})
	require.LessOrEqual(t, allocs, 1.0, "the Deliver message only")
}

// A vat's deliveries run on a goroutine labelled with the vat and its
// incarnation, and so does its vat code, so that a CPU profile of a kernel
// splits by vat.
func TestDeliveriesCarryPprofLabels(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sys := quietSystem()
		pid := sys.Root.Spawn(Props(VatSpec{Vat: "v7", Incarnation: 3, Build: func(vc *vat.Context) (any, error) {
			return vat.Far("v", vat.Methods{"labels": func(c *vat.Call) (any, error) {
				var b strings.Builder
				if err := pprof.Lookup("goroutine").WriteTo(&b, 1); err != nil {
					return nil, err
				}
				// This goroutine's entry: its labels, then its stack,
				// which runs through this method.
				for _, g := range strings.Split(b.String(), "\n\n") {
					if strings.Contains(g, "TestDeliveriesCarryPprofLabels") {
						return g, nil
					}
				}
				return "", nil
			}}), nil
		}}))
		send := func(m any) { sys.Root.Send(pid, m) }
		rec := &answers{}
		ctx := context.Background()
		require.NoError(t, Pump(ctx, send, vatproto.Delivery{Kind: vatproto.DeliverStartVat}, rec, PumpOptions{}))
		require.NoError(t, Pump(ctx, send, message("labels", "p-1"), rec, PumpOptions{}))
		v, err := marshal.Decode(rec.resolved)
		require.NoError(t, err)
		require.Contains(t, v, `"incarnation":"3"`)
		require.Contains(t, v, `"vat":"v7"`)
		sys.Root.StopFuture(pid).Wait()
	})
}

// answers is a kernel side that keeps the last resolution's data.
type answers struct{ resolved marshal.CapData }

func (a *answers) Syscall(s vatproto.Syscall) vatproto.SyscallResult {
	if s.Kind == vatproto.SyscallResolve {
		a.resolved = s.Resolutions[0].Data
	}
	return vatproto.SyscallResult{}
}

// Abandoned is closed when the kernel gives up on the delivery (here its
// deadline), and a handle of a delivery that has ended gets a closed one
// at once, so a vat waiting on a worker process stops waiting.
func TestAbandonedClosesWhenTheKernelGivesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPumper()
		var held *Deliver
		gaveUp := make(chan struct{})
		send := func(m any) {
			held = m.(*Deliver)
			ab := held.Sys.(interface{ Abandoned() <-chan struct{} }).Abandoned()
			go func() { <-ab; close(gaveUp) }()
		}
		err := p.Pump(context.Background(), send, vatproto.Delivery{}, &kernelSide{}, PumpOptions{Deadline: time.Second})
		require.ErrorContains(t, err, "missed its delivery deadline")
		<-gaveUp
		select {
		case <-held.Sys.(interface{ Abandoned() <-chan struct{} }).Abandoned():
		default:
			t.Fatal("an ended delivery's Abandoned is not closed")
		}
		require.ErrorIs(t, held.Sys.Syscall(vatproto.Syscall{}).Err, ErrAborted)
		held.Done(nil) // dropped: nothing waits, nothing blocks
		require.NoError(t, p.Pump(context.Background(), func(m any) { m.(*Deliver).Done(nil) }, vatproto.Delivery{}, &kernelSide{}, PumpOptions{Deadline: time.Second}),
			"the next delivery is not disturbed by the late Done")
	})
}
