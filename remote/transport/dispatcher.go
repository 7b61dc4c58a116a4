package transport

import (
	"sync"

	"github.com/asynkron/protoactor-go/actor"
)

// Dispatcher runs one actor's mailbox on one goroutine that lives as
// long as the actor, instead of protoactor-go's default, which starts a
// new goroutine each time the mailbox wakes from idle. The actor that
// owns a kernel runs deep call chains (a crank, a store unit, a frame's
// decoding) on every wake, and a new goroutine starts with a small stack:
// the runtime grew it again by copying, once or more per message, which
// cost a fifth of a node's CPU at one round trip in flight. A goroutine
// that stays keeps the stack it grew.
//
// Use it for one actor only (actor.WithDispatcher), and Stop it after the
// actor has stopped. It never blocks its caller: protoactor-go schedules
// a mailbox only when the mailbox goes from idle to running, so at most
// one run is ever waiting.
type Dispatcher struct {
	work chan func()
	done chan struct{}
	once sync.Once
}

var _ actor.Dispatcher = (*Dispatcher)(nil)

// dispatcherThroughput is how many messages a mailbox run takes before it
// yields (protoactor-go's default dispatcher's figure).
const dispatcherThroughput = 300

// NewDispatcher starts a Dispatcher's goroutine.
func NewDispatcher() *Dispatcher {
	d := &Dispatcher{work: make(chan func(), 1), done: make(chan struct{})}
	go d.loop()
	return d
}

func (d *Dispatcher) loop() {
	for {
		select {
		case fn := <-d.work:
			fn()
		case <-d.done:
			return
		}
	}
}

// Schedule implements actor.Dispatcher: fn (a mailbox run) runs on the
// dispatcher's goroutine. After Stop it is dropped: the actor is gone,
// and so is what it would have processed.
func (d *Dispatcher) Schedule(fn func()) {
	select {
	case d.work <- fn:
	case <-d.done:
	}
}

// Throughput implements actor.Dispatcher.
func (d *Dispatcher) Throughput() int { return dispatcherThroughput }

// Stop ends the goroutine; a run in progress finishes first. A second
// Stop does nothing.
func (d *Dispatcher) Stop() { d.once.Do(func() { close(d.done) }) }
