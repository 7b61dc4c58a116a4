package vat

import (
	"errors"
	"fmt"
	"iter"
	"runtime"
	"runtime/debug"
)

// sched runs a vat's code. Vat code runs on coroutines (iter.Pull) so that
// a handler can block in Await, but only one of them runs at a time, and
// only while the delivery's goroutine (the driver) waits for it: the
// driver switches to one task, and gets control back when that task
// finishes or parks in Await. Tasks become ready in a FIFO queue (new
// handlers, promise reactions, awaits whose promise settled), so the order
// in which vat code runs is a function of the deliveries alone:
// deterministic.
//
// A delivery runs the scheduler until nothing is ready: the method and
// every reaction it triggers finish (or park) before the delivery ends,
// and no vat code runs between deliveries.
//
// A switch to a coroutine and back is a direct hand-off between two
// goroutines on one thread, not a wake-up through the Go scheduler, and a
// worker (a coroutine with its goroutine) that finishes its task is kept
// for the next one: a task costs neither a goroutine's start nor the
// growth of a fresh stack, where it cost both, and two channel hand-offs.
type sched struct {
	// ready holds the tasks waiting to run, FIFO, from ready[head]: the
	// slice is kept from delivery to delivery, so queueing a task
	// allocates nothing once it has grown.
	ready []job
	head  int
	// idle are workers with no task, kept for the next ones; parked are
	// workers whose task waits in Await; dead, those whose task ended in
	// runtime.Goexit, suspended inside it until stop lets it end.
	idle    []*worker
	parked  map[*worker]struct{}
	dead    []*worker
	current *worker // the worker running a task, nil while the driver runs
	fault   error   // the first panic of a task, if any
	stopped bool
	made    int // workers made so far (the tests' window on reuse)
}

// maxReadyKept bounds the capacity of the ready queue kept between
// deliveries.
const maxReadyKept = 256

// maxIdle bounds the workers kept idle: one is what a vat whose tasks
// never await needs; more serve tasks that start while others are parked.
const maxIdle = 4

// job is a ready entry: a new task (fn), or a parked worker to resume.
type job struct {
	fn func()
	w  *worker
}

// worker is a coroutine that runs tasks, one after another.
type worker struct {
	task   func()                  // the task to run next (start)
	next   func() (struct{}, bool) // switch to the worker until it yields
	stop   func()                  // end the worker
	yield  func(v struct{}) bool   // give control back to the driver
	wake   func()                  // queue its resume (made once: a park costs no closure)
	parked bool                    // it yielded from park, not between tasks
	exited bool                    // its task called runtime.Goexit
	// ending: stop ended its park; the exit that follows is the
	// scheduler's, runs on stop's goroutine, and touches nothing shared.
	ending bool
	s      *sched // the scheduler it belongs to
}

func newSched() *sched { return &sched{} }

// spawn queues fn to run as a task of its own.
func (s *sched) spawn(fn func()) { s.ready = append(s.ready, job{fn: fn}) }

// newWorker makes a worker. Its loop runs the task it was given, then
// yields, until the scheduler stops it.
func (s *sched) newWorker() *worker {
	w := &worker{s: s}
	w.wake = func() { s.ready = append(s.ready, job{w: w}) }
	s.made++
	w.next, w.stop = iter.Pull(func(yield func(struct{}) bool) {
		w.yield = yield
		for {
			fn := w.task
			w.task = nil
			w.runTask(fn)
			if !yield(struct{}{}) {
				return
			}
		}
	})
	return w
}

// runTask runs fn, recovering its panic as the vat's fault. A task that
// calls runtime.Goexit faults the vat too; its coroutine cannot go on
// (Goexit cannot be stopped), and an exit that reached the driver would
// end the vat actor's goroutine mid-message, so the worker hands control
// back from inside the exit and stays suspended there until stop.
func (w *worker) runTask(fn func()) {
	s := w.s
	returned := false
	defer func() {
		if w.ending {
			return
		}
		r := recover()
		switch {
		case r != nil:
			if s.fault == nil {
				s.fault = panicError(r)
			}
		case !returned:
			if s.fault == nil {
				s.fault = errGoexit
			}
			w.exited = true
			s.dead = append(s.dead, w)
			w.yield(struct{}{}) // returns (false) only at stop: then the exit goes on
		}
	}()
	fn()
	returned = true
}

