package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/persistence"
)

// Defaults for Options.
const (
	DefaultInterval   = time.Second
	DefaultQueueItems = 20
	DefaultMaxVats    = 500
	DefaultMaxStreams = 16
	DefaultHistory    = 120
	// sampleTimeout bounds one sample's wait for the kernel: a kernel busy
	// with a long crank makes the sample late, never the hub stuck.
	sampleTimeout = 5 * time.Second
)

// Errors of Subscribe.
var (
	// ErrTooManyStreams: MaxStreams streams are open already.
	ErrTooManyStreams = errors.New("console: too many event streams open")
	// ErrClosed: the hub was closed (the server stops, or the kernel did).
	ErrClosed = errors.New("console: the hub is closed")
)

// Options bound what a Hub samples and holds.
type Options struct {
	// Interval is the time between snapshots (DefaultInterval).
	Interval time.Duration
	// QueueItems is how many run-queue items, from its head, a snapshot
	// shows (DefaultQueueItems).
	QueueItems int
	// MaxVats is how many vats a snapshot lists, in id order; the rest
	// are counted in VatsTotal (DefaultMaxVats).
	MaxVats int
	// MaxStreams bounds the event streams open at once
	// (DefaultMaxStreams).
	MaxStreams int
	// History is how many past points a stream's first frame carries, for
	// the charts (DefaultHistory).
	History int
}

func (o Options) withDefaults() Options {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	// Zero or negative means the default: a hub that showed no vats or
	// took no stream would be a console that shows nothing.
	def(&o.QueueItems, DefaultQueueItems)
	def(&o.MaxVats, DefaultMaxVats)
	def(&o.MaxStreams, DefaultMaxStreams)
	def(&o.History, DefaultHistory)
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	return o
}

// Hub samples a kernel for the console and fans its snapshots out to the
// event streams. The kernel feeds it per-crank summaries (OnCrankDone,
// on the kernel actor's goroutine: a map update under a mutex no stream
// ever holds), and a sampler goroutine asks the kernel, once an Interval
// and only while a stream is open, for its counts and the head of its
// run queue. A stream that reads slowly misses snapshots (its one-slot
// buffer keeps the newest), so no stream can hold up the sampler, and the
// sampler never holds up the kernel.
type Hub struct {
	opts   Options
	reader *sdkmetric.ManualReader

	// stats are the per-vat counts OnCrankDone keeps.
	stats struct {
		sync.Mutex
		// vats grows with the vats that cranked in this process, as the
		// kernel's own tables do; nothing here is per crank.
		vats map[kernel.VatID]*vatStats
	}

	mu struct {
		sync.Mutex
		subs    map[*Subscription]struct{}
		history []Point // the newest History points
		closed  bool
	}
	seq    uint64 // the sampler's own
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once
	start  sync.Once
	commit commitReader
}

// vatStats are one vat's crank counts in this process.
type vatStats struct {
	cranks, aborted uint64
	lastError       string
	lastErrorCrank  uint64
}

// New makes a hub; Start sets it sampling a kernel.
func New(opts Options) *Hub {
	// A manual reader: collected only when the sampler asks, so a hub
	// nobody watches costs the MeterProvider nothing at export time.
	h := &Hub{opts: opts.withDefaults(), reader: sdkmetric.NewManualReader(),
		stop: make(chan struct{}), done: make(chan struct{})}
	h.stats.vats = map[kernel.VatID]*vatStats{}
	h.mu.subs = map[*Subscription]struct{}{}
	return h
}

// Reader is the metric reader the hub reads the kernel's flush durations
// from: add it to the kernel's MeterProvider (providers.Options.Readers).
// Without it the commit-latency chart stays empty.
func (h *Hub) Reader() sdkmetric.Reader { return h.reader }

// OnCrankDone counts one crank against its vat: for
// actors.Config.OnCrankDone. It returns at once.
func (h *Hub) OnCrankDone(s actors.CrankSummary) {
	if s.Vat == "" {
		// A send the router splatted concerned no vat: no row to count it on.
		return
	}
	// INVARIANT: the kernel actor waits here for the lock at most as long
	// as sample's copy of the map holds it; no stream, no write and no
	// kernel request ever happens under it.
	h.stats.Lock()
	defer h.stats.Unlock()
	v := h.stats.vats[s.Vat]
	if v == nil {
		v = &vatStats{}
		h.stats.vats[s.Vat] = v
	}
	v.cranks++
	// The last failure is kept until a later one replaces it: a vat that
	// recovered (restart policy) still shows what went wrong, with the
	// crank, so the operator can find its log line.
	if s.Aborted {
		v.aborted++
		v.lastError, v.lastErrorCrank = s.Failure, s.Crank
	}
}

