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
	s.mu.Lock()
	if s.recording {
		s.durations = append(s.durations, d)
	}
	if s.inSetup.Load() && d > s.setupMax {
		s.setupMax = d
	}
	s.mu.Unlock()
}

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
	s = &session{w: w, opts: o}
	defer func() {
		if err != nil {
			s.close(context.WithoutCancel(ctx))
			s = nil
		}
	}()
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
	if o.Commit == CommitGroup {
		cfg.CommitPolicy = persistence.Group
	}
	cluster, err := w.cluster(o, s.dir)
	if err != nil {
		return s, err
	}
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
	before, err := s.k.Status(ctx)
	if err != nil {
		return Result{}, err
	}
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
		Workload: s.w.name, Params: paramsOf(s.opts),
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
	for rep := 1; rep <= o.Reps; rep++ {
		r, err := runOnce(ctx, o)
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
	if o.Warmup > 0 {
		if err := s.w.run(ctx, s, o.Warmup); err != nil {
			return r, fmt.Errorf("bench: %s warm-up: %w", o.Workload, err)
		}
		if err := s.k.WaitIdle(ctx); err != nil {
			return r, err
		}
	}
	return s.measure(ctx, o.N)
}
