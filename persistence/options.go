package persistence

import (
	"fmt"
	"time"
)

// CommitPolicy says when committed cranks reach SQLite.
type CommitPolicy string

const (
	// Durable commits every crank in its own SQLite transaction before the
	// crank's outputs are released. It is the default.
	Durable CommitPolicy = "durable"
	// Group folds several cranks into one SQLite transaction: every
	// GroupCranks cranks or GroupInterval, whichever comes first. Outputs of
	// the cranks in a group are held until the group commits, so nothing
	// outside the kernel ever sees a crank that a crash could still undo.
	Group CommitPolicy = "group"
)

// Synchronous is SQLite's PRAGMA synchronous for a file store.
type Synchronous string

const (
	// SyncFull syncs the WAL on every commit: a commit survives power loss.
	SyncFull Synchronous = "FULL"
	// SyncNormal syncs only at WAL checkpoints: a commit survives a process
	// crash but the last few may be lost on power loss (never half-applied).
	SyncNormal Synchronous = "NORMAL"
)

// Defaults for a Group policy that leaves its limits unset.
const (
	DefaultGroupCranks   = 100
	DefaultGroupInterval = 10 * time.Millisecond
)

// Options configure a Store. The zero value is a durable store with
// synchronous=FULL.
type Options struct {
	// Policy is the commit policy; "" means Durable.
	Policy CommitPolicy
	// GroupCranks is the most cranks one group commit holds (Group only).
	GroupCranks int
	// GroupInterval is the longest a committed crank waits for its group to
	// reach SQLite (Group only). The clock is Now.
	GroupInterval time.Duration
	// Synchronous is the file store's sync level; "" means SyncFull.
	Synchronous Synchronous
	// BusyTimeout is how long to wait for another connection's SQLite lock
	// (say a person reading the file with sqlite3) before failing. Zero
	// means 5 s.
	BusyTimeout time.Duration
	// ReadOnly opens an existing file store to read, beside a kernel that
	// may be running on it: no lock is taken, nothing is migrated or
	// written, and the state is the snapshot committed when it opened.
	// Begin fails with ErrReadOnly. For inspectors.
	ReadOnly bool
	// Reset empties a file store when it opens (after the checks, in one
	// transaction), keeping the file, its schema and its lock: the kernel
	// starts afresh. It is the reference's resetStorage.
	Reset bool
	// CacheRows is the most flushed rows each paged table of a file store
	// keeps in memory (objects, promises, their queues, the c-list, the run
	// queue); 0 means DefaultCacheRows. The store's memory is then in
	// proportion to its working set, not its size.
	CacheRows int
	// PagedMemory makes the in-memory store page its big tables over a
	// backend that holds them, as a file store does, instead of keeping
	// them whole in its committed view. Its state is the same either way;
	// it exists so that tests can run the paged code without a file. It
	// costs a second map insert for each row a unit writes.
	PagedMemory bool
	// FullCheck runs SQLite's quick_check over the whole file when a
	// writable file store opens. Without it, open checks only the tables
	// it loads whole; the paged ones, which grow with the store, are
	// checked row by row as they are read (a bad row fails the store at
	// its first read), so that open stays quick at any size. A read-only
	// open always checks the whole file.
	FullCheck bool
	// Now is the clock for GroupInterval; nil means time.Now.
	Now func() time.Time
	// Trace, if set, sees every data statement of every flush before it
	// runs. It exists for benchmarks that replay a flush's writes.
	Trace func(Statement)
	// Faults, if set, is called at each commit boundary of every flush (see
	// FaultPoint) and may fail the flush there. It is also the crash hook:
	// a crash test kills the process from inside Fault, so that the kill
	// lands exactly on a boundary. Nil costs one comparison per point. It
	// exists for crash and fault tests; production leaves it nil.
	Faults FaultInjector
}

// FaultInjector lets tests fail a flush, or end the process, at a named
// point. It is called on the goroutine that flushes (the kernel actor's),
// with no SQLite statement running.
type FaultInjector interface {
	// Fault returns a non-nil error to make the flush fail at point. After
	// FaultAfterCommit the rows are in the file already; an error there
	// still fails the store, as any flush error does.
	Fault(point FaultPoint) error
}

// FaultPoint names a commit boundary of a flush. Every flush passes all
// three, in this order, unless it fails first.
type FaultPoint string

// The commit boundaries of a flush. A process that dies at one of them
// leaves the file as follows when it is reopened:
const (
	// FaultBeforeBegin: before BEGIN. Nothing of the flush is in the file;
	// the units it held are lost, and none of their outputs was released.
	FaultBeforeBegin FaultPoint = "before-begin"
	// FaultBeforeCommit: every batched statement has run, COMMIT has not.
	// SQLite rolls the transaction back: the same as FaultBeforeBegin.
	FaultBeforeCommit FaultPoint = "before-commit"
	// FaultAfterCommit: COMMIT has returned, the store has not yet marked
	// the rows flushed nor returned to the caller, so no output of the
	// flush is released. Everything of the flush is in the file.
	FaultAfterCommit FaultPoint = "after-commit"
)

// Validate fills defaults and reports the first bad field by name. Open
// calls it; a backend package calls it before it opens its file.
func (o *Options) Validate() error {
	if o.ReadOnly && o.Reset {
		return fmt.Errorf("persistence: Options.ReadOnly and Options.Reset exclude each other")
	}
	switch o.Policy {
	case "":
		o.Policy = Durable
	case Durable, Group:
	default:
		return fmt.Errorf("persistence: Options.Policy %q: want %q or %q", o.Policy, Durable, Group)
	}
	if o.GroupCranks < 0 {
		return fmt.Errorf("persistence: Options.GroupCranks %d: must not be negative", o.GroupCranks)
	}
	if o.GroupInterval < 0 {
		return fmt.Errorf("persistence: Options.GroupInterval %v: must not be negative", o.GroupInterval)
	}
	if o.Policy == Group {
		if o.GroupCranks == 0 {
			o.GroupCranks = DefaultGroupCranks
		}
		if o.GroupInterval == 0 {
			o.GroupInterval = DefaultGroupInterval
		}
	}
	switch o.Synchronous {
	case "":
		o.Synchronous = SyncFull
	case SyncFull, SyncNormal:
	default:
		return fmt.Errorf("persistence: Options.Synchronous %q: want %q or %q", o.Synchronous, SyncFull, SyncNormal)
	}
	if o.CacheRows < 0 {
		return fmt.Errorf("persistence: Options.CacheRows %d: must not be negative", o.CacheRows)
	}
	if o.CacheRows == 0 {
		o.CacheRows = DefaultCacheRows
	}
	if o.BusyTimeout < 0 {
		return fmt.Errorf("persistence: Options.BusyTimeout %v: must not be negative", o.BusyTimeout)
	}
	if o.BusyTimeout == 0 {
		o.BusyTimeout = 5 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return nil
}
