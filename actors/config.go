package actors

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/ocapgo/kernel-actors/jsvat"
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/vat"
)

// Config configures a kernel.
type Config struct {
	// DBPath is the SQLite file the kernel keeps its state in; "" keeps it
	// in memory (gone when the kernel stops).
	DBPath string
	// ResetStorage empties the database at DBPath before starting: every
	// vat, subcluster, object and queued message in it is gone, and the
	// kernel starts as on a new file.
	ResetStorage bool
	// Registry holds the vat code, by bundle name. Required.
	Registry *vat.Registry
	// Logger receives the kernel's logs and protoactor's (when Start makes
	// the actor system). The zero value logs nothing.
	Logger zerolog.Logger
	// Slog, if set, receives the same logs instead, through log/slog
	// (protoactor's own logs go to it directly): for a host that logs
	// with slog. Each zerolog line becomes one slog record with the same
	// level, message and fields; the handler's lowest enabled level
	// decides which lines are written at all. Set Logger or Slog, not
	// both.
	Slog *slog.Logger
	// System is an actor system to run in; nil makes one (and shuts it
	// down at Stop).
	System *actor.ActorSystem
	// CommitPolicy is persistence.Durable (default) or persistence.Group.
	// Under Group, GroupCranks and GroupInterval bound a group while the
	// kernel is busy; when it runs out of work the group is flushed at
	// once. Either way a result reaches the host only after the crank
	// that produced it is in the file.
	CommitPolicy  persistence.CommitPolicy
	GroupCranks   int
	GroupInterval time.Duration
	// Synchronous is SQLite's sync level for a file (default FULL).
	Synchronous persistence.Synchronous
	// DeliveryDeadline bounds each delivery; a vat that misses it has
	// failed. Zero means 30 s; negative means no deadline.
	DeliveryDeadline time.Duration
	// StopTimeout is how long Stop goes on once its context has ended,
	// to close the store (stop.go): the delivery in hand is cut short,
	// and the kernel actor flushes and closes. Zero means 10 s.
	StopTimeout time.Duration
	// JS runs the kernel's JavaScript vats (a vat config with a
	// bundleSpec), one worker process each; nil means none can launch
	// (ErrNoJSRuntime). The kernel does not own it: close it after Stop
	// (Stop kills the workers of the kernel's vats; Close the warm ones).
	// A kernel with no JavaScript vats needs neither it nor Node.js.
	JS *jsvat.Runtime
	// Services are host services to provide from the start (see
	// RegisterService), so that vats resumed from a database find them.
	Services map[string]vat.Methods
	// Clock is the kernel's clock; nil means the real one.
	Clock Clock
	// MaxVatstoreKey and MaxVatstoreValue bound one vatstore entry, in
	// bytes, and MaxDeliverySends, MaxDeliverySyscalls and
	// MaxDeliveryBytes what one delivery may ask of the kernel: they are
	// kernel.Config's fields of the same names (docs/limits.md). Zero
	// takes the kernel's default; kernel.NoLimit turns a per-delivery
	// limit off. Start refuses a bad value with kernel.ErrBadConfig,
	// naming the field.
	MaxVatstoreKey      int
	MaxVatstoreValue    int
	MaxDeliverySends    int
	MaxDeliverySyscalls int
	MaxDeliveryBytes    int
	// MaxIdempotencyKeys is how many idempotency keys the kernel keeps
	// for QueueMessageOnce (kernel.Config.MaxIdempotencyKeys; 0 means
	// 10,000).
	MaxIdempotencyKeys int
	// StoreFaults, if set, becomes the store's persistence.Options.Faults:
	// it is called at every commit boundary of every flush. For crash and
	// fault tests only (package internal/crashtest kills the process
	// there); production leaves it nil.
	StoreFaults persistence.FaultInjector
	// AuditEveryCrank runs the invariant auditor (kernel.Audit) after
	// every crank, and stops the kernel with ErrAudit at the first
	// problem. It costs a pass over the whole state per crank, so it is
	// for tests and for reproducing a suspected bug; builds with the
	// invariants tag or -race always audit.
	AuditEveryCrank bool
	// OnCrank, if set, is called on the kernel actor's goroutine after
	// every crank that ran (committed or aborted) with how long it took,
	// from its runCrank message to its outputs released, by Clock. It is
	// for benchmarks (package bench), and must return at once: the next
	// crank waits for it. Nil costs one comparison per crank.
	OnCrank func(time.Duration)
	// OnCrankDone, if set, is called like OnCrank with a summary of the
	// crank (its number, work, vat, outcome and coded failure, and its
	// duration): the feed of a live view such as serve's console. It must
	// return at once. Nil costs one comparison per crank.
	OnCrankDone func(CrankSummary)
	// StoreTrace, if set, becomes the store's persistence.Options.Trace:
	// it sees every data statement of every flush, for benchmarks that
	// replay a crank's writes on a bare SQLite (package bench).
	StoreTrace func(persistence.Statement)
	// MaxLiveVats caps the vat instances alive at once (docs/paging.md):
	// when a vat is to start or be paged in at the cap, the least recently
	// delivered idle vats whose config sets Pageable are paged out, and
	// come back at their next delivery. Vats that cannot be paged out
	// (not pageable, or holding state a page-out would lose) count
	// against the cap and may push past it. Zero means no cap.
	MaxLiveVats int
	// MeterProvider, if set, receives the kernel's metrics
	// (docs/observability.md): cranks, crank, delivery and flush
	// durations, syscalls, vat restarts and terminations, host requests,
	// rows per flush, and gauges of the run queue, the promises and the
	// vats by state. Nil records nothing, and costs the crank path one
	// comparison. The kernel does not own it: shut it down after Stop.
	MeterProvider metric.MeterProvider
	// MetricsVatSeries is how many vats get metric series of their own
	// (a "vat" attribute on the crank and delivery instruments): the
	// first that crank; later ones share vat="other". Zero means none,
	// so that the number of series does not grow with the vats.
	MetricsVatSeries int
	// TracerProvider, if set, receives a span per crank
	// (docs/observability.md): its vat, method, outcome, syscall counts,
	// rows flushed and commit wait. QueueMessage carries the trace context
	// of its ctx into the crank that delivers the message, and each crank
	// into the cranks its sends and resolutions cause, so a trace follows
	// a request across vats. Nil traces nothing. The kernel does not own
	// it.
	TracerProvider trace.TracerProvider
	// SampleEveryCrank offers every crank to TracerProvider's sampler. By
	// default a crank caused by a crank whose span the sampler dropped
	// inherits that decision and has no span: what OpenTelemetry's
	// ParentBased and TraceIDRatioBased samplers decide for it anyway, at
	// no cost. The first crank of a host request is always offered. Set
	// it for a sampler that decides by something else (and so may sample
	// a crank under an unsampled one).
	SampleEveryCrank bool
	// Remote, if set, puts the kernel on the network (docs/remote.md):
	// it listens for peer kernels over protoactor-go remote (mutual TLS
	// from the kernel's key), and vats and the host can hold and use
	// objects in other kernels. One kernel per process may have one
	// (ErrRemoteInProcess). Nil keeps the kernel to itself.
	Remote *RemoteConfig
}

