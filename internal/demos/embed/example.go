// Code generated from examples/embed by go generate ./internal/demos. DO NOT EDIT.

// Package embed is examples/embed (its files but main.go) as a package, for
// the binary's demo command. Edit the example, then run go generate.
package embed

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/demos"
	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/vat"
)

// From examples/embed/app.go.

// The application's own actors: the order desk, which fronts the kernel,
// and the ledger, which knows nothing of it. Their messages are plain Go
// values; none of them ever reaches the kernel actor.

// placeOrder asks the desk for qty of item. The desk answers *orderResult.
type placeOrder struct {
	item string
	qty  int64
}

// orderResult is an order's outcome: reserved and priced, or err.
type orderResult struct {
	item        string
	qty         int64
	total, left int64 // total in cents; left is the stock after it
	err         error
}

// priceCheck asks the desk what one item costs. It answers *priceResult.
type priceCheck struct{ item string }

// priceResult is a price check's answer, in cents.
type priceResult struct {
	item string
	each int64
	err  error
}

// kernelAnswered is the desk's note to itself that a kernel call it
// handed to a goroutine has come back, with the answer to pass on.
type kernelAnswered struct {
	replyTo *actor.PID // who asked; nil if nobody waits
	reply   any
	sale    *recordSale // for the ledger, if the order went through
}

// recordSale tells the ledger about a sale.
type recordSale struct {
	item  string
	qty   int64
	total int64 // cents
}

// deskQuery asks the desk about itself: *deskReport.
type deskQuery struct{}

// deskReport is the desk's own state: kernel calls answered and under way.
type deskReport struct{ answered, inFlight int }

// salesQuery asks the ledger for the day's figures: *salesReport.
type salesQuery struct{}

// salesReport is the ledger's answer.
type salesReport struct {
	orders int
	cents  int64
}

// desk is the order desk. It turns the app's messages into kernel calls,
// and the kernel's answers into replies.
type desk struct {
	k                  *actors.Kernel
	inventory, pricing kernel.KRef
	ledger             *actor.PID

	// ctx bounds the desk's kernel calls: it ends when the desk stops,
	// so no call outlives it. calls counts the goroutines making them.
	ctx    context.Context
	cancel context.CancelFunc
	calls  sync.WaitGroup

	// answered and inFlight count kernel calls. They are the desk's
	// state, so only Receive touches them, never the calls' goroutines.
	answered, inFlight int
}

// newDesk makes a desk whose kernel calls end when ctx does, or when the
// desk stops.
func newDesk(ctx context.Context, k *actors.Kernel, inventory, pricing kernel.KRef, ledger *actor.PID) *desk {
	d := &desk{k: k, inventory: inventory, pricing: pricing, ledger: ledger}
	d.ctx, d.cancel = context.WithCancel(ctx)
	return d
}

// Receive handles one message. Every kernel call goes through ask, never
// inline: see there why.
func (d *desk) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *placeOrder:
		d.ask(ctx, func(kctx context.Context) (any, *recordSale) {
			v, err := d.k.QueueMessage(kctx, d.inventory, "reserve", m.item, m.qty)
			res := orderFrom(m, v, err)
			if res.err != nil {
				return res, nil
			}
			return res, &recordSale{item: res.item, qty: res.qty, total: res.total}
		})
	case *priceCheck:
		d.ask(ctx, func(kctx context.Context) (any, *recordSale) {
			v, err := d.k.QueueMessage(kctx, d.pricing, "quote", m.item, 1)
			res := &priceResult{item: m.item, err: err}
			if err == nil {
				res.each, res.err = marshal.Int(v)
			}
			return res, nil
		})
	case *kernelAnswered:
		// Back on the desk's own goroutine: the desk's state and the
		// order of its sends are the actor's again. The ledger hears of
		// the sale before the customer does, so a customer who then asks
		// the ledger finds the sale there.
		d.answered++
		d.inFlight--
		if m.sale != nil {
			ctx.Send(d.ledger, m.sale)
		}
		if m.replyTo != nil {
			ctx.Send(m.replyTo, m.reply)
		}
	case *deskQuery:
		// Answered at once, kernel calls under way or not.
		ctx.Respond(&deskReport{answered: d.answered, inFlight: d.inFlight})
	case *actor.Stopping:
		d.cancel()
		d.calls.Wait() // quick: each call returns once its context ends
	}
}

// ask runs call, a kernel call, on a goroutine, and sends its answer back
// to the desk as a kernelAnswered message, to be passed on to whoever sent
// the message in hand.
//
// Why not call the kernel right here in Receive: a kernel call waits for
// the kernel to run the message through the vats, one crank or several
// (reserve awaits a quote from another vat), and a vat under the restart
// policy may be down for a backoff. An actor processes one message at a
// time, so a Receive blocked on that would hold up every message queued
// behind it: the desk could take no other order, answer no status, not
// even stop. The goroutine makes the wait cost nothing but a goroutine,
// and the answer comes back as a message, so the desk's state is still
// touched only from Receive. (ctx.ReenterAfter with a future is the same
// pattern with protoactor doing the mailing back.)
func (d *desk) ask(ctx actor.Context, call func(kctx context.Context) (reply any, sale *recordSale)) {
	replyTo, self, sys := ctx.Sender(), ctx.Self(), ctx.ActorSystem()
	d.inFlight++
	d.calls.Add(1)
	go func() {
		defer d.calls.Done()
		reply, sale := call(d.ctx)
		sys.Root.Send(self, &kernelAnswered{replyTo: replyTo, reply: reply, sale: sale})
	}()
}

