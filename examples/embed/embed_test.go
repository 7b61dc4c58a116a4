package main

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/demos"
	"github.com/ocapgo/kernel-actors/demos/demotest"
	"github.com/ocapgo/kernel-actors/vat"
)

// The story in memory: the kernel lives in the app's system next to the
// app's actors, the desk's orders go through both vats, a refusal comes
// back as the vat's error, and after Stop the kernel's actors are gone
// while the app's still answer.
func TestStory(t *testing.T) {
	demotest.Bubble(t, func(t *testing.T) {
		var out bytes.Buffer
		require.NoError(t, Demo().Run(context.Background(), demos.Options{Out: &out}))
		got := out.String()
		for _, want := range []string{
			"(same system: true)",
			"  order 1: 3 widget reserved for $7.50; 7 left\n" +
				"  order 2: 1 gadget reserved for $12.00; 1 left\n" +
				"  order 3: 4 gizmo reserved for $3.00; 1 left\n",
			"a gadget is $12.00.",
			"refused by the inventory vat's own error: rejected: Error: only 1 gadget left",
			"gadget 1, gizmo 1, widget 7.",
			"The desk's own count, kept in its Receive: 5 kernel calls answered, 0 under way.",
			"The ledger, an app actor that never saw the kernel: 3 orders, $22.50.",
			`an order now is refused with "actors: kernel stopped"`,
			"The ledger still answers: 3 orders, $22.50.",
		} {
			require.Contains(t, got, want)
		}
		kernelPID := regexp.MustCompile(`the kernel actor is nonhost/(kernel\$\d+),`).FindStringSubmatch(got)
		require.NotNil(t, kernelPID, got)
		lists := regexp.MustCompile(`(?m)^  (deadletter, .*)$`).FindAllStringSubmatch(got, -1)
		require.Len(t, lists, 2)
		require.Equal(t, "deadletter, desk, eventstream, "+kernelPID[1]+", "+kernelPID[1]+"/v1.0.1, "+kernelPID[1]+"/v2.0.2, ledger",
			lists[0][1], "the kernel and its vats in the app's system")
		require.Equal(t, "deadletter, desk, eventstream, ledger", lists[1][1], "after Stop, the app's actors only")
	})
}

// On a file, a second run starts as the first did: the first closed its
// shop, so the second launches a new one with full shelves.
func TestRunTwiceOnAFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "embed.db")
	for run := range 2 {
		var out bytes.Buffer
		require.NoError(t, Demo().Run(context.Background(), demos.Options{Out: &out, DBPath: path}), "run %d", run)
		require.Contains(t, out.String(), "  order 1: 3 widget reserved for $7.50; 7 left\n", "run %d", run)
	}
}

// gatedRegistry is the demo's registry with an inventory whose reserve
// waits until the host calls open: a kernel call that takes as long as
// the test likes.
func gatedRegistry() *vat.Registry {
	reg := vat.NewRegistry()
	reg.MustRegister(pricingBundle, buildPricing)
	reg.MustRegister(inventoryBundle, func(vc *vat.Context) (any, error) {
		var gate *vat.Promise
		var open func(any)
		return vat.Far("gated inventory", vat.Methods{
			"bootstrap": func(c *vat.Call) (any, error) {
				gate, open, _ = c.NewPromise()
				return nil, nil
			},
			"reserve": func(c *vat.Call) (any, error) {
				if _, err := gate.Await(); err != nil {
					return nil, err
				}
				return map[string]any{"item": c.Arg(0), "qty": c.Arg(1), "total": 1, "left": 0}, nil
			},
			"open": func(c *vat.Call) (any, error) { open(nil); return nil, nil },
		}), nil
	})
	return reg
}