// DefaultDeliveryDeadline is the delivery deadline when none is set.
const DefaultDeliveryDeadline = 30 * time.Second

// Clock is where the runtime gets time: timers for deadlines, backoffs and
// group flushes. (Tests run under testing/synctest, whose bubble fakes the
// real clock.) Now must agree with the timers: by the time a timer from
// After fires, Now has reached its time (a delivery's deadline is
// checked against Now when the shared deadline timer fires).
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) Since(t time.Time) time.Duration        { return time.Since(t) }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
func (realClock) AfterFunc(d time.Duration, f func()) func() bool {
	return time.AfterFunc(d, f).Stop
}

// sinceClock is a Clock that measures an interval more cheaply than Now
// and Sub: the real clock reads only the monotonic time (one clock read,
// where Now makes two: wall and monotonic), which is most of the cost of
// timing a crank.
type sinceClock interface {
	Since(t time.Time) time.Duration
}

// since is how long ago t was on c.
func since(c Clock, t time.Time) time.Duration {
	if s, ok := c.(sinceClock); ok {
		return s.Since(t)
	}
	return c.Now().Sub(t)
}

// ErrConfig is wrapped by configuration errors.
var ErrConfig = errors.New("actors: invalid configuration")

func (c *Config) validate() error {
	if c.Registry == nil {
		return fmt.Errorf("%w: Config.Registry is nil", ErrConfig)
	}
	switch {
	case c.DeliveryDeadline == 0:
		c.DeliveryDeadline = DefaultDeliveryDeadline
	case c.DeliveryDeadline < 0:
		c.DeliveryDeadline = 0 // none
	}
	switch {
	case c.StopTimeout == 0:
		c.StopTimeout = DefaultStopTimeout
	case c.StopTimeout < 0:
		return fmt.Errorf("%w: Config.StopTimeout is %v; want a positive duration, or 0 for %v", ErrConfig, c.StopTimeout, DefaultStopTimeout)
	}
	if c.MaxLiveVats < 0 {
		return fmt.Errorf("%w: Config.MaxLiveVats is %d; want a positive cap, or 0 for none", ErrConfig, c.MaxLiveVats)
	}
	if c.MetricsVatSeries < 0 {
		return fmt.Errorf("%w: Config.MetricsVatSeries is %d; want 0 (no per-vat series) or more", ErrConfig, c.MetricsVatSeries)
	}
	if c.Clock == nil {
		c.Clock = realClock{}
	}
	if c.Slog != nil {
		// A zerolog Logger that can write anything at all (the zero value
		// has no writer) is a Logger set.
		if c.Logger.WithLevel(zerolog.PanicLevel).Enabled() {
			return fmt.Errorf("%w: Config.Logger and Config.Slog are both set; set one", ErrConfig)
		}
		c.Logger = zerologToSlog(c.Slog, c.Clock.Now)
	}
	if c.Remote != nil {
		r := *c.Remote // the caller's struct is not written to
		if err := r.validate(); err != nil {
			return err
		}
		c.Remote = &r
	}
	for name, m := range c.Services {
		if name == "" || m == nil {
			return fmt.Errorf("%w: Config.Services: a service needs a name and methods", ErrConfig)
		}
	}
	return nil
}
