package kernel

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/rs/zerolog"

	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/persistence"
)

// Config configures a Kernel.
type Config struct {
	// Store holds the kernel's state. Required. The kernel owns it from
	// New on: nothing else may write it.
	Store *persistence.Store
	// Logger receives one debug line per crank and the details that coded
	// errors leave out. The zero value logs nothing.
	Logger zerolog.Logger
	// QuietCranks leaves each crank's debug line to the driver, which
	// knows what the kernel cannot (how long the crank took, by its
	// clock): the kernel then writes none, and the driver writes
	// CrankResult.LogFields with its own. The actor runtime does.
	QuietCranks bool
	// CrankMethods fills CrankResult.Method for every send even when debug
	// logging is off (it costs a parse of the message body per crank), for
	// a runtime that traces its cranks.
	CrankMethods bool
	// MaxVatstoreKey and MaxVatstoreValue bound a vatstore entry, in bytes;
	// a vat that exceeds them makes an illegal syscall (liveslots, told
	// them at startVat, returns an error to vat code instead). Zero means
	// DefaultMaxVatstoreKey (4 KiB) and DefaultMaxVatstoreValue (16 MiB).
	MaxVatstoreKey   int
	MaxVatstoreValue int
	// MaxDeliverySends, MaxDeliverySyscalls and MaxDeliveryBytes bound
	// what one delivery may ask of the kernel: how many sends, how many
	// syscalls of any kind, and how many bytes of bodies, slots, refs and
	// vatstore keys and values. A delivery that crosses one makes an
	// illegal syscall: it is rolled back and its vat terminated, or
	// restarted under the restart policy (docs/limits.md). Zero means the
	// default (DefaultMaxDeliverySends, ...); NoLimit turns a limit off.
	MaxDeliverySends    int
	MaxDeliverySyscalls int
	MaxDeliveryBytes    int
	// MaxIdempotencyKeys is how many idempotency keys the kernel keeps
	// (QueueMessageOnce); the oldest settled ones beyond it are forgotten.
	// Zero means 10,000.
	MaxIdempotencyKeys int
	// Now tells the time, for the restart policy's backoff and intensity
	// window: the kernel has no clock of its own. Nil reads as the zero
	// time, so every restart counts as just now; runtimes set it.
	Now func() time.Time
}

// validate checks c once, naming the first bad field, and fills in the
// defaults.
func (c *Config) validate() error {
	if c.Store == nil {
		return fmt.Errorf("%w: Config.Store is nil", ErrBadConfig)
	}
	if err := c.Store.Err(); err != nil {
		return fmt.Errorf("%w: Config.Store: %v", ErrBadConfig, err)
	}
	for _, f := range []struct {
		name string
		v    *int
		def  int
	}{
		{"MaxVatstoreKey", &c.MaxVatstoreKey, DefaultMaxVatstoreKey},
		{"MaxVatstoreValue", &c.MaxVatstoreValue, DefaultMaxVatstoreValue},
		{"MaxIdempotencyKeys", &c.MaxIdempotencyKeys, DefaultMaxIdempotencyKeys},
	} {
		if *f.v < 0 {
			return fmt.Errorf("%w: Config.%s: %d: must not be negative (0 means %d)", ErrBadConfig, f.name, *f.v, f.def)
		}
		if *f.v == 0 {
			*f.v = f.def
		}
	}
	if err := checkLimit("MaxDeliverySends", &c.MaxDeliverySends, DefaultMaxDeliverySends); err != nil {
		return err
	}
	if err := checkLimit("MaxDeliverySyscalls", &c.MaxDeliverySyscalls, DefaultMaxDeliverySyscalls); err != nil {
		return err
	}
	if err := checkLimit("MaxDeliveryBytes", &c.MaxDeliveryBytes, DefaultMaxDeliveryBytes); err != nil {
		return err
	}
	if entry := c.MaxVatstoreKey + c.MaxVatstoreValue; c.MaxDeliveryBytes != NoLimit && c.MaxDeliveryBytes < entry {
		// Then a vat could not write one entry of the largest size it is
		// allowed, and a legal write would doom it.
		return fmt.Errorf("%w: Config.MaxDeliveryBytes: %d is less than one vatstore entry of the largest size (MaxVatstoreKey + MaxVatstoreValue = %d)",
			ErrBadConfig, c.MaxDeliveryBytes, entry)
	}
	return nil
}

