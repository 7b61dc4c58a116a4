package supervisor

import (
	"context"
	"iter"
	"runtime/pprof"
)

// driver runs a vat actor's deliveries on one goroutine of its own, kept
// for the incarnation's life, instead of on the goroutine that protoactor
// starts afresh for each activation of the actor's mailbox (a vat is idle
// between its deliveries, so nearly every delivery is a new activation).
// A fresh goroutine starts with a small stack, and a delivery's work
// (decoding, vat code, the kernel's syscall handling) is deep enough to
// grow it by copying, every time: about a fifth of a crank's CPU. The
// driver's stack grows once.
//
// The switch to the driver and back is a coroutine switch (iter.Pull): a
// direct hand-off on the same thread, not a wake-up through the Go
// scheduler, and the mailbox goroutine waits for it, so the actor still
// handles one message at a time.
//
// The driver's goroutine carries the pprof labels "vat" and
// "incarnation", as do the vat's own coroutines (package vat starts them
// from it, and goroutines inherit labels): a CPU profile of a kernel
// splits by vat (go tool pprof -tagfocus vat=v1, or -tags).
type driver struct {
	labels context.Context // the pprof labels of the driver's goroutine
	job    func()          // what each switch runs
	next   func() (struct{}, bool)
	stop   func()
}

// newDriver makes a driver whose every run runs job.
func newDriver(vat string, incarnation string, job func()) *driver {
	return &driver{
		labels: pprof.WithLabels(context.Background(), pprof.Labels("vat", vat, "incarnation", incarnation)),
		job:    job,
	}
}

// run runs the job on the driver's goroutine and returns when it has. The
// job must not call runtime.Goexit (it would end the caller's goroutine
// too).
func (d *driver) run() {
	if d.next == nil {
		d.next, d.stop = iter.Pull(func(yield func(struct{}) bool) {
			pprof.SetGoroutineLabels(d.labels)
			for {
				d.job()
				if !yield(struct{}{}) {
					return
				}
			}
		})
	}
	d.next()
}

// end ends the driver's goroutine. It must not be called during run.
func (d *driver) end() {
	if d.stop != nil {
		d.stop()
		d.next, d.stop = nil, nil
	}
}
