package vat

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// sched runs a vat's code. Vat code runs on goroutines so that a handler
// can block in Await, but only one of them runs at a time: the scheduler
// hands a baton to one task, and waits until that task finishes or parks
// in Await before it hands the baton to the next. Tasks become ready in a
// FIFO queue (new handlers, promise reactions, awaits whose promise
// settled), so the order in which vat code runs is a function of the
// deliveries alone: deterministic.
//
// A delivery runs the scheduler until nothing is ready: the method and
// every reaction it triggers finish (or park) before the delivery ends,
// and no vat goroutine runs between deliveries.
type sched struct {
	ready   []func()      // tasks waiting for the baton, FIFO
	yield   chan struct{} // the running task gives the baton back
	stopped chan struct{} // closed when the incarnation ends
	fault   error         // the first panic of a task, if any
}

func newSched() *sched {
	return &sched{yield: make(chan struct{}), stopped: make(chan struct{})}
}

// spawn queues fn to run on a goroutine of its own.
func (s *sched) spawn(fn func()) {
	s.ready = append(s.ready, func() {
		go s.runTask(fn)
		<-s.yield
	})
}

// runTask runs fn with the baton, recovering its panic as the vat's fault.
func (s *sched) runTask(fn func()) {
	defer func() {
		if r := recover(); r != nil {
			if s.fault == nil {
				s.fault = panicError(r)
			}
		}
		// Hand the baton back, unless the incarnation ended while the task
		// was parked (then nobody waits for it, and it is exiting).
		select {
		case s.yield <- struct{}{}:
		case <-s.stopped:
		}
	}()
	fn()
}

// panicError turns a recovered panic into an error, keeping the stack for
// the log (not for the message, which may travel).
func panicError(r any) error {
	if f, ok := r.(*faultPanic); ok {
		return f.err
	}
	return &PanicError{Value: r, Stack: debug.Stack()}
}

// PanicError is vat code's panic, recovered: the delivery failed.
type PanicError struct {
	Value any
	Stack []byte // where it panicked, for the log
}

func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// faultPanic carries an error out of vat code as a panic: used when the
// kernel refuses a syscall, so the handler stops at once.
type faultPanic struct{ err error }

// park gives the baton back and blocks the calling task until wake runs it
// again. It is how Await waits; it must be called from a running task.
// If the incarnation ends first, the goroutine exits.
func (s *sched) park(register func(wake func())) {
	resume := make(chan struct{})
	register(func() {
		s.ready = append(s.ready, func() {
			resume <- struct{}{}
			<-s.yield
		})
	})
	s.yield <- struct{}{}
	select {
	case <-resume:
	case <-s.stopped:
		runtime.Goexit()
	}
}

// run runs ready tasks until none is left, and returns the first fault.
func (s *sched) run() error {
	for len(s.ready) > 0 && s.fault == nil {
		t := s.ready[0]
		s.ready[0] = nil // let what the task held be collected
		s.ready = s.ready[1:]
		t()
	}
	if len(s.ready) == 0 {
		s.ready = nil
	}
	return s.fault
}

// stop ends the incarnation: parked goroutines exit.
func (s *sched) stop() {
	select {
	case <-s.stopped:
	default:
		close(s.stopped)
	}
}
