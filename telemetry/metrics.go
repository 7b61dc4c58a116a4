package telemetry

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/ocapgo/kernel-actors/kernel"
)

// ScopeName is the instrumentation scope of every instrument and span
// this package makes: a reader can filter the kernel's telemetry by it.
const ScopeName = "github.com/ocapgo/kernel-actors"

// MetricsOptions bound what Metrics records.
type MetricsOptions struct {
	// VatSeries is how many vats get series of their own (a "vat"
	// attribute on the crank and delivery instruments): the first
	// VatSeries vats that crank, in the order they do; every later vat is
	// counted under vat="other". Zero (the default) gives no per-vat
	// series at all, so the number of series does not grow with the
	// number of vats. Negative is refused.
	VatSeries int
	// VatName, if set, names a vat id for its per-vat series (a
	// "vat.name" attribute beside "vat"): the vat's name in its
	// subcluster's config. It is called once per vat that gets series of
	// its own, on the recording goroutine.
	VatName func(vat string) string
}

// ErrOptions is wrapped by NewMetrics for a bad MetricsOptions.
var ErrOptions = errors.New("telemetry: invalid options")

// Histogram bucket bounds. The SDK's default bounds (0 to 10,000) suit
// milliseconds; ours are seconds, from 10 µs (a crank of an in-memory
// kernel) to 30 s (the default delivery deadline).
var (
	secondsBuckets = []float64{0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005,
		0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}
	rowsBuckets = []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000, 10000, 100000}
)

// Metrics holds the kernel's instruments. Its recording methods are for
// the kernel actor's goroutine (one caller at a time), except HostRequest,
// which any goroutine may call. A nil *Metrics records nothing (a kernel
// that traces but has no MeterProvider); the runtime makes no telemetry
// at all, and checks one pointer per crank, when it has neither.
type Metrics struct {
	opts MetricsOptions
	ctx  context.Context // Background: measurements carry no request context

	cranks       metric.Int64Counter
	crankDur     metric.Float64Histogram
	deliveryDur  metric.Float64Histogram
	flushDur     metric.Float64Histogram
	flushRows    metric.Int64Histogram
	syscalls     metric.Int64Counter
	restarts     metric.Int64Counter
	terminations metric.Int64Counter
	hostRequests metric.Int64Counter
	reg          metric.Registration

	// Attribute sets, made once: recording with a prepared option slice
	// allocates nothing in the API. Owned by the recording goroutine,
	// except host, which is read-only after NewMetrics.
	crankOpts    [numWork][numOutcome]measureOpts
	deliveryOpts [numDelivery]measureOpts
	syscallOpts  [numSyscall][]metric.AddOption
	reasons      map[reasonKey][]metric.AddOption
	host         map[string]*[numHostOutcome][]metric.AddOption
	// vats are the vats that have series of their own, with the options of
	// each (kind, outcome); vatOpts is keyed by vat id, and "other" holds
	// every vat past VatSeries.
	vatOpts map[string]*vatSeries

	// cur holds what the kernel counted and measured since it last handed
	// a batch to the recorder: crank and syscall counts, and crank and
	// delivery durations (recorder.go). Owned by the recording goroutine.
	cur *batch
	// rec is the recorder goroutine that adds the batches to the SDK's
	// instruments off the kernel's goroutine.
	rec *recorder

	// gauges are what the observable gauges report: written by Publish on
	// the kernel actor's goroutine, read by a reader's callback on its own.
	gauges struct {
		runQueue, promises            atomic.Int64
		running, pagedOut, restarting atomic.Int64
	}
}

// measureOpts is one attribute set as the options each kind of instrument
// takes.
type measureOpts struct {
	add    []metric.AddOption
	record []metric.RecordOption
}

func newMeasureOpts(attrs ...attribute.KeyValue) measureOpts {
	o := metric.WithAttributeSet(attribute.NewSet(attrs...))
	return measureOpts{add: []metric.AddOption{o}, record: []metric.RecordOption{o}}
}

