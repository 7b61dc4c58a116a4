package persistence

import (
	"context"
	"fmt"
)

// Backend is where a Store's committed state goes: the truth on disk. The
// SQLite backend (package sqlitestore) keeps it in a file; the in-memory
// store's backend keeps nothing but the vat log, since the store's own
// committed view is then the only copy.
//
// A backend sees the tables only through Tables: Load fills them, Flush
// reads what changed since the last flush (Table.Deletes, Table.Upserts).
type Backend interface {
	// Load reads the backend's whole committed state into t, whose tables
	// are empty. The store rebuilds its derived indexes afterwards.
	Load(ctx context.Context, t *Tables) error
	// Flush writes the rows of t changed since the last flush, and events
	// (the vat log entries committed since then, oldest first), as one
	// atomic step, calling Options.Fault at each commit boundary. It
	// returns the number of rows written.
	Flush(ctx context.Context, t *Tables, events []VatEvent) (rows int, err error)
	// VatEvents reads the flushed vat log of vat ("" for all), oldest
	// first.
	VatEvents(ctx context.Context, vat string) ([]VatEvent, error)
	// Independent reports whether Load reads a record kept apart from the
	// store's memory, so that Verify can compare the two.
	Independent() bool
	// Close releases the backend; Crash drops it without writing anything
	// more, as a process crash would.
	Close(ctx context.Context) error
	Crash()
}

// Tables are the persisted tables of a Store, as its Backend sees them.
// This is the one list of them: the store's commit, abort, flush and
// Verify walk Store.layers, built from it, and the SQLite backend maps each
// field to its table (sqlitestore's codecs).
type Tables struct {
	Meta         *Table[string, string]
	Subclusters  *Table[string, SubclusterRow]
	Vats         *Table[string, VatRow]
	Objects      *Table[string, ObjectRow]
	Promises     *Table[string, PromiseRow]
	PromiseQueue *Table[PromiseQueueKey, Message]
	CList        *Table[CListKey, CListRow]
	RunQueue     *Table[uint64, QueueItem]
	GCActions    *Table[GCActionKey, struct{}]
	ReapQueue    *Table[string, uint64]
	Idempotency  *Table[string, IdempotencyRow]
	Vatstore     *VatstoreTable
	// Remotes and Outbox are the peer kernels and the messages written
	// for them (remote.go).
	Remotes *Table[string, RemoteRow]
	Outbox  *Table[OutboxKey, string]
	// SturdyRefs are the OCAP URLs issued: object id -> kref
	// (sturdyref.go).
	SturdyRefs *Table[string, string]
	// Retired are the promise refs a remote may still name after their
	// notify (remote_retired.go).
	Retired *Table[RetiredKey, RetiredRow]
	// Sent are the objects handed to a remote in messages it may not
	// have applied yet: the seq of the last (remote_sent.go).
	Sent *Table[SentKey, uint64]
	// Gone are the refs of objects this kernel told a remote are gone
	// (retireImports) that it may still name (remote_gone.go).
	Gone *Table[GoneKey, GoneRow]

	// ByVRef is the c-list indexed by vat and vref. It is derived: never
	// flushed, and rebuilt from CList at open, unless the backend pages
	// it (Table.Page) over a query of its own c-list, as it must when it
	// pages CList.
	ByVRef *Table[VRefKey, string]
}

// NewStore makes a store over be for path (shown in errors; "" for none),
// loading be's state. It is how a backend package opens a store; opts
// must have passed Options.Validate. On error the caller still owns be.
func NewStore(ctx context.Context, path string, opts Options, be Backend) (*Store, error) {
	s := &Store{path: path, opts: opts, be: be}
	s.initTables()
	if err := be.Load(ctx, &s.tabs); err != nil {
		return nil, err
	}
	if err := s.derive(); err != nil {
		return nil, err
	}
	return s, nil
}

// OpenMemory opens a fresh in-memory store: the embedded default for tests
// and demos. Its committed view is the only copy of its state; nothing
// survives Close.
func OpenMemory(opts Options) (*Store, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if opts.ReadOnly {
		return nil, fmt.Errorf("persistence: a read-only open needs a file path")
	}
	if opts.Reset {
		opts.Reset = false // a fresh store is empty already
	}
	return NewStore(context.Background(), "", opts, &memBackend{opts: &opts})
}

// derive rebuilds the derived tables (c-list by vref and by kref, the run
// queue's cursors) from the persisted ones, after a load.
func (s *Store) derive() error {
	deriveIndexes(s)
	if err := deriveCursors(s); err != nil {
		return fmt.Errorf("%w: %s: table run_queue: %v", ErrCorrupt, s.describe(), err)
	}
	return nil
}

// deriveIndexes rebuilds the c-list by vref from the c-list. (Its two
// partitionings, by vat and by kref, are kept by the c-list table itself.)
func deriveIndexes(s *Store) {
	if s.byVRef.Paged() {
		return // read from the backend's own index
	}
	if s.tabs.CList.Paged() {
		panic("persistence: a backend paged the c-list but not its by-vref index")
	}
	for k, r := range s.tabs.CList.base {
		s.byVRef.loadBase(VRefKey{k.Vat, r.VRef}, k.KRef)
	}
}

// deriveCursors sets the run queue's head and tail from its rows, which
// must be a contiguous run of sequence numbers.
func deriveCursors(s *Store) error {
	var lo, hi uint64
	var n int
	if rq := s.tabs.RunQueue; rq.Paged() {
		sr, ok := rq.src.(SeqRange)
		if !ok {
			panic("persistence: a paged run queue's Source must report its SeqRange")
		}
		var err error
		if lo, hi, n, err = sr.SeqRange(); err != nil {
			return err
		}
	} else {
		n = len(rq.base)
		lo = ^uint64(0)
		for seq := range rq.base {
			lo, hi = min(lo, seq), max(hi, seq)
		}
	}
	if n == 0 {
		return nil
	}
	if hi-lo+1 != uint64(n) {
		return fmt.Errorf("%d items spread over seq %d..%d, not a contiguous run", n, lo, hi)
	}
	s.cursors.loadBase(cursorRunHead, lo)
	s.cursors.loadBase(cursorRunTail, hi+1)
	return nil
}
