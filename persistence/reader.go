package persistence

import "context"

// Reader is what reading a store's state takes, as the open unit (or, with
// none open, the committed state) sees it: the narrow view that the
// kernel's Describe functions and the auditor get, and that a read-only
// store opened for an inspector offers in full. The Store has more (units,
// writes, flushes, stats); code that only looks takes a Reader. Each
// method is the Store method of the same name, documented there.
type Reader interface {
	Meta(key string) (string, bool)
	MetaKeys() []string
	PeekID(counter string) uint64
	Subcluster(id string) (SubclusterRow, bool)
	SubclusterIDs() []string
	Vat(id string) (VatRow, bool)
	VatIDs() []string
	Object(kref string) (ObjectRow, bool)
	ObjectKRefs() []string
	ObjectCount() int
	Promise(kpid string) (PromiseRow, bool)
	PromiseKPIDs() []string
	PromiseCount() int
	QueuedMessage(kpid string, seq uint64) (Message, bool)
	QueuedMessageKeys() []PromiseQueueKey
	CList(vat, kref string) (CListRow, bool)
	KRefOf(vat, vref string) (string, bool)
	CListKRefs(vat string) []string
	Holders(kref string) []string
	QueueHead() (QueueItem, bool)
	QueueLen() int
	QueueItems() []QueueItem
	GCActions() []GCActionKey
	GCActionCount() int
	NextReap() (string, bool)
	Reaps() []string
	ReapCount() int
	Idempotency(key string) (IdempotencyRow, bool)
	IdempotencyKeys() []string
	IdempotencyCount() int
	VatstoreGet(vat, key string) (string, bool)
	VatstoreNextKey(vat, prior string) (string, bool)
	VatstoreKeys(vat string) []string
	VatstoreVats() []string
	Remote(id string) (RemoteRow, bool)
	RemoteIDs() []string
	OutboxMessage(remote string, seq uint64) (string, bool)
	OutboxSeqs(remote string) []uint64
	OutboxRemotes() []string
	SturdyRef(oid string) (string, bool)
	SturdyRefOIDs() []string
	RetiredRef(remote, ref string) (RetiredRow, bool)
	RetiredRefs(remote string) []string
	RetiredRemotes() []string
	SentRef(remote, ref string) (uint64, bool)
	SentRefs(remote string) []string
	SentRemotes() []string
	GoneRef(remote, ref string) (GoneRow, bool)
	GoneRefs(remote string) []string
	GoneRemotes() []string
}

// Auditable is a Reader that can also say whether a unit is open or
// committed units wait for a flush, and compare its memory with its
// backend (Verify): what the kernel's auditor needs.
type Auditable interface {
	Reader
	InUnit() bool
	Unflushed() int
	Verify(ctx context.Context, limit int) ([]string, error)
}

var (
	_ Reader    = (*Store)(nil)
	_ Auditable = (*Store)(nil)
)