// durBatch is how many durations wait in Metrics.pendingDur before they
// are recorded: a ping-pong crank makes two (its own and its delivery's),
// so a batch is about the publishEvery of the kernel actor's gauges.
const durBatch = 512

// pendingRecord is one duration waiting to be recorded: into the crank
// histogram (delivery false) or the delivery one, under opts.
type pendingRecord struct {
	opts     *measureOpts
	delivery bool
	seconds  float64
}

// vatSeries is one vat's (or "other"'s) prepared attribute sets.
type vatSeries struct {
	crank    [numWork][numOutcome]measureOpts
	delivery [numDelivery]measureOpts
}

type reasonKey struct {
	restart bool
	reason  string
}

// The sizes of the prepared tables: kernel.WorkKind and kernel.Outcome
// values, and vatproto's delivery and syscall kinds (which start at 1).
const (
	numWork        = int(kernel.WorkNegatedGC) + 1
	numOutcome     = int(kernel.Deferred) + 1
	numDelivery    = int(kernel.DeliverStartVat) + 1
	numSyscall     = int(kernel.SyscallVatstoreDelete) + 1
	numHostOutcome = 4
	// maxReasons bounds the restart and termination reasons: a reason past
	// it is counted as "other" (the callers pass a closed set; this is the
	// backstop against a caller that does not).
	maxReasons = 32
)

// NewMetrics makes the kernel's instruments on mp's meter (ScopeName).
func NewMetrics(mp metric.MeterProvider, opts MetricsOptions) (*Metrics, error) {
	if mp == nil {
		return nil, fmt.Errorf("%w: a nil MeterProvider", ErrOptions)
	}
	if opts.VatSeries < 0 {
		return nil, fmt.Errorf("%w: VatSeries is %d; want 0 (no per-vat series) or more", ErrOptions, opts.VatSeries)
	}
	meter := mp.Meter(ScopeName)
	m := &Metrics{opts: opts, ctx: context.Background(),
		reasons: map[reasonKey][]metric.AddOption{}, host: map[string]*[numHostOutcome][]metric.AddOption{},
		vatOpts: map[string]*vatSeries{}, cur: newBatch()}
	var errs []error
	add := func(err error) { errs = append(errs, err) }
	var err error
	m.cranks, err = meter.Int64Counter("kernel.cranks", metric.WithUnit("{crank}"),
		metric.WithDescription("Cranks run, by work kind and outcome."))
	add(err)
	m.crankDur, err = meter.Float64Histogram("kernel.crank.duration", metric.WithUnit("s"),
		metric.WithDescription("Time from a crank's start to its outputs released, commit included."),
		metric.WithExplicitBucketBoundaries(secondsBuckets...))
	add(err)
	m.deliveryDur, err = meter.Float64Histogram("kernel.delivery.duration", metric.WithUnit("s"),
		metric.WithDescription("Time a vat took over one delivery, syscalls included."),
		metric.WithExplicitBucketBoundaries(secondsBuckets...))
	add(err)
	m.flushDur, err = meter.Float64Histogram("kernel.flush.duration", metric.WithUnit("s"),
		metric.WithDescription("Time one flush of committed units to the store's backend took (one SQLite transaction)."),
		metric.WithExplicitBucketBoundaries(secondsBuckets...))
	add(err)
	m.flushRows, err = meter.Int64Histogram("kernel.flush.rows", metric.WithUnit("{row}"),
		metric.WithDescription("Rows written by one flush."),
		metric.WithExplicitBucketBoundaries(rowsBuckets...))
	add(err)
	m.syscalls, err = meter.Int64Counter("kernel.syscalls", metric.WithUnit("{syscall}"),
		metric.WithDescription("Syscalls vats made, by kind (illegal ones included)."))
	add(err)
	m.restarts, err = meter.Int64Counter("kernel.vat.restarts", metric.WithUnit("{restart}"),
		metric.WithDescription("Vat restarts, by reason."))
	add(err)
	m.terminations, err = meter.Int64Counter("kernel.vat.terminations", metric.WithUnit("{termination}"),
		metric.WithDescription("Vat terminations, by reason."))
	add(err)
	m.hostRequests, err = meter.Int64Counter("kernel.host.requests", metric.WithUnit("{request}"),
		metric.WithDescription("Host requests to the kernel, by kind and outcome."))
	add(err)
	runQueue, err := meter.Int64ObservableGauge("kernel.run_queue.length", metric.WithUnit("{item}"),
		metric.WithDescription("Items waiting in the run queue."))
	add(err)
	promises, err := meter.Int64ObservableGauge("kernel.promises", metric.WithUnit("{promise}"),
		metric.WithDescription("Promise records the kernel holds: unresolved ones, and resolved ones still referenced."))
	add(err)
	vats, err := meter.Int64ObservableGauge("kernel.vats", metric.WithUnit("{vat}"),
		metric.WithDescription("Vats of this kernel by state: running (an instance is live), paged_out, restarting (waiting out a backoff)."))
	add(err)
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("telemetry: making the instruments: %w", err)
	}
	m.prepare()
	state := func(s string) metric.ObserveOption {
		return metric.WithAttributeSet(attribute.NewSet(attribute.String("state", s)))
	}
	running, pagedOut, restarting := state("running"), state("paged_out"), state("restarting")
	m.rec = newRecorder(m)
	m.reg, err = meter.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		// A reader's goroutine. The SDK runs the callbacks of a
		// collection before it reads the instruments, so waiting here
		// for the recorder to finish the batches handed to it makes the
		// collection see every count and duration handed off before it
		// began: what the kernel had at its last Flush, as when the
		// kernel recorded them itself.
		if err := m.rec.wait(ctx); err != nil {
			return err
		}
		// Then only the atomics Publish wrote.
		o.ObserveInt64(runQueue, m.gauges.runQueue.Load())
		o.ObserveInt64(promises, m.gauges.promises.Load())
		o.ObserveInt64(vats, m.gauges.running.Load(), running)
		o.ObserveInt64(vats, m.gauges.pagedOut.Load(), pagedOut)
		o.ObserveInt64(vats, m.gauges.restarting.Load(), restarting)
		return nil
	}, runQueue, promises, vats)
	if err != nil {
		m.rec.stop()
		return nil, fmt.Errorf("telemetry: registering the gauges: %w", err)
	}
	return m, nil
}

