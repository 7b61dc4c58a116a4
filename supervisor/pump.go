package supervisor

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/vatproto"
)

// The pump: a delivery runs on the vat actor's goroutine, and its syscalls
// must be answered by the kernel, whose actor is busy running the crank
// and cannot take messages. So the kernel's Deliver sends the vat a
// Deliver message and then waits (it never waits on its own mailbox)
// until the vat reports done, the deadline passes, or the kernel
// interrupts.
//
// Meanwhile the vat's syscalls call the kernel's Syscaller directly, on
// the vat's goroutine, through a gate: a mutex that only one delivery at
// a time holds open. The kernel actor is parked in the pump the whole
// time, so the kernel's state still has one user at a time; the gate's
// mutex orders the vat's use of it after the kernel actor's (which opened
// the gate before sending the Deliver) and the kernel actor's after the
// vat's (the outcome is reported under the gate). A syscall so costs a
// call, where it cost two goroutine hand-offs through channels.
//
// When the kernel stops waiting (done, deadline, termination, shutdown)
// it closes the gate, waiting at most for a syscall already inside the
// kernel's code (never for vat code): from then on the old delivery's
// syscalls are answered ErrAborted and its outcome is dropped, so a late
// vat goroutine is never left blocked and can never reach the kernel or
// the next delivery.
//
// A Pumper is reused for every delivery of a kernel: its outcome channel,
// its gate and its deadline timer are allocated once, not per delivery.

// ErrInterrupted is wrapped by a delivery's failure when the host
// terminated the vat during it.
var ErrInterrupted = errors.New("terminated by the host during a delivery")

// ErrAborted answers a vat's syscall once the kernel has stopped waiting
// for the delivery (deadline, termination, shutdown).
var ErrAborted = errors.New("supervisor: the kernel abandoned the delivery")

// PumpOptions tune Pump.
type PumpOptions struct {
	// Deadline bounds the delivery; <= 0 means none.
	Deadline time.Duration
	// After is the clock's timer (time.After by default), and Now its
	// time (time.Now by default). A Pumper must be given the same clock
	// for every delivery: its timer outlives one. Now must have reached
	// a timer's time when the timer fires.
	After func(time.Duration) <-chan time.Time
	Now   func() time.Time
	// Interrupts carries vats the host is terminating: one naming Vat
	// interrupts the delivery (others are ignored: their requests follow
	// as messages).
	Interrupts <-chan kernel.VatID
	Vat        kernel.VatID
}

// Pumper carries deliveries to vat actors, one at a time, reusing what a
// delivery needs. The zero value is not ready: use NewPumper. It is not
// safe for concurrent use: its owner is the kernel actor.
type Pumper struct {
	gate gate
	// timer is the armed deadline timer, nil when none is; it fires at
	// timerDue. It is not stopped when a delivery ends: the next delivery
	// keeps it if it fires no later than that delivery's deadline, and
	// whenever it fires, the delivery then in progress checks the clock
	// against its own deadline and re-arms it if that is not yet due. So
	// a timer armed for one delivery can never end another, and a
	// delivery costs no timer at all unless it outlives the last one.
	timer    <-chan time.Time
	timerDue time.Time
}

// NewPumper makes a Pumper.
func NewPumper() *Pumper {
	p := &Pumper{}
	p.gate.done = make(chan outcome, 1)
	p.gate.closed = make(chan struct{})
	close(p.gate.closed)
	return p
}

// Pump delivers d with a Pumper of its own: NewPumper().Pump.
func Pump(ctx context.Context, send func(msg any), d vatproto.Delivery, sys vatproto.Syscaller, opts PumpOptions) error {
	return NewPumper().Pump(ctx, send, d, sys, opts)
}