// orderFrom reads reserve's result, {item, qty, total, left}.
func orderFrom(o *placeOrder, v any, err error) *orderResult {
	res := &orderResult{item: o.item, qty: o.qty, err: err}
	if err != nil {
		return res
	}
	rec, ok := v.(map[string]any)
	if !ok {
		res.err = fmt.Errorf("desk: reserve answered %v, not a record", v)
		return res
	}
	var terr, lerr error
	res.total, terr = marshal.Int(rec["total"])
	res.left, lerr = marshal.Int(rec["left"])
	res.err = errors.Join(terr, lerr)
	return res
}

// ledger keeps the day's sales. It is an ordinary app actor: it knows
// nothing of the kernel, and keeps working whatever the kernel does.
type ledger struct {
	orders int
	cents  int64
}

// Receive handles one message.
func (l *ledger) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *recordSale:
		l.orders++
		l.cents += m.total
	case *salesQuery:
		ctx.Respond(&salesReport{orders: l.orders, cents: l.cents})
	}
}

// From examples/embed/run.go.

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

// From examples/embed/vats.go.

// The bundle names, prefixed with the demo's name (the binary lists
// every demo's bundles in one registry).
const (
	inventoryBundle = "embed/inventory"
	pricingBundle   = "embed/pricing"
)

// register adds the demo's bundles to reg.
func register(reg *vat.Registry) {
	reg.MustRegister(inventoryBundle, buildInventory, vat.About{Summary: "the stock: reserves items at the price the pricing vat quotes",
		Methods: []string{"bootstrap(vats, services)", "reserve(item, qty)", "stock()"}})
	reg.MustRegister(pricingBundle, buildPricing, vat.About{Summary: "quotes a price for a quantity of an item",
		Methods: []string{"quote(item, qty)"}})
}

// buildInventory is the inventory: stock levels by item, in baggage, with
// the pricing vat's presence (also in baggage, so that an incarnation
// after a restart still reaches it; bootstrap is not sent again).
//
// Parameters: "stock", a record of item -> starting quantity.
func buildInventory(vc *vat.Context) (any, error) {
	stock := func(item string) int64 {
		v, _ := vc.Baggage.Get("stock." + item)
		n, _ := marshal.Int(v)
		return n
	}
	setStock := func(item string, n int64) error { return vc.Baggage.Set("stock."+item, n) }
	return vat.Far("inventory", vat.Methods{
		// bootstrap(vats, services) stocks the shelves and keeps pricing.
		"bootstrap": func(c *vat.Call) (any, error) {
			vats, _ := c.Arg(0).(map[string]any)
			if err := vc.Baggage.Set("pricing", vats["pricing"]); err != nil {
				return nil, err
			}
			initial, _ := vc.Parameters["stock"].(map[string]any)
			for item, q := range initial {
				n, err := marshal.Int(q)
				if err != nil {
					return nil, fmt.Errorf("inventory: stock of %s: %w", item, err)
				}
				if err := setStock(item, n); err != nil {
					return nil, err
				}
			}
			return "open", nil
		},
		// reserve(item, qty) takes qty items off the shelf and returns
		// {item, qty, total, left}, total being pricing's quote in cents.
		"reserve": func(c *vat.Call) (any, error) {
			item, _ := c.Arg(0).(string)
			qty, err := marshal.Int(c.Arg(1))
			if err != nil || qty <= 0 {
				return nil, fmt.Errorf("reserve: want a positive quantity, got %v", c.Arg(1))
			}
			left := stock(item)
			if qty > left {
				// An error rejects the caller's promise and nothing more:
				// the vat is fine, and so is its stock.
				return nil, fmt.Errorf("only %d %s left", left, item)
			}
			// Check and take in one go, before the Await below: while
			// this method waits for the quote the vat serves other
			// deliveries, and they must see the stock already taken.
			if err := setStock(item, left-qty); err != nil {
				return nil, err
			}
			pricing, _ := vc.Baggage.Get("pricing")
			// A vat-to-vat call through the kernel; Await parks this
			// method (not the vat) until pricing answers, cranks later.
			total, err := vat.E(pricing).Send("quote", item, qty).Await()
			if err != nil {
				// No price, no sale: put the items back. (Add rather than
				// restore left: other orders may have moved it since.)
				if perr := setStock(item, stock(item)+qty); perr != nil {
					return nil, perr
				}
				return nil, err
			}
			return map[string]any{"item": item, "qty": qty, "total": total, "left": left - qty}, nil
		},
		// stock() returns every item's quantity.
		"stock": func(c *vat.Call) (any, error) {
			all := map[string]any{}
			for _, k := range vc.Baggage.Keys() {
				if item, ok := strings.CutPrefix(k, "stock."); ok {
					all[item] = stock(item)
				}
			}
			return all, nil
		},
	}), nil
}

// buildPricing is the price list: quote(item, qty) is the price of qty
// items, in cents. Parameters: "prices", a record of item -> cents each.
func buildPricing(vc *vat.Context) (any, error) {
	prices, _ := vc.Parameters["prices"].(map[string]any)
	return vat.Far("pricing", vat.Methods{
		"quote": func(c *vat.Call) (any, error) {
			item, _ := c.Arg(0).(string)
			qty, err := marshal.Int(c.Arg(1))
			if err != nil {
				return nil, fmt.Errorf("quote: want a quantity, got %v", c.Arg(1))
			}
			each, ok := prices[item]
			if !ok {
				return nil, fmt.Errorf("no price for %s", item)
			}
			cents, err := marshal.Int(each)
			if err != nil {
				return nil, fmt.Errorf("quote: price of %s: %w", item, err)
			}
			return cents * qty, nil
		},
	}), nil
}