// prepare makes the attribute sets that do not depend on a vat.
func (m *Metrics) prepare() {
	for w := range numWork {
		for o := range numOutcome {
			m.crankOpts[w][o] = newMeasureOpts(attribute.String("kind", kernel.WorkKind(w).String()),
				attribute.String("outcome", kernel.Outcome(o).String()))
		}
	}
	for d := 1; d < numDelivery; d++ {
		m.deliveryOpts[d] = newMeasureOpts(attribute.String("kind", kernel.DeliveryKind(d).String()))
	}
	for s := 1; s < numSyscall; s++ {
		m.syscallOpts[s] = newMeasureOpts(attribute.String("kind", kernel.SyscallKind(s).String())).add
	}
	for _, kind := range HostRequestKinds {
		var t [numHostOutcome][]metric.AddOption
		for o := range numHostOutcome {
			t[o] = newMeasureOpts(attribute.String("kind", kind), attribute.String("outcome", hostOutcomes[o])).add
		}
		m.host[kind] = &t
	}
}

// series returns vat's prepared attribute sets, making them the first
// time the vat is seen; past VatSeries vats, every vat shares "other"'s.
func (m *Metrics) series(vat string) *vatSeries {
	if s, ok := m.vatOpts[vat]; ok {
		return s
	}
	if len(m.vatOpts) >= m.opts.VatSeries {
		if s, ok := m.vatOpts["other"]; ok {
			return s
		}
		vat = "other" // the table's one extra entry
	}
	attrs := []attribute.KeyValue{attribute.String("vat", vat)}
	if m.opts.VatName != nil && vat != "other" {
		attrs = append(attrs, attribute.String("vat.name", m.opts.VatName(vat)))
	}
	s := &vatSeries{}
	for w := range numWork {
		for o := range numOutcome {
			s.crank[w][o] = newMeasureOpts(append(attrs[:len(attrs):len(attrs)],
				attribute.String("kind", kernel.WorkKind(w).String()), attribute.String("outcome", kernel.Outcome(o).String()))...)
		}
	}
	for d := 1; d < numDelivery; d++ {
		s.delivery[d] = newMeasureOpts(append(attrs[:len(attrs):len(attrs)], attribute.String("kind", kernel.DeliveryKind(d).String()))...)
	}
	m.vatOpts[vat] = s
	return s
}