// Start starts the sampler on k. It returns at once; Close stops it.
// The hub closes itself when k stops.
func (h *Hub) Start(k *actors.Kernel) {
	h.start.Do(func() { go h.run(k) })
}

// Close ends every stream and stops the sampler, waiting for it if it
// was started. It may be called more than once, and from
// http.Server.RegisterOnShutdown.
func (h *Hub) Close() {
	h.once.Do(func() {
		h.mu.Lock()
		h.mu.closed = true
		for sub := range h.mu.subs {
			sub.end()
		}
		clear(h.mu.subs)
		h.mu.Unlock()
		close(h.stop)
	})
	// A hub never started has no sampler to wait for.
	started := true
	h.start.Do(func() { started = false; close(h.done) })
	if started {
		<-h.done
	}
}

// run is the sampler: a snapshot each Interval while a stream is open,
// until Close or the kernel stops.
func (h *Hub) run(k *actors.Kernel) {
	defer close(h.done)
	// A ticker rather than a sleep after each sample: a slow sample (a
	// long crank) makes the next tick come at once, not an interval late,
	// and the rates divide by the real time between samples anyway.
	t := time.NewTicker(h.opts.Interval)
	defer t.Stop()
	var prev sample
	for {
		select {
		case <-h.stop:
			return
		case <-k.Done():
			go h.Close() // Close waits for this goroutine: not from it
			return
		case <-t.C:
		}
		if h.Streams() == 0 {
			// Nobody watches: ask the kernel nothing, and start the rates
			// afresh when someone does.
			prev = sample{}
			continue
		}
		cur, err := h.sample(k)
		if err != nil {
			// A late or failed sample is skipped; the next one tries again.
			continue
		}
		snap := h.snapshot(prev, cur)
		prev = cur
		h.publish(snap)
	}
}

// sample is what one tick read.
type sample struct {
	at          time.Time
	status      actors.Status
	queue       []persistence.QueueItem
	queueLen    int
	flush       flushTotals
	vats        map[kernel.VatID]vatStats
	initialized bool
}

// sample asks the kernel for its status and the head of its run queue
// (two host requests, each between cranks), and copies the per-vat counts.
func (h *Hub) sample(k *actors.Kernel) (sample, error) {
	ctx, cancel := context.WithTimeout(context.Background(), sampleTimeout)
	defer cancel()
	st, err := k.Status(ctx)
	if err != nil {
		return sample{}, fmt.Errorf("console: status: %w", err)
	}
	// Timed when the status came back: the crank count and the time go
	// together, so the rate is right however long the kernel took.
	s := sample{at: time.Now(), status: st, initialized: true}
	// A second request, not one with the status: Status is the kernel's
	// and has no run-queue view; ReadStore runs between cranks too, so
	// the head read here is the queue at one moment.
	err = k.ReadStore(ctx, func(store *persistence.Store) error {
		s.queueLen = store.QueueLen()
		s.queue = store.QueuePeek(h.opts.QueueItems)
		return nil
	})
	if err != nil {
		return sample{}, fmt.Errorf("console: run queue: %w", err)
	}
	s.flush = h.commit.read(ctx, h.reader)
	// A copy, so that the rows are built with the lock released.
	h.stats.Lock()
	s.vats = make(map[kernel.VatID]vatStats, len(h.stats.vats))
	for id, v := range h.stats.vats {
		s.vats[id] = *v
	}
	h.stats.Unlock()
	return s, nil
}