// The desk's pattern: while one order waits in the kernel, the desk goes
// on answering; if it blocked its Receive on the kernel call, the price
// check would time out behind the order.
func TestDeskAnswersWhileAKernelCallWaits(t *testing.T) {
	demotest.Bubble(t, func(t *testing.T) {
		ctx := context.Background()
		a := &app{sys: actor.NewActorSystem(actor.WithLoggerFactory(appLogger(zerolog.Logger{})))}
		k, err := actors.Start(ctx, actors.Config{System: a.sys, Registry: gatedRegistry()})
		require.NoError(t, err)
		res, err := k.LaunchSubcluster(ctx, shop())
		require.NoError(t, err)
		a.ledger, err = a.sys.Root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor { return &ledger{} }), "ledger")
		require.NoError(t, err)
		d := newDesk(ctx, k, res.Roots["inventory"], res.Roots["pricing"], a.ledger)
		a.desk, err = a.sys.Root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor { return d }), "desk")
		require.NoError(t, err)

		order := a.sys.Root.RequestFuture(a.desk, &placeOrder{item: "widget", qty: 1}, askTimeout)
		synctest.Wait() // the order is parked in the vat, behind the gate
		dr, err := request[*deskReport](a, a.desk, &deskQuery{})
		require.NoError(t, err, "the desk did not answer while an order was in the kernel")
		require.Equal(t, deskReport{answered: 0, inFlight: 1}, *dr)
		pc, err := request[*priceResult](a, a.desk, &priceCheck{item: "widget"})
		require.NoError(t, err, "the desk did not answer while an order was in the kernel")
		require.NoError(t, pc.err)
		require.Equal(t, int64(250), pc.each)

		_, err = k.QueueMessage(ctx, res.Roots["inventory"], "open")
		require.NoError(t, err)
		v, err := order.Result()
		require.NoError(t, err)
		require.NoError(t, v.(*orderResult).err)
		require.Equal(t, int64(1), v.(*orderResult).total)
		dr, err = request[*deskReport](a, a.desk, &deskQuery{})
		require.NoError(t, err)
		require.Equal(t, deskReport{answered: 2, inFlight: 0}, *dr)

		require.NoError(t, k.Stop(ctx))
		a.close()
	})
}

// Stopping the desk while a kernel call is under way ends the call: its
// goroutine does not outlive the desk.
func TestDeskStopEndsItsCalls(t *testing.T) {
	demotest.Bubble(t, func(t *testing.T) {
		ctx := context.Background()
		a := &app{sys: actor.NewActorSystem(actor.WithLoggerFactory(appLogger(zerolog.Logger{})))}
		k, err := actors.Start(ctx, actors.Config{System: a.sys, Registry: gatedRegistry()})
		require.NoError(t, err)
		res, err := k.LaunchSubcluster(ctx, shop())
		require.NoError(t, err)
		d := newDesk(ctx, k, res.Roots["inventory"], res.Roots["pricing"], nil)
		a.desk, err = a.sys.Root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor { return d }), "desk")
		require.NoError(t, err)
		a.sys.Root.Send(a.desk, &placeOrder{item: "widget", qty: 1})
		synctest.Wait()
		a.sys.Root.PoisonFuture(a.desk).Wait()
		require.ErrorIs(t, d.ctx.Err(), context.Canceled)
		require.NoError(t, k.Stop(ctx))
		a.close()
	})
}

// lockedBuffer is a log sink safe for protoactor's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// The app's protoactor logs go to the demo's logger when one is given,
// with protoactor's attributes grouped so that a dead letter's "message"
// does not clash with zerolog's; without one they go nowhere.
func TestAppLogger(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var buf lockedBuffer
		for _, log := range []zerolog.Logger{zerolog.New(&buf), {}, zerolog.New(&buf).Level(zerolog.Disabled)} {
			sys := actor.NewActorSystem(actor.WithLoggerFactory(appLogger(log)))
			sys.Root.Send(actor.NewPID(sys.Address(), "nobody"), &salesQuery{})
			demotest.Settle()
			sys.Shutdown()
		}
		lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
		require.NotEmpty(t, lines[0], "the given logger got protoactor's dead letter")
		for _, l := range lines {
			require.Equal(t, 1, strings.Count(l, `"message":`), "one message key: %s", l)
			require.Contains(t, l, `"component":"app"`)
		}
		require.Contains(t, buf.String(), `"protoactor.`)
	})
}

// Register adds both bundles, under the demo's prefix.
func TestRegister(t *testing.T) {
	reg := vat.NewRegistry()
	Demo().Register(reg)
	for _, name := range []string{"embed/inventory", "embed/pricing"} {
		_, err := reg.Lookup(name)
		require.NoError(t, err, name)
	}
	require.Equal(t, "embed", Demo().Name)
}
