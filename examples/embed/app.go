package main

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/marshal"
)

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
