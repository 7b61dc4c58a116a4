package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/demos"
	"github.com/ocapgo/kernel-actors/kernel"
)

// Demo is the embed demo, for this command and `kernel-actors demo
// embed`.
func Demo() demos.Demo {
	return demos.Demo{
		Name:     "embed",
		Summary:  "the kernel inside an existing protoactor-go application, called from the app's own actors",
		Register: register,
		Run:      Run,
	}
}

// askTimeout bounds the app's requests to its actors. It is generous: an
// order takes a few cranks, milliseconds; only a hung kernel would take
// it.
const askTimeout = 10 * time.Second

// shop is the subcluster the desk talks to. Prices are in cents.
func shop() kernel.ClusterConfig {
	return kernel.ClusterConfig{Bootstrap: "inventory", Vats: map[string]kernel.VatConfig{
		"inventory": {Bundle: inventoryBundle, Parameters: map[string]any{
			"stock": map[string]any{"widget": 10, "gadget": 2, "gizmo": 5},
		}},
		"pricing": {Bundle: pricingBundle, Parameters: map[string]any{
			"prices": map[string]any{"widget": 250, "gadget": 1200, "gizmo": 75},
		}},
	}}
}

// appLogger is the app's protoactor logger: silent unless opts.Logger
// logs. Grouping protoactor's attributes under "protoactor" keeps its
// "message" attribute (a dead letter's payload) from clashing with
// zerolog's own message field.
func appLogger(log zerolog.Logger) func(*actor.ActorSystem) *slog.Logger {
	h := zerolog.NewSlogHandler(log.With().Str("component", "app").Logger())
	return func(*actor.ActorSystem) *slog.Logger {
		if !h.Enabled(context.Background(), slog.LevelError) {
			return slog.New(slog.DiscardHandler)
		}
		return slog.New(h).WithGroup("protoactor")
	}
}

// show names a PID as protoactor addresses it: address/id.
func show(pid *actor.PID) string { return pid.Address + "/" + pid.Id }

// actorIDs lists the ids of the actors living in sys, sorted: the app's
// and, while it runs, the kernel's (its vats' actors are its children,
// "kernel$N/..."). Futures waiting for an answer would show too; the
// demo lists only when none is outstanding.
func actorIDs(sys *actor.ActorSystem) []string {
	var ids []string
	for _, bucket := range sys.ProcessRegistry.LocalPIDs.LocalPIDs {
		ids = append(ids, bucket.Keys()...)
	}
	slices.Sort(ids)
	return ids
}

// dollars shows cents as money.
func dollars(cents int64) string { return fmt.Sprintf("$%d.%02d", cents/100, cents%100) }

// app is the application: its actor system and its actors.
type app struct {
	sys          *actor.ActorSystem
	ledger, desk *actor.PID
	closed       bool
}

// close stops the app's actors, then its system. ActorSystem.Shutdown
// stops no actor by itself, so each is poisoned first (and waited for:
// the desk's Stopping waits out its kernel calls). It runs once: a
// second Shutdown would panic.
func (a *app) close() {
	if a.closed {
		return
	}
	a.closed = true
	for _, pid := range []*actor.PID{a.desk, a.ledger} {
		if pid != nil {
			a.sys.Root.PoisonFuture(pid).Wait()
		}
	}
	a.sys.Shutdown()
}

// request sends msg to pid and waits for the answer, of type T.
func request[T any](a *app, pid *actor.PID, msg any) (T, error) {
	var zero T
	v, err := a.sys.Root.RequestFuture(pid, msg, askTimeout).Result()
	if err != nil {
		return zero, err
	}
	t, ok := v.(T)
	if !ok {
		return zero, fmt.Errorf("embed: %s answered %T, want %T", show(pid), v, zero)
	}
	return t, nil
}

