package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/persistence"
)

// deliveryDeadline bounds each delivery of a bench kernel: long enough
// for a delivery that sends 100k messages or makes 100k objects, short
// enough that a stuck run ends.
const deliveryDeadline = 10 * time.Minute

// session is one repetition: a fresh kernel with the workload's
// subcluster launched and set up.
type session struct {
	w    *workload
	opts Options
	k    *actors.Kernel
	res  kernel.LaunchResult
	dir  string // the temporary directory, removed at close ("" if none)
	// tel is the session's telemetry configuration, and prov its
	// providers (shut down at close, after the kernel).
	tel  string
	prov *providers
	// startup is actors.Start plus the launch.
	startup time.Duration
	extra   map[string]float64
	// inSetup: the set-up is running; setupMax is its slowest crank.
	inSetup atomic.Bool

	// mu guards the crank samples, written by OnCrank on the kernel
	// actor's goroutine and read by the host's.
	mu        sync.Mutex
	recording bool
	durations []time.Duration
	setupMax  time.Duration
}

// onCrank is the kernel's actors.Config.OnCrank: it counts the crank for
// progress and keeps its duration while the timed part runs.
func (s *session) onCrank(d time.Duration) {
	if s.opts.Cranks != nil {
		s.opts.Cranks.Add(1)
	}
	// A mutex, not a channel: it is uncontended (the host reads the
	// samples only once the run is over), so the crank pays a few
	// nanoseconds for it, not a goroutine hand-off.
	s.mu.Lock()
	if s.recording {
		s.durations = append(s.durations, d)
	}
	if s.inSetup.Load() && d > s.setupMax {
		s.setupMax = d
	}
	s.mu.Unlock()
}

// setupMaxCrank is the slowest crank of the set-up so far.
func (s *session) setupMaxCrank() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.setupMax
}

// openSession starts a kernel for o (whose defaults are filled in),
// launches the workload's subcluster and runs its set-up. trace, if set,
// sees the store's flush statements.
func openSession(ctx context.Context, o Options, trace func(persistence.Statement), onCrank func(time.Duration)) (s *session, err error) {
	w, err := lookup(o.Workload)
	if err != nil {
		return nil, err
	}
	s = &session{w: w, opts: o, tel: TelemetryOff}
	if len(o.Telemetry) > 0 {
		s.tel = o.Telemetry[0] // Run gives each session one
	}
	// A session that fails half made is taken down here, so the caller
	// never has to stop a kernel or remove a directory it was not given.
	defer func() {
		if err != nil {
			s.close(context.WithoutCancel(ctx))
			s = nil
		}
	}()
	// Each repetition has a directory of its own, so no run resumes the
	// file of another (a resumed kernel would start with its state).
	if o.Store == StoreFile || o.Workload == "js" {
		if s.dir, err = os.MkdirTemp(o.Dir, "kernel-actors-bench-*"); err != nil {
			return s, fmt.Errorf("bench: temporary directory: %w", err)
		}
	}
	cfg := actors.Config{
		Registry: Registry(), JS: o.JS, StoreTrace: trace,
		// The workloads send and make 100k things in one delivery, past the
		// default per-delivery limits, which guard against floods.
		MaxDeliverySends: kernel.NoLimit, MaxDeliverySyscalls: kernel.NoLimit, MaxDeliveryBytes: kernel.NoLimit,
		DeliveryDeadline: deliveryDeadline,
		OnCrank: func(d time.Duration) {
			s.onCrank(d)
			if onCrank != nil {
				onCrank(d)
			}
		},
	}
	if o.Store == StoreFile {
		cfg.DBPath = filepath.Join(s.dir, "k.db")
	}
	s.prov = newProviders(s.tel, o.TraceSample, &cfg)
	if o.Commit == CommitGroup {
		cfg.CommitPolicy = persistence.Group
	}
	cluster, err := w.cluster(o, s.dir)
	if err != nil {
		return s, err
	}
	// Start-up is timed from before Start to the bootstrap's answer: what
	// a host waits for before its first message can be served.
	began := time.Now()
	if s.k, err = actors.Start(ctx, cfg); err != nil {
		return s, fmt.Errorf("bench: start: %w", err)
	}
	if s.res, err = s.k.LaunchSubcluster(ctx, cluster); err != nil {
		return s, fmt.Errorf("bench: launch: %w", err)
	}
	s.startup = time.Since(began)
	if w.setup != nil {
		if s.extra, err = w.setup(ctx, s); err != nil {
			return s, fmt.Errorf("bench: %s set-up: %w", w.name, err)
		}
	}
	return s, nil
}

// close stops the kernel and removes the temporary directory.
func (s *session) close(ctx context.Context) error {
	var err error
	if s.k != nil {
		err = s.k.Stop(ctx)
	}
	if s.prov != nil {
		if perr := s.prov.shutdown(ctx); perr != nil && err == nil {
			err = perr
		}
	}
	if s.dir != "" {
		if rerr := os.RemoveAll(s.dir); rerr != nil && err == nil {
			err = rerr
		}
	}
	return err
}

