package actors

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/telemetry"
)

// Tracing (Config.TracerProvider, docs/observability.md): one span per
// crank, in the trace of whatever queued the crank's item. A host's
// QueueMessage carries the trace context of its ctx into the run queue,
// and every crank carries its own into the items its sends and
// resolutions queue; the crank that takes such an item is a child of, and
// links to, the span that queued it. So one trace follows a request from
// the host through every vat it reaches.
//
// The kernel knows nothing of this. The kernel actor follows run-queue
// items by position: the queue is strictly FIFO, items are appended only
// at the tail, and only a crank takes one off the head
// (CrankResult.Dequeued), so the positions of the items a message of the
// kernel actor queued are the tail's growth across it.

// crankTracer is the kernel actor's tracing state. Owned by its goroutine.
type crankTracer struct {
	tracer trace.Tracer
	// head is the position of the run queue's head, counted from the
	// items queued when the kernel started (position 0 is the head then).
	head uint64
	// tail is the position past the last item, as of the start of the
	// message in hand: as the last message left it (after), since only
	// the kernel actor's messages change the queue; the first message
	// reads it from the queue's length (synced).
	tail   uint64
	synced bool
	// causes are the trace contexts of the spans (a host's, a crank's)
	// that queued the items still in the run queue, by position; an item
	// queued with no trace context has none. It holds at most one entry
	// per queued item, each removed when a crank takes its item.
	causes causeQueue
	// cause is what the message in hand queues its items under: the
	// crank's own span, or the host's trace context. inherit says the
	// cause is a crank's span that the sampler dropped, whose decision
	// the cranks it causes inherit (everyCrank off; crankSpan).
	cause   trace.SpanContext
	inherit bool
	// everyCrank is Config.SampleEveryCrank.
	everyCrank bool
	// attrs is reused from span to span (the SDK copies what it keeps),
	// and names and syscallKeys are made once: a traced crank allocates
	// what the SDK does, and little more.
	attrs       []attribute.KeyValue
	names       [numWorkKinds]string
	syscallKeys [numSyscallKinds]string
	// deliveries are the crank's deliveries to JavaScript worker vats, each
	// a child span of the crank's: the part of the crank spent across a
	// process boundary. Reused from crank to crank.
	deliveries []workerDelivery
	// parent and parentCtx hand an unsampled parent to the tracer (start):
	// parentCtx, made once, carries parent, whose span context is set for
	// one Start at a time. opts is the start options of such a span, and of
	// a root, reused: only its timestamp changes.
	parent    startParent
	parentCtx context.Context
	opts      [1]trace.SpanStartOption
}

// workerDelivery is one delivery to a JavaScript worker vat, timed.
type workerDelivery struct {
	kind       kernel.DeliveryKind
	began, end time.Time
	failed     bool
}

// The sizes of crankTracer's tables: kernel.WorkKind values, and
// kernel.SyscallKind values (which start at 1).
const (
	numWorkKinds    = int(kernel.WorkNegatedGC) + 1
	numSyscallKinds = len(telemetry.SyscallCounts{})
)

// queuedBy is the attribute of the link from a crank to the span that
// queued its item.
var queuedBy = []attribute.KeyValue{attribute.String("kernel.link", "queued_by")}

func newCrankTracer(tp trace.TracerProvider, everyCrank bool) *crankTracer {
	t := &crankTracer{tracer: tp.Tracer(telemetry.ScopeName), everyCrank: everyCrank}
	t.parentCtx = trace.ContextWithSpan(context.Background(), &t.parent)
	for w := range t.names {
		t.names[w] = "crank " + kernel.WorkKind(w).String()
	}
	for k := 1; k < numSyscallKinds; k++ {
		t.syscallKeys[k] = "kernel.syscalls." + kernel.SyscallKind(k).String()
	}
	return t
}

// before readies the tracer for a message of the kernel actor; queueLen
// gives the run queue's length, read only at the first message.
func (t *crankTracer) before(queueLen func() int) {
	if !t.synced {
		// A resumed store's queue holds items already, with no cause.
		t.tail, t.synced = t.head+uint64(queueLen()), true
	}
	t.cause, t.inherit = trace.SpanContext{}, false
}

// after gives the items the message queued (the tail's growth) its cause.
func (t *crankTracer) after(queueLen int) {
	tail := t.head + uint64(queueLen)
	if t.cause.IsValid() {
		for pos := t.tail; pos < tail; pos++ {
			t.causes.push(pos, t.cause, t.inherit)
		}
	}
	t.tail = tail
	t.cause, t.inherit = trace.SpanContext{}, false
}