// errGoexit is the fault of a task that called runtime.Goexit.
var errGoexit = errors.New("vat code called runtime.Goexit")

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

// park gives control back to the driver and suspends the calling task
// until wake runs it again. It is how Await waits; it must be called from
// a running task. If the incarnation ends first, the task's goroutine
// exits (its deferred calls run).
func (s *sched) park(register func(wake func())) {
	w := s.parking()
	register(w.wake)
	s.suspend(w)
}

// parkOn is park registering the wake-up in *waiters (a promise's), with
// no closure to make.
func (s *sched) parkOn(waiters *[]func()) {
	w := s.parking()
	*waiters = append(*waiters, w.wake)
	s.suspend(w)
}

// parking returns the worker of the running task, which is about to park.
func (s *sched) parking() *worker {
	w := s.current
	if w == nil {
		panic(&faultPanic{errors.New("vat: Await outside vat code (a method, a Then callback, the build function)")})
	}
	return w
}

func (s *sched) suspend(w *worker) {
	w.parked = true
	if s.parked == nil {
		s.parked = map[*worker]struct{}{}
	}
	s.parked[w] = struct{}{}
	if !w.yield(struct{}{}) {
		w.ending = true
		runtime.Goexit() // stopped while parked
	}
}

// errStopped is the fault of a delivery to an incarnation that has been
// stopped.
var errStopped = errors.New("vat: the incarnation has been stopped")

// run runs ready tasks until none is left, and returns the first fault.
func (s *sched) run() error {
	if s.stopped {
		return errStopped
	}
	for s.head < len(s.ready) && s.fault == nil {
		j := s.ready[s.head]
		s.ready[s.head] = job{} // let what the task held be collected
		s.head++
		if j.fn != nil {
			s.start(j.fn)
		} else {
			s.resume(j.w)
		}
	}
	if s.head == len(s.ready) {
		s.ready, s.head = s.ready[:0], 0
		if cap(s.ready) > maxReadyKept {
			s.ready = nil // a burst's queue is not kept for good
		}
	}
	return s.fault
}

// start runs fn on an idle worker (or a new one) until it finishes or
// parks.
func (s *sched) start(fn func()) {
	var w *worker
	if n := len(s.idle); n > 0 {
		w = s.idle[n-1]
		s.idle[n-1] = nil
		s.idle = s.idle[:n-1]
	} else {
		w = s.newWorker()
	}
	w.task = fn
	s.switchTo(w)
}

// resume runs a parked worker's task on from its Await.
func (s *sched) resume(w *worker) {
	if !w.parked {
		// INVARIANT: a wake-up is registered once per park and called at
		// most once (a promise runs its waiters once); this would be a
		// stale one, and must not run a worker that is not parked.
		return
	}
	delete(s.parked, w)
	w.parked = false
	s.switchTo(w)
}

// switchTo runs w until it yields, then files it: parked, dead, kept
// idle, or ended.
func (s *sched) switchTo(w *worker) {
	s.current = w
	w.next()
	s.current = nil
	switch {
	case w.parked || w.exited:
	case len(s.idle) < maxIdle:
		s.idle = append(s.idle, w)
	default:
		w.stop()
	}
}

// stop ends the incarnation: idle workers end; parked ones and those
// suspended in Goexit exit, each on a goroutine of its own (an exit
// reaches the goroutine that stops the coroutine, and must not reach the
// caller). It must not be called during a delivery.
func (s *sched) stop() {
	if s.stopped {
		return
	}
	s.stopped = true
	for _, w := range s.idle {
		w.stop()
	}
	s.idle = nil
	for w := range s.parked {
		go w.stop()
	}
	s.parked = nil
	for _, w := range s.dead {
		go w.stop()
	}
	s.dead = nil
	s.ready, s.head = nil, 0
}