// measure runs n messages of the workload, timed, and returns what it
// measured (without floors).
func (s *session) measure(ctx context.Context, n int) (Result, error) {
	// Cranks are counted by the kernel (Status), not by the samples, so a
	// crank whose OnCrank had not yet run when the host got its answer is
	// still counted.
	before, err := s.k.Status(ctx)
	if err != nil {
		return Result{}, err
	}
	// A collection first, so the live heap before is what the set-up and
	// warm-up left, not their garbage.
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	s.mu.Lock()
	s.recording, s.durations = true, make([]time.Duration, 0, 2*n+16)
	s.mu.Unlock()

	began := time.Now()
	err = s.w.run(ctx, s, n)
	wall := time.Since(began)
	if err != nil {
		return Result{}, fmt.Errorf("bench: %s: %w", s.w.name, err)
	}
	// Read before the wait below and before any collection, so the
	// allocations are the timed part's alone.
	runtime.ReadMemStats(&m1)
	after, err := s.k.Status(ctx)
	if err != nil {
		return Result{}, err
	}
	// Cranks the run left behind (a group's flush, GC) are waited for
	// outside the timed part, so the latencies cover every crank counted.
	if err := s.k.WaitIdle(ctx); err != nil {
		return Result{}, err
	}
	s.mu.Lock()
	s.recording = false
	durations := s.durations
	s.mu.Unlock()
	runtime.GC()
	var m2 runtime.MemStats
	runtime.ReadMemStats(&m2)

	cranks := after.CranksRun - before.CranksRun
	r := Result{
		Workload: s.w.name, Params: paramsOf(s.opts, s.tel),
		Messages: n, Cranks: cranks, WallMS: ms(wall),
		MessagesPerSec:  float64(n) / wall.Seconds(),
		CranksPerSec:    float64(cranks) / wall.Seconds(),
		HeapBeforeBytes: m0.HeapAlloc, HeapAfterBytes: m2.HeapAlloc,
		PeakRSSBytes: peakRSS(), StartupMS: ms(s.startup), Extra: s.extra,
	}
	if cranks > 0 {
		r.AllocsPerCrank = float64(m1.Mallocs-m0.Mallocs) / float64(cranks)
		r.BytesPerCrank = float64(m1.TotalAlloc-m0.TotalAlloc) / float64(cranks)
	}
	r.CrankP50US, r.CrankP99US, r.CrankMaxUS = latencies(durations)
	return r, nil
}

// latencies returns the 50th and 99th percentiles and the maximum of ds,
// in microseconds (nearest rank; zeros for none).
func latencies(ds []time.Duration) (p50, p99, top float64) {
	if len(ds) == 0 {
		return 0, 0, 0
	}
	// Sorted on a copy: the caller's samples stay in crank order.
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := func(p float64) time.Duration {
		i := int(p*float64(len(s))+0.999999) - 1 // nearest rank, from 1
		return s[min(max0(i), len(s)-1)]
	}
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	return us(rank(0.50)), us(rank(0.99)), us(s[len(s)-1])
}

func max0(i int) int {
	if i < 0 {
		return 0
	}
	return i
}

// Run runs o's repetitions, each on a fresh kernel: start, launch,
// set-up, warm-up, then N timed messages. Each result carries f and the
// ratios to it, and is passed to each (if set) as it is done.
func Run(ctx context.Context, o Options, f Floors, each func(Result)) ([]Result, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	var rs []Result
	// A fresh kernel for each repetition: a repetition must not inherit
	// the heap, map capacities or file of the one before, or the median
	// would hide the very effects bigcrank and bigstore look for. With
	// several telemetry configurations, each repetition runs them all in
	// turn, so that the runs Costs compares are minutes apart at most.
	for rep := 1; rep <= o.Reps; rep++ {
		for _, tel := range o.Telemetry {
			one := o
			one.Telemetry = []string{tel}
			r, err := runOnce(ctx, one)
			if err != nil {
				return rs, err
			}
			r.Rep, r.Floors = rep, f
			r.Ratios = ratiosOf(r, f)
			rs = append(rs, r)
			if each != nil {
				each(r)
			}
		}
	}
	return rs, nil
}

// runOnce is one repetition.
func runOnce(ctx context.Context, o Options) (r Result, err error) {
	// The peak RSS is the repetition's own: reset before its kernel starts
	// (where Linux allows it), after the last one's memory is collected.
	runtime.GC()
	resetPeakRSS()
	s, err := openSession(ctx, o, nil, nil)
	if err != nil {
		return r, err
	}
	defer func() {
		if cerr := s.close(context.WithoutCancel(ctx)); cerr != nil && err == nil {
			err = fmt.Errorf("bench: stop: %w", cerr)
		}
	}()
	// The warm-up runs the workload itself on the same kernel, so the
	// timed part finds the vats' code paths, the store's statements and
	// the pools already made, as a kernel that has run a while does.
	if o.Warmup > 0 {
		if err := s.w.run(ctx, s, o.Warmup); err != nil {
			return r, fmt.Errorf("bench: %s warm-up: %w", o.Workload, err)
		}
		if err := s.k.WaitIdle(ctx); err != nil {
			return r, err
		}
	}
	if r, err = s.measure(ctx, o.N); err != nil || (s.prov.mp == nil && s.prov.tp == nil) {
		return r, err
	}
	// The providers are read once the kernel has stopped, which hands the
	// metrics their last counts; close then has only the rest to do.
	err = s.k.Stop(ctx)
	s.k = nil
	if err != nil {
		return r, fmt.Errorf("bench: stop: %w", err)
	}
	extra := map[string]float64{}
	for k, v := range r.Extra {
		extra[k] = v
	}
	r.Extra = extra
	return r, s.prov.counts(ctx, r.Extra)
}
