package vat

import (
	"errors"
	"fmt"
)

type promiseState uint8

const (
	pending promiseState = iota
	fulfilled
	rejected
)

// Promise is an eventual value in a vat: the result of an eventual send
// (E), a promise imported from another vat, or one the vat decides itself
// (NewPromise). It settles once, to a value or to an error.
//
// A Promise belongs to one vat. One made by E, Then or Call.NewPromise
// knows its vat from the start; one made by the package-level NewPromise
// learns it when it first meets the vat (returned from a method, passed in
// a message or a resolution, or used as E's target), and before that may
// be resolved but not awaited or reacted to.
type Promise struct {
	inst    *Instance // the vat it belongs to; nil until it meets one
	state   promiseState
	value   any
	err     error
	waiters []func() // run in order when it settles
	vpid    string   // its vref while the kernel knows it
}

// ErrUnbound is the fault of awaiting (or reacting to) a promise that has
// not yet met its vat.
var ErrUnbound = errors.New("vat: promise made by vat.NewPromise has not met its vat yet; " +
	"return or send it first, or make it with call.NewPromise")

// NewPromise makes a promise the vat decides, and the functions that settle
// it. Calling either after the promise has settled does nothing.
func NewPromise() (p *Promise, resolve func(v any), reject func(err error)) {
	p = &Promise{}
	return p, p.resolve, p.reject
}

func (inst *Instance) newPromise() *Promise { return &Promise{inst: inst} }

// bind makes p belong to inst (it meets its vat).
func (p *Promise) bind(inst *Instance) error {
	if p.inst == nil {
		p.inst = inst
		return nil
	}
	if p.inst != inst {
		return fmt.Errorf("vat: a promise of one vat was used in another")
	}
	return nil
}

// Settled reports whether p has settled, and how.
func (p *Promise) Settled() (done bool, value any, err error) {
	return p.state != pending, p.value, p.err
}

// resolve settles p with v; a *Promise v makes p follow it.
func (p *Promise) resolve(v any) {
	if p.state != pending {
		return
	}
	if q, ok := v.(*Promise); ok {
		if q == p {
			p.reject(errors.New("vat: a promise cannot resolve to itself"))
			return
		}
		if q.inst == nil && p.inst != nil {
			q.inst = p.inst
		}
		q.onSettle(func() {
			if q.state == fulfilled {
				p.resolve(q.value)
			} else {
				p.reject(q.err)
			}
		})
		return
	}
	p.state, p.value = fulfilled, v
	p.settled()
}

// reject settles p with err.
func (p *Promise) reject(err error) {
	if p.state != pending {
		return
	}
	if err == nil {
		err = errors.New("rejected with nil error")
	}
	p.state, p.err = rejected, err
	p.settled()
}

func (p *Promise) settled() {
	ws := p.waiters
	p.waiters = nil
	for _, w := range ws {
		w()
	}
	if p.inst != nil {
		p.inst.promiseSettled(p)
	}
}

// onSettle runs fn when p settles (at once if it has).
func (p *Promise) onSettle(fn func()) {
	if p.state != pending {
		fn()
		return
	}
	p.waiters = append(p.waiters, fn)
}

// Then returns a promise for what onFulfilled or onRejected return once p
// settles. A nil callback passes the settlement through. The callbacks run
// as tasks of the vat, in the order they became ready, and may themselves
// Await.
func (p *Promise) Then(onFulfilled func(v any) (any, error), onRejected func(err error) (any, error)) *Promise {
	if p.inst == nil {
		panic(&faultPanic{ErrUnbound})
	}
	q := p.inst.newPromise()
	p.onSettle(func() {
		p.inst.sched.spawn(func() {
			var v any
			var err error
			switch {
			case p.state == fulfilled && onFulfilled != nil:
				v, err = onFulfilled(p.value)
			case p.state == fulfilled:
				v = p.value
			case onRejected != nil:
				v, err = onRejected(p.err)
			default:
				err = p.err
			}
			if err != nil {
				q.reject(err)
			} else {
				q.resolve(v)
			}
		})
	})
	return q
}

// Await blocks the calling task until p settles and returns its value or
// error. Meanwhile the vat goes on with other deliveries; the task resumes
// in the crank that settles p, after the tasks that were ready before it.
// It may be called only from vat code (a method, a Then callback, the
// build function).
func (p *Promise) Await() (any, error) {
	if p.state == pending {
		if p.inst == nil {
			panic(&faultPanic{ErrUnbound})
		}
		// Counted for Quiescent: a parked task is heap state a page-out
		// would lose.
		p.inst.awaiting++
		p.inst.sched.parkOn(&p.waiters)
		p.inst.awaiting--
	}
	if p.state == rejected {
		return nil, p.err
	}
	return p.value, nil
}

// All returns a promise for the values of ps, in order, once all are
// fulfilled; it rejects with the first rejection. ps must belong to one vat
// and not be empty.
func All(ps ...*Promise) *Promise {
	var inst *Instance
	for _, p := range ps {
		if p.inst != nil {
			inst = p.inst
			break
		}
	}
	if inst == nil {
		panic(&faultPanic{ErrUnbound})
	}
	out := inst.newPromise()
	vals := make([]any, len(ps))
	left := len(ps) // above 0: an empty ps has no vat and failed above
	for i, p := range ps {
		p.onSettle(func() {
			if p.state == rejected {
				out.reject(p.err)
				return
			}
			vals[i] = p.value
			left--
			if left == 0 {
				out.resolve(vals)
			}
		})
	}
	return out
}