// Crank records one crank that ran (committed or aborted): its work kind,
// outcome and duration, under vat's series when per-vat series are on
// ("" for a crank that concerned no vat, which is never per-vat).
func (m *Metrics) Crank(vat kernel.VatID, w kernel.WorkKind, o kernel.Outcome, took time.Duration) {
	if m == nil {
		return
	}
	if int(w) >= numWork || int(o) >= numOutcome {
		return // a kind this build does not know: nothing sensible to label
	}
	opts := &m.crankOpts[w][o]
	if m.opts.VatSeries > 0 && vat != "" {
		opts = &m.series(string(vat)).crank[w][o]
		m.cur.vat[opts]++ // added by the recorder
	} else {
		m.cur.cranks[w][o]++ // added by the recorder
	}
	m.recordLater(opts, false, took)
}

// Delivery records how long one delivery to vat took.
func (m *Metrics) Delivery(vat kernel.VatID, kind kernel.DeliveryKind, took time.Duration) {
	if m == nil {
		return
	}
	if kind == 0 || int(kind) >= numDelivery {
		return
	}
	opts := &m.deliveryOpts[kind]
	if m.opts.VatSeries > 0 && vat != "" {
		opts = &m.series(string(vat)).delivery[kind]
	}
	m.recordLater(opts, true, took)
}

// recordLater queues one duration for its histogram, handing the batch
// to the recorder when it is full.
func (m *Metrics) recordLater(opts *measureOpts, delivery bool, took time.Duration) {
	b := m.cur
	b.durs[b.n] = pendingRecord{opts: opts, delivery: delivery, seconds: took.Seconds()}
	b.n++
	if b.n == len(b.durs) {
		m.handOff()
	}
}

// flush records how long one flush took (FlushProbe).
func (m *Metrics) flush(took time.Duration) {
	if m == nil {
		return
	}
	m.flushDur.Record(m.ctx, took.Seconds())
}

// flushRowsWritten records the rows one flush wrote (FlushProbe).
func (m *Metrics) flushRowsWritten(rows uint64) {
	if m == nil {
		return
	}
	m.flushRows.Record(m.ctx, int64(rows))
}

// Syscalls adds one delivery's syscalls, by kind (to the counter at
// Flush).
func (m *Metrics) Syscalls(c *SyscallCounts) {
	if m == nil {
		return
	}
	for kind, n := range c {
		m.cur.syscalls[kind] += n
	}
}

// Flush hands the cranks and syscalls counted and the durations
// measured since the last Flush to the recorder, which adds them to their
// counters and histograms off the calling goroutine. Publish calls it. A
// collection that begins after Flush returns sees them (the gauges'
// callback waits for the recorder); one between two Flushes sees the
// counters and histograms as of the first (or of the last full batch of
// durations).
func (m *Metrics) Flush() {
	if m == nil {
		return
	}
	if !m.cur.empty() {
		m.handOff()
	}
}

// Restart records a vat restart, and Termination a vat termination, for
// reason: one of the Reason constants.
func (m *Metrics) Restart(reason string) {
	if m != nil {
		m.reason(m.restarts, true, reason)
	}
}

