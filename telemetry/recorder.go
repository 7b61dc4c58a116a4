package telemetry

import (
	"context"
	"sync"
	"sync/atomic"
)

// batch is what the kernel counted and measured between two hand-offs to
// the recorder: crank counts by work kind and outcome (vat, with per-vat
// series), syscall counts by kind, and up to durBatch crank and delivery
// durations in the order measured.
//
// INVARIANT: a batch has one owner at a time: the recording goroutine
// (as Metrics.cur), the work channel, the recorder goroutine, or the free
// channel. It moves between them only through the channels, so the two
// goroutines never touch one batch at once.
type batch struct {
	cranks   [numWork][numOutcome]int64
	vat      map[*measureOpts]int64
	syscalls SyscallCounts
	durs     [durBatch]pendingRecord
	n        int
}

func newBatch() *batch { return &batch{vat: map[*measureOpts]int64{}} }

// empty reports that b holds nothing to record. The crank counts need no
// look of their own: every counted crank also measured a duration.
func (b *batch) empty() bool {
	if b.n > 0 || len(b.vat) > 0 {
		return false
	}
	for _, n := range b.syscalls {
		if n > 0 {
			return false
		}
	}
	return true
}

// job is one piece of the recorder's work: a batch to record, or a
// barrier (ack, closed once every job before it is done).
type job struct {
	b   *batch
	ack chan struct{}
}

// recorder adds batches to the SDK's instruments on a goroutine of its
// own. A histogram Record costs a few hundred nanoseconds of SDK work
// (options, the attribute set's lookup, a locked bucket update), two of
// them a crank; made on the kernel actor's goroutine they lengthen every
// crank, made here they overlap the next cranks on another core. The
// kernel's goroutine keeps its share small: it fills a batch (array
// stores) and hands it over with one channel send every few hundred
// cranks.
//
// There are two batches: Metrics.cur, which the kernel fills, and one
// that the recorder is recording or has put back on free. A kernel that
// fills its batch while the recorder is still on the other records the
// full one itself (handOff), so memory stays bounded and nothing waits.
type recorder struct {
	m    *Metrics
	work chan job
	free chan *batch
	// quit is closed by stop; done is closed when the goroutine has
	// recorded every batch handed to it and ended.
	quit, done chan struct{}
	// stopped says stop was called: a later hand-off is recorded in
	// place. Atomic, as the runtime closes its Metrics from the host's
	// goroutine once the kernel actor has stopped (and would race with it
	// only if the actor outlived its stop).
	stopped  atomic.Bool
	stopOnce sync.Once
}

// workDepth bounds the jobs waiting for the recorder: one batch (the
// other is the kernel's), and the barriers of readers collecting at once
// beside it. The kernel's hand-off never waits on it (handOff).
const workDepth = 8

func newRecorder(m *Metrics) *recorder {
	r := &recorder{m: m, work: make(chan job, workDepth), free: make(chan *batch, 1),
		quit: make(chan struct{}), done: make(chan struct{})}
	r.free <- newBatch()
	go r.run()
	return r
}

func (r *recorder) run() {
	defer close(r.done)
	for {
		select {
		case j := <-r.work:
			r.do(j)
		case <-r.quit:
			// stop is called after the last hand-off: what is queued
			// now is all there will be.
			for {
				select {
				case j := <-r.work:
					r.do(j)
				default:
					return
				}
			}
		}
	}
}

func (r *recorder) do(j job) {
	if j.b != nil {
		r.m.record(j.b)
		r.free <- j.b // never blocks: free holds the one batch not the kernel's
	}
	if j.ack != nil {
		close(j.ack)
	}
}

// wait returns once the recorder has recorded every batch handed to it
// before the call, or it has stopped (having recorded them all), or ctx
// ends. Any goroutine may call it.
func (r *recorder) wait(ctx context.Context) error {
	ack := make(chan struct{})
	select {
	case r.work <- job{ack: ack}:
	case <-r.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-ack:
		return nil
	case <-r.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stop waits for the recorder to record what it was handed, and ends
// its goroutine. A second call waits as the first did.
func (r *recorder) stop() {
	r.stopOnce.Do(func() {
		r.stopped.Store(true)
		close(r.quit)
	})
	<-r.done
}

// handOff gives the current batch to the recorder and takes the free one,
// or, when the recorder still has the other batch (or has stopped),
// records the current one in place. It never blocks.
func (m *Metrics) handOff() {
	r := m.rec
	if !r.stopped.Load() {
		select {
		case next := <-r.free:
			select {
			case r.work <- job{b: m.cur}:
				m.cur = next
				return
			default: // readers' barriers fill the queue: keep the spare
				r.free <- next
			}
		default:
		}
	}
	m.record(m.cur)
}

// record adds b's counts to their counters and its durations to their
// histograms, in the order measured, and empties b. On the goroutine that
// owns b.
func (m *Metrics) record(b *batch) {
	for i := range b.durs[:b.n] {
		d := &b.durs[i]
		h := m.crankDur
		if d.delivery {
			h = m.deliveryDur
		}
		h.Record(m.ctx, d.seconds, d.opts.record...)
		d.opts = nil // the batch holds no series alive once recorded
	}
	b.n = 0
	for w := range b.cranks {
		for o, n := range b.cranks[w] {
			if n > 0 {
				m.cranks.Add(m.ctx, n, m.crankOpts[w][o].add...)
			}
		}
	}
	b.cranks = [numWork][numOutcome]int64{}
	for opts, n := range b.vat {
		m.cranks.Add(m.ctx, n, opts.add...)
	}
	clear(b.vat)
	for kind, n := range b.syscalls {
		if n > 0 && kind > 0 {
			m.syscalls.Add(m.ctx, int64(n), m.syscallOpts[kind]...)
		}
	}
	b.syscalls = SyscallCounts{}
}