// crankSpan records the span of a crank that ran, from began to end: a
// child of the span that queued its item, if the crank took one that had
// a cause. Its span context becomes the cause of what the crank queued.
//
// Most cranks of a sampled kernel are not sampled, so the span that the
// TracerProvider's sampler drops must cost next to nothing: the sampler
// still decides every span (from the parent, as it would anywhere), but
// nothing the span would only record is made before it says yes. So the
// attributes, the link and the end timestamp are added only to a span that
// records, and an unsampled parent is handed over in a context made once
// (startParent). What is left is the SDK's own: the span, the context
// Start returns, and the boxed start timestamp (TestUnsampledCrankAllocations
// pins it).
func (ka *kernelActor) crankSpan(r kernel.CrankResult, began, end time.Time, rows uint64) {
	t := ka.tel.tr
	var parent trace.SpanContext
	var inherit bool
	if r.Work == kernel.WorkSend || r.Work == kernel.WorkNotify {
		// The item the crank picked was the head (pickWork takes the
		// head, or no queue item at all).
		parent, inherit = t.causes.at(t.head)
		if r.Dequeued {
			t.causes.pop(t.head)
			t.head++
		}
	}
	wait := ka.tel.probe.TakeWait() // the flush time of this crank alone
	if inherit {
		// The crank that caused this one was offered to the sampler, which
		// dropped it: this crank inherits that decision, with no span at
		// all, and hands the same cause on to what it queues. It is what a
		// ParentBased sampler (OpenTelemetry's default) decides for a child
		// of an unsampled parent, and what a TraceIDRatioBased one decides
		// for a span of the same trace, so a trace sampled at 1% costs
		// the other 99% of its cranks nothing past their first.
		// Config.SampleEveryCrank offers every crank instead.
		t.deliveries = t.deliveries[:0]
		t.cause, t.inherit = parent, true
		return
	}
	name := "crank ?"
	if int(r.Work) < len(t.names) {
		name = t.names[r.Work]
	}
	ctx, span := t.start(parent, name, began)
	if !span.IsRecording() {
		// An unsampled span records nothing, End's options included.
		span.End()
		t.deliveries = t.deliveries[:0]
		// INVARIANT: only a crank span that the sampler dropped (neither
		// recorded nor sampled) passes its decision on; a host's unsampled
		// context does not, so the first crank of every host request is
		// always offered to the sampler.
		t.cause = span.SpanContext()
		t.inherit = !t.everyCrank && !t.cause.IsSampled()
		return
	}
	if parent.IsValid() && !parent.IsSampled() {
		// start gave the sampler the parent but not the link (it repeats
		// the parent): the sampler recorded this span anyway.
		span.AddLink(trace.Link{SpanContext: parent, Attributes: queuedBy})
	}
	attrs := append(t.attrs[:0],
		attribute.Int64("kernel.crank", int64(r.Crank)),
		attribute.String("kernel.work", r.Work.String()),
		attribute.String("kernel.outcome", r.Outcome.String()),
		attribute.Int("kernel.syscalls", ka.tel.syscalls.Total()),
		attribute.Int64("kernel.flush.rows", int64(rows)),
	)
	if ka.cfg.DBPath != "" {
		// Only a file store's flushes are timed (Start).
		attrs = append(attrs, attribute.Float64("kernel.commit_wait", wait.Seconds()))
	}
	if r.Vat != "" {
		attrs = append(attrs, attribute.String("kernel.vat", string(r.Vat)))
	}
	if r.Method != "" {
		attrs = append(attrs, attribute.String("kernel.method", r.Method))
	}
	for kind, n := range ka.tel.syscalls {
		if n > 0 && kind > 0 {
			attrs = append(attrs, attribute.Int(t.syscallKeys[kind], int(n)))
		}
	}
	span.SetAttributes(attrs...)
	t.attrs = attrs[:0]
	if r.Failure != nil {
		// A coded error: no kref or vref in its text (invariant 7).
		span.SetStatus(codes.Error, r.Failure.Error())
	}
	if len(t.deliveries) > 0 {
		dctx := trace.ContextWithSpan(ctx, span)
		for _, d := range t.deliveries {
			_, ds := t.tracer.Start(dctx, "deliver "+d.kind.String(), trace.WithTimestamp(d.began),
				trace.WithAttributes(attribute.String("kernel.vat", string(r.Vat)), attribute.String("kernel.vat.runtime", "js")))
			if d.failed {
				ds.SetStatus(codes.Error, "delivery failed")
			}
			ds.End(trace.WithTimestamp(d.end))
		}
	}
	t.deliveries = t.deliveries[:0]
	span.End(trace.WithTimestamp(end))
	t.cause = span.SpanContext()
}