// Run is Demo's Run.
func Run(ctx context.Context, opts demos.Options) (err error) {
	n := opts.Narrator()
	n.Section("An application with actors of its own")
	a := &app{sys: actor.NewActorSystem(actor.WithLoggerFactory(appLogger(opts.Logger)))}
	defer a.close()
	a.ledger, err = a.sys.Root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor { return &ledger{} }), "ledger")
	if err != nil {
		return err
	}
	n.Say("The app made its actor system and spawned its ledger, %s.", show(a.ledger))

	// Config.System: the kernel's actor and its vats' actors are spawned
	// in the app's system, and Stop will leave that system running.
	demo := Demo()
	k, err := demos.StartKernel(ctx, demo, opts, func(cfg *actors.Config) { cfg.System = a.sys })
	if err != nil {
		return err
	}
	// The story stops the kernel itself, below; this stop is for a story
	// cut short, and does nothing after that one.
	defer demos.StopKernel(ctx, demo.Name, k, &err)
	n.Say("The kernel started inside it: the kernel actor is %s, next to the ledger (same system: %v).",
		show(k.PID()), k.System() == a.sys)
	res, err := k.LaunchSubcluster(ctx, shop())
	if err != nil {
		return err
	}
	n.Say("The kernel launched the shop: inventory %s and pricing %s, whose actors are the kernel actor's children.",
		res.VatIDs["inventory"], res.VatIDs["pricing"])
	d := newDesk(ctx, k, res.Roots["inventory"], res.Roots["pricing"], a.ledger)
	a.desk, err = a.sys.Root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor { return d }), "desk")
	if err != nil {
		return err
	}
	n.Say("The app spawned its order desk, %s, which calls the kernel for each order.", show(a.desk))
	n.Say("The actors in the app's system (deadletter and eventstream are protoactor's own):")
	n.Say("  %s", strings.Join(actorIDs(a.sys), ", "))

	if err := orders(ctx, n, a, k, res); err != nil {
		return err
	}

	n.Section("The kernel stops; the app goes on")
	if opts.DBPath != "" {
		// Closing the shop keeps the next run on this file from resuming
		// it next to that run's new one.
		if err := k.TerminateSubcluster(ctx, res.SubclusterID); err != nil {
			return err
		}
		n.Say("The app closes the shop (k.TerminateSubcluster), so that the next run on %s starts afresh.", opts.DBPath)
	}
	n.Say("The app stops the kernel (k.Stop).")
	var stopErr error
	if demos.StopKernel(ctx, demo.Name, k, &stopErr); stopErr != nil {
		return stopErr
	}
	n.Say("The kernel's actor and its vats' actors are gone; the app's are not:")
	n.Say("  %s", strings.Join(actorIDs(a.sys), ", "))
	late, err := request[*orderResult](a, a.desk, &placeOrder{item: "widget", qty: 1})
	if err != nil {
		return err
	}
	if !errors.Is(late.err, actors.ErrStopped) {
		return fmt.Errorf("embed: an order after Stop: want ErrStopped, got %v", late.err)
	}
	n.Say("The desk still answers: an order now is refused with %q.", late.err)
	rep, err := request[*salesReport](a, a.ledger, &salesQuery{})
	if err != nil {
		return err
	}
	n.Say("The ledger still answers: %d orders, %s.", rep.orders, dollars(rep.cents))
	a.close()
	n.Say("The app stops its own actors and shuts its actor system down.")
	return nil
}

// orders is the shop at work: the app sends the desk Go messages and
// gets Go answers; the desk does the talking to the kernel.
func orders(ctx context.Context, n demos.Narrator, a *app, k *actors.Kernel, res kernel.LaunchResult) error {
	n.Section("Orders, as Go messages to the desk")
	batch := []*placeOrder{{"widget", 3}, {"gadget", 1}, {"gizmo", 4}}
	// All three at once: the desk takes each without waiting for the
	// kernel, so they are in the kernel together.
	futures := make([]actor.Future, len(batch))
	for i, o := range batch {
		futures[i] = a.sys.Root.RequestFuture(a.desk, o, askTimeout)
	}
	n.Say("The app sent three orders at once; inventory reserves each and awaits pricing's quote (a vat-to-vat call):")
	for i, f := range futures {
		v, err := f.Result()
		if err != nil {
			return err
		}
		r := v.(*orderResult)
		if r.err != nil {
			return fmt.Errorf("embed: order %d (%d %s): %w", i+1, r.qty, r.item, r.err)
		}
		n.Say("  order %d: %d %s reserved for %s; %d left", i+1, r.qty, r.item, dollars(r.total), r.left)
	}
	pc, err := request[*priceResult](a, a.desk, &priceCheck{item: "gadget"})
	if err != nil {
		return err
	}
	if pc.err != nil {
		return fmt.Errorf("embed: price check: %w", pc.err)
	}
	n.Say("A price check, which the desk sends to pricing directly: a %s is %s.", pc.item, dollars(pc.each))

	big, err := request[*orderResult](a, a.desk, &placeOrder{item: "gadget", qty: 5})
	if err != nil {
		return err
	}
	var rej *kernel.RejectionError
	if !errors.As(big.err, &rej) {
		return fmt.Errorf("embed: 5 gadgets: want the inventory's refusal, got %v", big.err)
	}
	n.Say("An order for 5 gadgets is refused by the inventory vat's own error: %v", big.err)
	stock, err := k.QueueMessage(ctx, res.Roots["inventory"], "stock")
	if err != nil {
		return err
	}
	n.Say("The host asks inventory directly (k.QueueMessage from outside any actor): %s.", showStock(stock))

	dr, err := request[*deskReport](a, a.desk, &deskQuery{})
	if err != nil {
		return err
	}
	n.Say("The desk's own count, kept in its Receive: %d kernel calls answered, %d under way.", dr.answered, dr.inFlight)
	rep, err := request[*salesReport](a, a.ledger, &salesQuery{})
	if err != nil {
		return err
	}
	n.Say("The ledger, an app actor that never saw the kernel: %d orders, %s.", rep.orders, dollars(rep.cents))
	return nil
}

// showStock shows inventory's stock() record as "item n, ...", sorted.
func showStock(v any) string {
	rec, _ := v.(map[string]any)
	items := make([]string, 0, len(rec))
	for item, n := range rec {
		items = append(items, fmt.Sprintf("%s %v", item, n))
	}
	slices.Sort(items)
	return strings.Join(items, ", ")
}
