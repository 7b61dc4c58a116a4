package persistence

// Row types are the typed records of the store, one per table. The store
// treats them as values: a caller that wants to change a row builds a new
// one (copying any slice it changes) and puts it back. Rows read from the
// store must never be mutated in place, because they may be shared with the
// committed view.

// Data is a CapData value as stored: a body the store never parses and the
// refs (krefs) its slots name.
type Data struct {
	Body  string
	Slots []string
}

// Meta keys for the id counters. Each holds the next number to hand out;
// numbers are never reused, so a kref or vat id held outside the kernel can
// never come to name something else. Every counter's key begins with
// MetaCounterPrefix (the kernel's own counters too), and Open refuses a
// store where one does not hold a number.
const (
	MetaCounterPrefix  = "next_"
	MetaNextObject     = "next_object"
	MetaNextPromise    = "next_promise"
	MetaNextVat        = "next_vat"
	MetaNextSubcluster = "next_subcluster"
	MetaNextReap       = "next_reap"
)

// VatState is the lifecycle state of a vat row.
type VatState string

// Vat states.
const (
	VatActive     VatState = "active"
	VatTerminated VatState = "terminated"
)

// VatRow is one vat: its identity, configuration and import counters.
type VatRow struct {
	Name        string // the name in its subcluster's config
	Subcluster  string // owning subcluster id ("" for none)
	Config      string // JSON of the vat's config, opaque to the store
	State       VatState
	Incarnation int64  // 0 at launch, +1 per restart or upgrade
	NextObject  uint64 // next o-N this vat's c-list hands out
	NextPromise uint64 // next p-N this vat's c-list hands out
	// Restarts are the times (Unix nanoseconds, oldest first) of the
	// restarts the failure policy made within its window: the kernel's
	// restart intensity survives a kernel restart.
	Restarts []int64
}

// SubclusterRow is one launched subcluster.
type SubclusterRow struct {
	Bootstrap string // config name of the bootstrap vat
	Config    string // JSON of the cluster config, opaque to the store
	// BootstrapKPID is the result promise of the bootstrap message, held
	// (one reference) so that its value can be read after any restart;
	// "" once the subcluster is forgotten.
	BootstrapKPID string
}

// ObjectRow is one kernel object (koN).
type ObjectRow struct {
	Owner        string // owning vat id; "" once orphaned
	Revoked      bool
	Reachable    int64 // importers' reachable c-list entries + queue and promise references + pins
	Recognizable int64 // reachable plus unreachable-but-recognizable importers
	Pins         int64 // holds taken by the kernel itself (vat roots)
}

// PromiseState is the state of a kernel promise.
type PromiseState string

// Promise states.
const (
	PromiseUnresolved PromiseState = "unresolved"
	PromiseFulfilled  PromiseState = "fulfilled"
	PromiseRejected   PromiseState = "rejected"
)

// PromiseRow is one kernel promise (kpN).
type PromiseRow struct {
	State   PromiseState
	Decider string // vat allowed to resolve it; "" = the kernel (run queue or host)
	// DeciderIncarnation is the decider's incarnation when it was given
	// the promise. Only that incarnation's heap knows the promise: a
	// restart rejects what the old incarnation decided, and the auditor
	// flags any promise left with an incarnation that is gone.
	DeciderIncarnation int64
	// SettledByKernel marks a settlement the kernel made itself (a splat,
	// a termination) rather than a vat's resolve: only then is a kernel
	// code in the value the kernel's word.
	SettledByKernel bool
	Subscribers     []string // vats to notify on resolution, sorted, no duplicates
	HostSubscribed  bool     // the host awaits its resolution
	Value           Data     // resolution; only once settled
	RefCount        int64
	QueueHead       uint64 // first seq of messages queued on this promise
	QueueTail       uint64 // next seq to append; QueueTail-QueueHead messages wait
}

// CListKey names one c-list entry by vat and kref.
type CListKey struct {
	Vat  string
	KRef string
}

// CListRow is the vat-side half of a c-list entry.
type CListRow struct {
	VRef      string
	Reachable bool // the reachable flag: cleared by dropImports / dropExports
}

// VRefKey names one c-list entry by vat and vref.
type VRefKey struct {
	Vat  string
	VRef string
}

// Message is a message as queued: target is implied by where it is queued
// (a run-queue item carries its own; a promise queue's target is the
// promise).
type Message struct {
	Methargs Data
	Result   string // result kpid; "" for none
}

// QueueKind says what a run-queue item is.
type QueueKind string

// Run-queue item kinds.
const (
	QueueSend   QueueKind = "send"
	QueueNotify QueueKind = "notify"
)

// QueueItem is one run-queue item.
type QueueItem struct {
	Kind    QueueKind
	Target  string  // send: target kref
	Message Message // send
	Vat     string  // notify: vat to notify
	KPID    string  // notify: the settled promise
}

// PromiseQueueKey names one message queued on an unresolved promise.
type PromiseQueueKey struct {
	KPID string
	Seq  uint64
}

// GCKind is the kind of a pending GC action.
type GCKind string

// GC action kinds, in the reference's priority order (ocap-kernel
// semantics §6.3).
const (
	GCDropExport   GCKind = "dropExport"
	GCRetireExport GCKind = "retireExport"
	GCRetireImport GCKind = "retireImport"
)

// GCActionKey is one pending GC action: tell Vat about KRef.
type GCActionKey struct {
	Vat  string
	Kind GCKind
	KRef string
}

// IdempotencyRow is one idempotency key the host sent a message with: the
// message's result promise (held: one reference), a digest of what was
// sent (a retry must send the same), and the order keys were recorded in
// (the oldest are forgotten first).
type IdempotencyRow struct {
	KPID   string
	Digest string
	Seq    uint64
}

// MetaNextIdempotency numbers idempotency keys in the order they came.
const MetaNextIdempotency = "next_idempotency"

// VatstoreKey names one vatstore entry.
type VatstoreKey struct {
	Vat string
	Key string
}