// Pump delivers d to a vat actor (send sends it the Deliver message) and
// lets its syscalls reach sys until the delivery ends. It returns nil, or
// an error wrapping kernel.ErrVatFault when the vat failed, missed its
// deadline, or was interrupted by the host; ctx ending returns ctx's
// error. A panic in sys (a kernel bug) is raised again here, on the
// caller's goroutine, as a *SyscallPanic.
func (p *Pumper) Pump(ctx context.Context, send func(msg any), d vatproto.Delivery, sys vatproto.Syscaller, opts PumpOptions) error {
	g := &p.gate
	m := &Deliver{D: d}
	m.h.g, m.h.gen = g, g.begin(sys)
	m.Sys = &m.h
	// INVARIANT: whatever ends the wait, the gate is closed before the
	// kernel goes on, so the kernel's state has one user again.
	defer g.end(m.h.gen)
	send(m)
	due, timeout := p.arm(opts)
	for {
		select {
		case o := <-g.done:
			if o.panicked != nil {
				panic(o.panicked)
			}
			if o.err != nil {
				return fmt.Errorf("%w: %v", kernel.ErrVatFault, o.err)
			}
			return nil
		case <-timeout:
			p.timer = nil // consumed
			if now := opts.now(); now.Before(due) {
				// The timer was armed for an earlier delivery: this one
				// is not due yet.
				p.timer, p.timerDue = opts.after()(due.Sub(now)), due
				timeout = p.timer
				continue
			}
			return fmt.Errorf("%w: missed its delivery deadline of %v", kernel.ErrVatFault, opts.Deadline)
		case v := <-opts.Interrupts:
			if v == opts.Vat {
				return fmt.Errorf("%w: %w", kernel.ErrVatFault, ErrInterrupted)
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// arm returns the delivery's deadline and the channel that fires at it or
// before (nil for no deadline).
func (p *Pumper) arm(opts PumpOptions) (time.Time, <-chan time.Time) {
	if opts.Deadline <= 0 {
		return time.Time{}, nil
	}
	due := opts.now().Add(opts.Deadline)
	if p.timer == nil || p.timerDue.After(due) {
		p.timer, p.timerDue = opts.after()(opts.Deadline), due
	}
	return due, p.timer
}

func (o *PumpOptions) now() time.Time {
	if o.Now == nil {
		return time.Now()
	}
	return o.Now()
}

func (o *PumpOptions) after() func(time.Duration) <-chan time.Time {
	if o.After == nil {
		return time.After
	}
	return o.After
}

// SyscallPanic is a panic in the kernel's Syscaller during a delivery,
// raised again by Pump on the kernel's goroutine: a kernel bug, never the
// vat's fault.
type SyscallPanic struct {
	Value any
	Stack []byte // where it panicked, on the vat's goroutine
}

func (p *SyscallPanic) String() string {
	return fmt.Sprintf("%v (in a syscall; stack:\n%s)", p.Value, p.Stack)
}

// gate lets one delivery's syscalls reach the kernel's Syscaller.
type gate struct {
	mu sync.Mutex
	// gen numbers the deliveries; open says delivery gen is in progress
	// and may make syscalls (into sys) and report its outcome (on done).
	gen  uint64
	open bool
	sys  vatproto.Syscaller
	// done carries the outcome of delivery gen: the vat's report, or a
	// panic of sys. At most one is sent per delivery (either closes the
	// gate), and the pump drains it when the delivery ends, so the send
	// never blocks.
	done chan outcome
	// abandon is closed when delivery gen ends; made only when the vat
	// asks for it (Abandoned). closed is a channel closed for good, for
	// deliveries that have ended already.
	abandon, closed chan struct{}
}

// outcome is how a delivery ended.
type outcome struct {
	err      error
	panicked *SyscallPanic
}

// begin opens the gate for a new delivery, whose syscalls go to sys, and
// returns its number.
func (g *gate) begin(sys vatproto.Syscaller) uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.gen++
	g.open, g.sys = true, sys
	return g.gen
}

// end closes the gate after delivery gen, whatever ended it.
func (g *gate) end(gen uint64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.gen != gen {
		return
	}
	g.open, g.sys = false, nil
	if g.abandon != nil {
		close(g.abandon)
		g.abandon = nil
	}
	select { // an outcome that came as the kernel gave up on the delivery
	case <-g.done:
	default:
	}
}

// delivery is the vat's handle on delivery gen: its Syscaller, and how
// it reports its outcome (Deliver.Done). Once the delivery has ended, it
// reaches nothing.
type delivery struct {
	g   *gate
	gen uint64
}

// Syscall implements vatproto.Syscaller.
func (h *delivery) Syscall(s vatproto.Syscall) vatproto.SyscallResult {
	g := h.g
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.open || g.gen != h.gen {
		return vatproto.SyscallResult{Err: ErrAborted}
	}
	return g.call(s)
}

// call runs the kernel's Syscaller, holding the gate. A panic there is the
// kernel's: the delivery ends, and the pump raises the panic on the
// kernel's goroutine; the vat sees its syscall aborted.
func (g *gate) call(s vatproto.Syscall) (r vatproto.SyscallResult) {
	defer func() {
		if x := recover(); x != nil {
			g.open = false
			g.done <- outcome{panicked: &SyscallPanic{Value: x, Stack: debug.Stack()}}
			r = vatproto.SyscallResult{Err: ErrAborted}
		}
	}()
	return g.sys.Syscall(s)
}

// Abandoned is closed once the kernel stops waiting for the delivery
// (done, deadline, termination, shutdown). A vat that waits on something
// other than its syscalls, a worker process (package jsvat), selects on it
// so that the kernel's giving up ends the wait at once, and kills what it
// waited on.
func (h *delivery) Abandoned() <-chan struct{} {
	g := h.g
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.gen != h.gen || !g.open && g.abandon == nil {
		return g.closed
	}
	if g.abandon == nil {
		g.abandon = make(chan struct{})
	}
	return g.abandon
}

// report sends the delivery's outcome to the pump, unless the delivery
// has ended (the kernel gave up on it, or it reported already).
func (h *delivery) report(err error) {
	g := h.g
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.open || g.gen != h.gen {
		return
	}
	g.open = false
	g.done <- outcome{err: err}
}