// Kernel is the deterministic kernel state machine: c-lists, objects,
// promises, the run queue and GC, over a persistence.Store. It has no
// goroutines, timers or actors; it changes only when called, and every call
// that changes it is one unit of work committed or aborted as a whole.
//
// A Kernel is not safe for concurrent use: one goroutine (the kernel actor)
// drives it.
type Kernel struct {
	st          *persistence.Store
	log         zerolog.Logger
	debug       bool             // debug logging (or CrankMethods) is on: worth reading method names
	quietCranks bool             // Config.QuietCranks: the driver logs each crank
	limit       limits           // from Config, validated
	now         func() time.Time // Config.Now

	// maybeFree collects krefs whose counts dropped during the open unit;
	// collectGarbage examines them before the unit commits. It is empty
	// between units, so it never outlives an abort.
	maybeFree map[KRef]struct{}
	// unitOut holds the open unit's outputs; pending holds those of
	// committed units that are not yet in SQLite (group commit). Neither
	// is released before the flush that covers it (invariant 3).
	unitOut []Output
	pending []Output
	// unitAbandon lists subclusters whose bootstrap the open unit
	// rejected; commit terminates them in the same unit (launch.go).
	unitAbandon []abandonedLaunch
	// unitStopped lists the vats the open unit terminated; stopped, those
	// of committed units not yet taken by the runtime (TakeStopped).
	unitStopped, stopped []VatID
	// paging holds the runtime's paging events on their way to the vat
	// log (paging.go).
	paging pagingLog
	// configs keeps decoded vat and subcluster configs, each checked
	// against its row's text on every read (configcache.go).
	configs *configCache
	// soleSubscriber is the last one-vat subscriber list subscribe made,
	// shared by every promise that vat alone awaits (subscribe). Not state:
	// it is a function of the vat id, never written through, so an abort
	// cannot make it stale.
	soleSubscriber []string
	// remoteHeld and remoteUnitHeld say what of each remote's outbox and
	// Applied is in SQLite, so that nothing goes on the wire, and no ack
	// is given, before its flush (remote.go, RemoteSendable).
	remoteHeld, remoteUnitHeld map[RemoteID]remoteHold
}

// Output is something a unit of work makes visible outside the kernel: the
// settlement of a promise the host awaits. Outputs are released only after
// the SQLite transaction that covers them commits. Every object the value
// names is pinned for the host, so the kref stays usable; the host lets go
// with Unpin.
type Output struct {
	KPID     KRef
	Rejected bool
	Value    marshal.CapData
	// Aborted marks the early rejection of an aborted send's result: the
	// vat failed and was terminated, the host learns of it at once, and
	// the kernel promise itself is settled later, when the message is
	// retried and splats (invariant 4). A runtime answers each
	// host request at its first Output and ignores later ones.
	Aborted bool
	// ByKernel marks a settlement the kernel made itself (a splat, a
	// termination, an abort), as opposed to a vat's resolve syscall. Only
	// then is a [KERNEL:...] code in the value the kernel's word: a vat's
	// rejection that reads like one, forged or relayed, is the vat's.
	ByKernel bool
}

// Err returns the Output's rejection as a Go error, or nil if fulfilled:
// a *Error (matched with errors.Is against the kernel's codes) when the
// kernel rejected, else a *RejectionError with the vat's value, whatever
// its message claims.
func (o Output) Err() error {
	if !o.Rejected {
		return nil
	}
	if o.ByKernel {
		return ErrorFromRejection(o.Value)
	}
	return VatRejection(o.Value)
}

// New makes a kernel over cfg.Store, resuming whatever state it holds.
func New(cfg Config) (*Kernel, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	k := &Kernel{
		st:        cfg.Store,
		log:       cfg.Logger,
		maybeFree: make(map[KRef]struct{}),
		configs:   newConfigCache(),

		remoteHeld:     map[RemoteID]remoteHold{},
		remoteUnitHeld: map[RemoteID]remoteHold{},
	}
	k.limit = limits{
		key: cfg.MaxVatstoreKey, value: cfg.MaxVatstoreValue,
		sends: cfg.MaxDeliverySends, syscalls: cfg.MaxDeliverySyscalls, bytes: cfg.MaxDeliveryBytes,
		idempotencyKeys: cfg.MaxIdempotencyKeys,
	}
	k.now = cfg.Now
	if k.now == nil {
		// The Unix epoch, not time.Time{}: the zero Time's UnixNano is
		// undefined, and the policy stores restart times in nanoseconds.
		epoch := time.Unix(0, 0)
		k.now = func() time.Time { return epoch }
	}
	k.debug = k.log.Debug().Enabled() || cfg.CrankMethods
	k.quietCranks = cfg.QuietCranks
	return k, nil
}