// start starts a crank's span at began under parent (none if invalid),
// and returns the context it started in. A sampled parent's child is
// likely recorded, so it is started as any span is: in a fresh context,
// with its link to the parent among its start options, where the sampler
// sees it. An unsampled parent's child most likely is not, so start hands
// the sampler the parent in startParent's context, made once, and the
// start timestamp in an option slice made once: the sampler sees the same
// parent, and no context or slice is made for a span it drops.
func (t *crankTracer) start(parent trace.SpanContext, name string, began time.Time) (context.Context, trace.Span) {
	switch {
	case !parent.IsValid():
		t.opts[0] = trace.WithTimestamp(began)
		_, span := t.tracer.Start(context.Background(), name, t.opts[:]...)
		return context.Background(), span
	case parent.IsSampled():
		ctx := trace.ContextWithSpanContext(context.Background(), parent)
		_, span := t.tracer.Start(ctx, name, trace.WithTimestamp(began),
			trace.WithLinks(trace.Link{SpanContext: parent, Attributes: queuedBy}))
		return ctx, span
	}
	t.parent.sc = parent
	t.opts[0] = trace.WithTimestamp(began)
	_, span := t.tracer.Start(t.parentCtx, name, t.opts[:]...)
	// Cleared at once: whatever kept the context (a span processor is
	// handed it) sees no parent rather than a later crank's.
	t.parent.sc = trace.SpanContext{}
	return t.parentCtx, span
}

// startParent is the parent span of a crank's span whose cause is not
// sampled, as the tracer reads it from a context: a span context and
// nothing else, as trace.ContextWithSpanContext makes, but one value set
// afresh for each crank, in a context made once (crankTracer.parentCtx),
// where ContextWithSpanContext makes two allocations a call.
type startParent struct {
	noop.Span // records nothing: only its span context is read
	sc        trace.SpanContext
}

// SpanContext is the parent's span context, as set for the span starting.
func (p *startParent) SpanContext() trace.SpanContext { return p.sc }

// causeQueue holds the causes of queued items by position, in position
// order: the run queue's items are appended at the tail and taken from
// the head, so their causes are pushed at the back and popped from the
// front, and a crank finds its item's at the front. A FIFO in a slice
// reused as it drains, where a map from position to cause hashed twice a
// crank.
type causeQueue struct {
	items []queuedCause // items[first:] are held, positions ascending
	first int
}

// queuedCause is the cause of the run-queue item at position pos, and
// whether the item's crank inherits its cause's sampling decision.
type queuedCause struct {
	pos     uint64
	sc      trace.SpanContext
	inherit bool
}

// push gives the item at pos, past every position held, its cause.
func (q *causeQueue) push(pos uint64, sc trace.SpanContext, inherit bool) {
	if q.first > 0 && q.first >= len(q.items)/2 {
		// At least half the slice is taken: move what is held to the
		// front, so that the slice grows only with the causes held.
		n := copy(q.items, q.items[q.first:])
		clear(q.items[n:]) // no trace state kept alive
		q.items, q.first = q.items[:n], 0
	}
	q.items = append(q.items, queuedCause{pos: pos, sc: sc, inherit: inherit})
}

// at is the cause of the item at pos, the head of the run queue (none if
// it has none), and whether its crank inherits the cause's decision.
func (q *causeQueue) at(pos uint64) (trace.SpanContext, bool) {
	q.drop(pos)
	if q.first < len(q.items) && q.items[q.first].pos == pos {
		c := q.items[q.first]
		return c.sc, c.inherit
	}
	return trace.SpanContext{}, false
}

// pop forgets the cause of the item at pos, the head, now taken.
func (q *causeQueue) pop(pos uint64) { q.drop(pos + 1) }

// drop forgets the causes of the positions before pos: items no longer
// in the queue.
func (q *causeQueue) drop(pos uint64) {
	for q.first < len(q.items) && q.items[q.first].pos < pos {
		q.items[q.first] = queuedCause{}
		q.first++
	}
	if q.first == len(q.items) {
		q.items, q.first = q.items[:0], 0
	}
}