// Termination: see Restart.
func (m *Metrics) Termination(reason string) {
	if m != nil {
		m.reason(m.terminations, false, reason)
	}
}

func (m *Metrics) reason(c metric.Int64Counter, restart bool, reason string) {
	if m == nil {
		return
	}
	key := reasonKey{restart, reason}
	opts, ok := m.reasons[key]
	if !ok {
		if len(m.reasons) >= maxReasons {
			key.reason = "other"
		}
		opts = newMeasureOpts(attribute.String("reason", key.reason)).add
		m.reasons[key] = opts
	}
	c.Add(m.ctx, 1, opts...)
}

// Restart and termination reasons.
const (
	// ReasonFailure: the vat failed a delivery (panic, illegal syscall,
	// failure exit, missed deadline) and its failure policy said restart,
	// or terminate.
	ReasonFailure = "failure"
	// ReasonRestartLimit: the vat failed too often under the restart
	// policy, and was terminated instead.
	ReasonRestartLimit = "restart_limit"
	// ReasonExit: the vat exited cleanly.
	ReasonExit = "exit"
	// ReasonHost: the host asked (TerminateVat, TerminateSubcluster,
	// RestartVat).
	ReasonHost = "host"
	// ReasonCascade: the vat went with its subcluster, whose bootstrap
	// failed or whose other vat's termination took it along.
	ReasonCascade = "cascade"
	// ReasonCrash: the vat's actor crashed outside a delivery.
	ReasonCrash = "crash"
)

// HostRequestKinds are the kinds of host request HostRequest counts; any
// other kind is counted as "other".
var HostRequestKinds = []string{"resume", "launch", "terminate_subcluster", "queue_message",
	"terminate_vat", "restart_vat", "upgrade_vat", "ping_vat", "revoke", "is_revoked", "release",
	"status", "register_service", "reap", "stop", "wait_idle", "read_store", "vat_log", "subcluster",
	"local_peer", "remotes", "add_remote", "export_to_remote", "import_from_remote", "give_up_remote",
	"issue_url", "revoke_url", "redeem_url", "other"}

// Host request outcomes: answered without an error, answered with one,
// given up by the caller (its context ended), or refused because the
// kernel had stopped.
var hostOutcomes = [numHostOutcome]string{"ok", "error", "canceled", "stopped"}

// HostOutcome* index hostOutcomes.
const (
	HostOK = iota
	HostError
	HostCanceled
	HostStopped
)

// HostRequest counts one host request of kind with its outcome (HostOK,
// ...). Any goroutine may call it.
func (m *Metrics) HostRequest(kind string, outcome int) {
	if m == nil {
		return
	}
	t, ok := m.host[kind]
	if !ok {
		t = m.host["other"]
	}
	if outcome < 0 || outcome >= numHostOutcome {
		outcome = HostError
	}
	m.hostRequests.Add(m.ctx, 1, t[outcome]...)
}

// Gauges are the state the observable gauges report.
type Gauges struct {
	RunQueue, Promises            int
	Running, PagedOut, Restarting int
}

// Publish makes g what the next reading of the gauges reports, and
// flushes the pending counts (Flush).
func (m *Metrics) Publish(g Gauges) {
	if m == nil {
		return
	}
	m.Flush()
	m.gauges.runQueue.Store(int64(g.RunQueue))
	m.gauges.promises.Store(int64(g.Promises))
	m.gauges.running.Store(int64(g.Running))
	m.gauges.pagedOut.Store(int64(g.PagedOut))
	m.gauges.restarting.Store(int64(g.Restarting))
}

// Close records what is still pending (as Flush does), waits for the
// recorder to finish and stops it, and unregisters the gauges' callback:
// a MeterProvider that outlives the kernel no longer reads it, and one
// shut down after Close has every count. Nothing may be recorded after
// Close.
func (m *Metrics) Close() error {
	if m == nil {
		return nil
	}
	m.Flush()
	m.rec.stop()
	return m.reg.Unregister()
}