// snapshot builds the frame of cur, with rates over the time since prev.
func (h *Hub) snapshot(prev, cur sample) *Snapshot {
	h.seq++
	pt := Point{Time: cur.at.UnixMilli(), QueueLength: cur.queueLen}
	// With no previous sample (the first after a stream opened) there is
	// no interval to divide by: the point has counts and no rates.
	if prev.initialized {
		// CranksRun is this process's and only grows; the guard is for a
		// hub moved to another kernel, which Start does not allow anyway.
		if secs := cur.at.Sub(prev.at).Seconds(); secs > 0 && cur.status.CranksRun >= prev.status.CranksRun {
			pt.CranksPerSecond = float64(cur.status.CranksRun-prev.status.CranksRun) / secs
		}
		pt.Flushes, pt.CommitMeanMillis, pt.CommitP99Millis = cur.flush.since(prev.flush)
	}
	counts := Counts{Seq: h.seq, Cranks: cur.status.Cranks, CranksRun: cur.status.CranksRun,
		QueueLength: cur.queueLen, LiveVats: cur.status.LiveVats, VatsTotal: len(cur.status.Vats),
		Subclusters: len(cur.status.Subclusters), Point: pt, Queue: queueJSON(cur.queue)}
	view := View{Vats: h.vatRows(cur), Subclusters: subclusterRows(cur.status)}
	return newSnapshot(counts, view)
}

// vatRows lists the first MaxVats vats, in id order, with their counts.
func (h *Hub) vatRows(cur sample) []VatRow {
	paged := map[kernel.VatID]bool{}
	for _, id := range cur.status.PagedOut {
		paged[id] = true
	}
	// Id order, numeric, so the table does not reshuffle between frames
	// and a truncated list is always the oldest vats.
	vats := cur.status.Vats
	sort.Slice(vats, func(i, j int) bool { return idLess(string(vats[i].ID), string(vats[j].ID)) })
	rows := make([]VatRow, 0, min(len(vats), h.opts.MaxVats))
	for _, v := range vats[:min(len(vats), h.opts.MaxVats)] {
		st := cur.vats[v.ID]
		row := VatRow{ID: string(v.ID), Name: v.Name, Subcluster: string(v.Subcluster), Code: v.Config.Code(),
			State: "running", Incarnation: v.Incarnation, Root: string(v.Root),
			Cranks: st.cranks, Aborted: st.aborted, LastError: st.lastError, LastErrorCrank: st.lastErrorCrank}
		// The kernel knows active and inactive; paged-out is the runtime's
		// (Status.PagedOut), and a console shows the vat's real state.
		switch {
		case !v.Active:
			row.State = "terminated"
		case paged[v.ID]:
			row.State = "paged-out"
		}
		rows = append(rows, row)
	}
	return rows
}

// subclusterRows lists the subclusters with their vats and roots.
func subclusterRows(st actors.Status) []SubclusterRow {
	// Roots by vat, read from the vats: a subcluster's info names its
	// vats, not their roots.
	roots := map[kernel.VatID]string{}
	for _, v := range st.Vats {
		roots[v.ID] = string(v.Root)
	}
	out := make([]SubclusterRow, 0, len(st.Subclusters))
	for _, s := range st.Subclusters {
		row := SubclusterRow{ID: string(s.ID), Bootstrap: s.Bootstrap}
		for name, id := range s.Vats {
			row.Vats = append(row.Vats, SubclusterVat{Name: name, ID: string(id), Root: roots[id]})
		}
		// By config name: a map's order would change the view's bytes, and
		// so resend it, at every frame.
		sort.Slice(row.Vats, func(i, j int) bool { return row.Vats[i].Name < row.Vats[j].Name })
		if id, ok := s.Vats[s.Bootstrap]; ok {
			row.Root = roots[id]
		}
		out = append(out, row)
	}
	return out
}

// publish hands snap to every stream and keeps its point for the charts
// of streams opened later.
func (h *Hub) publish(snap *Snapshot) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.mu.history = append(h.mu.history, snap.counts.Point)
	// Shifted in place: the slice never grows past History (+1).
	if over := len(h.mu.history) - h.opts.History; over > 0 {
		h.mu.history = append(h.mu.history[:0], h.mu.history[over:]...)
	}
	for sub := range h.mu.subs {
		sub.offer(snap)
	}
}

// Streams is how many event streams are open.
func (h *Hub) Streams() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.mu.subs)
}

// history copies the points kept for the charts.
func (h *Hub) historyCopy() []Point {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Point(nil), h.mu.history...)
}

// idLess orders ids of one letter prefix by their number: v2 before v10.
func idLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// mustJSON is json.Marshal for the frame types, whose every field is a
// plain value: it cannot fail.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("console: marshal %T: %v", v, err))
	}
	return b
}