// Store returns the kernel's store, for inspection (Audit, Describe).
func (k *Kernel) Store() *persistence.Store { return k.st }

// CrankCount is the number of cranks committed so far.
func (k *Kernel) CrankCount() uint64 { return CrankCount(k.st) }

// CrankCount is the number of cranks committed to st, for readers of a
// store with no kernel over it (the inspector).
func CrankCount(st persistence.Reader) uint64 { return st.PeekID(metaNextCrank) - 1 }

const metaNextCrank = "next_crank"

// begin opens a unit of work.
func (k *Kernel) begin() error {
	if err := k.st.Begin(); err != nil {
		return err
	}
	k.resetMaybeFree()
	k.unitOut = k.unitOut[:0]
	k.unitAbandon = k.unitAbandon[:0]
	k.unitStopped = k.unitStopped[:0]
	k.pagingBegin()
	k.remoteBegin()
	return nil
}

// abort drops the open unit (invariant 2: the store drops its
// overlay, and the kernel's only per-unit memory goes with it).
func (k *Kernel) abort() {
	k.st.Abort()
	k.resetMaybeFree()
	k.unitOut = k.unitOut[:0]
	k.unitAbandon = k.unitAbandon[:0]
	k.unitStopped = k.unitStopped[:0]
	k.pagingAbort()
	k.remoteAbort()
}

// commit collects garbage and commits the open unit. It returns the outputs
// that the commit made durable: this unit's and any held by group commit.
func (k *Kernel) commit(ctx context.Context) ([]Output, error) {
	k.abandonFailedLaunchesLocked()
	k.collectGarbage()
	flushed, err := k.st.Commit(ctx)
	k.paging.inUnit = k.paging.inUnit[:0]
	k.pending = append(k.pending, k.unitOut...)
	k.unitOut = nil
	if err != nil {
		return nil, err
	}
	k.remoteCommitted(flushed)
	// The vats' actors stop as soon as the unit is committed to memory:
	// a crash before the flush resumes them, which is harmless.
	k.stopped = append(k.stopped, k.unitStopped...)
	k.unitStopped = k.unitStopped[:0]
	if !flushed {
		return nil, nil
	}
	// INVARIANT 3: outputs leave only once the transaction covering them
	// has committed.
	out := k.pending
	k.pending = nil
	return out, nil
}

// TakeStopped returns the vats terminated by units committed since the
// last call (by a crank, a host request, or a failed launch's cascade).
// The runtime stops their actors (a direct stop, never a wait).
func (k *Kernel) TakeStopped() []VatID {
	out := k.stopped
	k.stopped = nil
	return out
}

// Flush writes committed units held by group commit to SQLite and returns
// the outputs that are now durable. The runtime calls it when
// Store().FlushDue() says a group has waited long enough, and at shutdown.
func (k *Kernel) Flush(ctx context.Context) ([]Output, error) {
	if err := k.st.Flush(ctx); err != nil {
		return nil, err
	}
	k.remoteCommitted(true) // every outbox is in SQLite now
	out := k.pending
	k.pending = nil
	return out, nil
}

// hostUnit runs fn as one unit of work for a host request (invariant
// 11): fn's error aborts the unit and is returned as is.
func (k *Kernel) hostUnit(ctx context.Context, fn func() error) ([]Output, error) {
	if err := k.begin(); err != nil {
		return nil, err
	}
	if err := fn(); err != nil {
		k.abort()
		return nil, err
	}
	return k.commit(ctx)
}

// storeErr tells whether err came from the store (fatal for the kernel)
// rather than from the request.
func storeErr(err error) bool {
	return errors.Is(err, persistence.ErrFailed) || errors.Is(err, persistence.ErrClosed)
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }
