package persistence

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/ocapgo/kernel-actors/internal/invariants"
)

// Store is the kernel's state: typed tables held in memory over a backend
// (a SQLite file, or its in-memory twin) that is the truth on disk.
//
// A unit of work (a crank, or one host request) runs as
//
//	st.Begin()
//	... reads and writes through st ...
//	st.Commit(ctx)   or   st.Abort()
//
// Reads between Begin and Commit see the unit's own writes first, then the
// committed state. Commit folds the unit into the committed view and, as
// the commit policy says, writes it to SQLite in one transaction; Abort
// drops it without a trace (invariant 2).
//
// A Store is not safe for concurrent use: the kernel actor owns it.
type Store struct {
	path string // "" for in-memory
	opts Options
	be   Backend
	tabs Tables // the persisted tables, as the backend sees them

	// Derived tables: rebuilt from the others on load, never written to
	// SQLite, but layered like the rest so that an abort rolls them back.
	byVRef  *Table[VRefKey, string] // c-list by vref
	cursors *Table[string, uint64]  // run-queue head and tail
	layers  []layered               // every table above, for commit, abort and flush

	events    []VatEvent // appended by the open unit
	eventsOut []VatEvent // committed, not yet flushed

	open          bool      // a unit is in progress
	unflushed     int       // committed units not yet in SQLite
	firstUnflushd time.Time // when the oldest of them committed
	failed        error     // set by a failed flush; sticky
	closed        bool
	stats         Stats
	handed        handedOut // krefs handed out since the last flush (newkeys.go)
}

// Stats counts the store's work since Open.
type Stats struct {
	Commits  uint64 // units committed (in memory)
	Aborts   uint64 // units aborted
	Flushes  uint64 // SQLite transactions committed
	Rows     uint64 // rows written or deleted by flushes
	Unflushd int    // committed units waiting for a group flush
	// Cached is how many rows the paged tables hold in memory, flushed
	// (cache) or not: the store's resident working set.
	Cached int
	// Reads counts the rows the paged tables asked their backend for
	// (point reads that missed every layer in memory).
	Reads uint64
}

// VatEvent is one entry of the vat lifecycle log (terminations, restarts,
// supervision decisions). The log is append-only and lives only in SQLite.
type VatEvent struct {
	Vat         string
	Incarnation int64
	Event       string
	Reason      string
	AtCrank     uint64
}

// The c-list's partitionings, in the order initTables gives them.
const (
	clistByVat  = 0
	clistByKRef = 1
)

const (
	cursorRunHead = "run_head"
	cursorRunTail = "run_tail"
)

func (s *Store) initTables() {
	s.tabs.Meta = newTable[string, string]("meta")
	s.tabs.Subclusters = newTable[string, SubclusterRow]("subclusters")
	s.tabs.Vats = newTable[string, VatRow]("vats")
	s.tabs.Objects = newTable[string, ObjectRow]("objects")
	s.tabs.Promises = newTable[string, PromiseRow]("promises")
	s.tabs.PromiseQueue = newTable[PromiseQueueKey, Message]("promise_queue")
	// The c-list is partitioned twice: by vat (CListKRefs) and by kref
	// (Holders).
	s.tabs.CList = newTable[CListKey, CListRow]("clist",
		func(k CListKey) string { return k.Vat }, func(k CListKey) string { return k.KRef })
	s.tabs.RunQueue = newTable[uint64, QueueItem]("run_queue")
	s.tabs.GCActions = newTable[GCActionKey, struct{}]("gc_actions")
	s.tabs.ReapQueue = newTable[string, uint64]("reap_queue")
	s.tabs.Idempotency = newTable[string, IdempotencyRow]("idempotency")
	s.tabs.Vatstore = newVatstoreTable()
	s.tabs.Remotes = newTable[string, RemoteRow]("remotes")
	s.tabs.Outbox = newTable[OutboxKey, string]("remote_outbox", outboxPart)
	s.tabs.SturdyRefs = newTable[string, string]("sturdy_refs")
	s.tabs.Retired = newTable[RetiredKey, RetiredRow]("remote_retired", retiredPart)
	s.tabs.Sent = newTable[SentKey, uint64]("remote_sent", sentPart)
	s.tabs.Gone = newTable[GoneKey, GoneRow]("remote_gone", gonePart)
	s.byVRef = newTable[VRefKey, string]("clist_by_vref")
	s.tabs.ByVRef = s.byVRef
	s.cursors = newTable[string, uint64]("cursors")
	// The derived tables never reach SQLite: nothing would ever clear
	// their dirty sets, which would grow by a few keys every crank.
	s.byVRef.derived, s.cursors.derived = true, true
	s.layers = append(s.tabs.persisted(), s.byVRef, s.cursors)
	for _, l := range s.layers {
		l.setOnFail(s.fail)
		l.setOnRead(func() { s.stats.Reads++ })
	}
	s.tabs.Objects.unflushedKey = s.newerThanFlush
	s.tabs.Promises.unflushedKey = s.newerThanFlush
	s.tabs.PromiseQueue.unflushedKey = func(k PromiseQueueKey) bool { return s.newerThanFlush(k.KPID) }
	s.tabs.CList.unflushedKey = func(k CListKey) bool { return s.newerThanFlush(k.KRef) }
}

// fail fails the store for good on a read error of the backend: a unit
// that read a row as missing because the read failed must not commit, and
// nothing after it can trust the store.
func (s *Store) fail(err error) {
	if s.failed == nil {
		s.failed = fmt.Errorf("%w: %w", ErrFailed, err)
	}
}

// persisted lists the tables, in the order of the struct's fields.
func (t *Tables) persisted() []layered {
	return []layered{
		t.Meta, t.Subclusters, t.Vats, t.Objects, t.Promises, t.PromiseQueue,
		t.CList, t.RunQueue, t.GCActions, t.ReapQueue, t.Idempotency, t.Vatstore,
		t.Remotes, t.Outbox, t.SturdyRefs, t.Retired, t.Sent, t.Gone,
	}
}

// layered is what every table of a Store does, persisted or derived.
type layered interface {
	fold()
	abort()
	pending() bool
	clearDirty()
	dirtyLen() int
	compareWith(other layered, add func(string, ...any) bool) bool
	setOnFail(func(error))
	setOnRead(func())
	isPaged() bool
	heldRows() int
	verifyCache(add func(string, ...any) bool) bool
}

func (t *Table[K, V]) isPaged() bool { return t.src != nil }

// heldRows is how many rows a paged table holds in memory (0 for a
// resident one, which holds them all).
func (t *Table[K, V]) heldRows() int {
	if t.src == nil {
		return 0
	}
	return len(t.base) + len(t.res)
}

func (t *Table[K, V]) setOnFail(f func(error)) { t.onFail = f }

func (t *Table[K, V]) setOnRead(f func()) { t.onRead = f }

// foldables lists every layered table, persisted or derived.
func (s *Store) foldables() []layered { return s.layers }

// Path is the database file, or "" for an in-memory store.
func (s *Store) Path() string { return s.path }

// Policy is the store's commit policy.
func (s *Store) Policy() CommitPolicy { return s.opts.Policy }

// Stats reports the store's counters.
func (s *Store) Stats() Stats {
	st := s.stats
	st.Unflushd = s.unflushed
	for _, l := range s.layers {
		st.Cached += l.heldRows()
	}
	return st
}

// Rows is Stats().Rows, the rows flushes wrote or deleted, read without
// walking the tables for Stats().Cached: the kernel actor reads it twice
// a crank when it traces.
func (s *Store) Rows() uint64 { return s.stats.Rows }

// Err reports why the store refuses work, or nil.
func (s *Store) Err() error {
	if s.closed {
		return ErrClosed
	}
	return s.failed
}

// Begin opens a unit of work. It panics if one is already open: units never
// nest (invariant 1).
func (s *Store) Begin() error {
	if err := s.Err(); err != nil {
		return err
	}
	if s.opts.ReadOnly {
		return fmt.Errorf("%w: %q was opened read-only", ErrReadOnly, s.path)
	}
	if s.open {
		panic("persistence: Begin with a unit already open")
	}
	s.open = true
	return nil
}

// ReadOnly reports whether the store was opened with Options.ReadOnly.
func (s *Store) ReadOnly() bool { return s.opts.ReadOnly }

// InUnit reports whether a unit is open.
func (s *Store) InUnit() bool { return s.open }

// Abort drops the open unit's writes.
func (s *Store) Abort() {
	if s.closed {
		return
	}
	if !s.open {
		panic("persistence: Abort without an open unit")
	}
	for _, t := range s.foldables() {
		t.abort()
	}
	s.events = s.events[:0]
	s.open = false
	s.stats.Aborts++
}

// Commit makes the open unit part of the committed state and, as the
// commit policy says, flushes to SQLite. It reports whether a flush
// happened: only then may the outputs of the flushed units be released
// (invariant 3).
func (s *Store) Commit(ctx context.Context) (flushed bool, err error) {
	if s.closed {
		return false, ErrClosed
	}
	if !s.open {
		panic("persistence: Commit without an open unit")
	}
	if s.failed != nil {
		// INVARIANT: a unit whose reads failed saw rows as missing that
		// may exist; it never becomes part of the committed state.
		s.Abort()
		return false, s.failed
	}
	for _, t := range s.foldables() {
		t.fold()
	}
	if s.failed != nil {
		// A fold reads what a delete removes; that read failed.
		return false, s.failed
	}
	s.eventsOut = append(s.eventsOut, s.events...)
	s.events = s.events[:0]
	s.open = false
	s.stats.Commits++
	if s.unflushed == 0 {
		s.firstUnflushd = s.opts.Now()
	}
	s.unflushed++
	if !s.flushDue() {
		return false, nil
	}
	if err := s.Flush(ctx); err != nil {
		return false, err
	}
	return true, nil
}

// flushDue applies the commit policy to the committed, unflushed units.
func (s *Store) flushDue() bool {
	if s.unflushed == 0 {
		return false
	}
	if s.opts.Policy == Durable {
		return true
	}
	return s.unflushed >= s.opts.GroupCranks || s.opts.Now().Sub(s.firstUnflushd) >= s.opts.GroupInterval
}

// FlushDue reports whether a group of committed units has waited its
// GroupInterval; the runtime calls it from a timer when the kernel is idle.
func (s *Store) FlushDue() bool { return s.failed == nil && !s.closed && s.flushDue() }

// Unflushed reports how many committed units wait for a flush.
func (s *Store) Unflushed() int { return s.unflushed }

// Close flushes what is committed and closes the database. The open unit,
// if any, is dropped: a unit that was never committed never happened.
func (s *Store) Close(ctx context.Context) error {
	if s.closed {
		return nil
	}
	if s.open {
		s.Abort()
	}
	var err error
	if s.failed == nil && s.unflushed > 0 {
		err = s.Flush(ctx)
	}
	s.closed = true
	if cerr := s.be.Close(ctx); err == nil {
		err = cerr
	}
	return err
}

func (s *Store) describe() string {
	if s.path == "" {
		return "in-memory database"
	}
	return fmt.Sprintf("database %q", s.path)
}

func (s *Store) mustOpen() {
	if !s.open {
		panic("persistence: write outside a unit of work")
	}
}

// ---- meta and id counters ----

// Meta reads a meta value.
func (s *Store) Meta(key string) (string, bool) { return s.tabs.Meta.getResident(key) }

// SetMeta writes a meta value.
func (s *Store) SetMeta(key, value string) { s.mustOpen(); s.tabs.Meta.put(key, value) }

// MetaKeys lists the meta keys, sorted (for audit and inspection).
func (s *Store) MetaKeys() []string {
	keys := s.tabs.Meta.keys()
	slices.Sort(keys)
	return keys
}

// Idempotency reads the record of an idempotency key.
func (s *Store) Idempotency(key string) (IdempotencyRow, bool) { return s.tabs.Idempotency.get(key) }

// PutIdempotency records an idempotency key.
func (s *Store) PutIdempotency(key string, r IdempotencyRow) {
	s.mustOpen()
	s.tabs.Idempotency.put(key, r)
}

// DeleteIdempotency forgets an idempotency key.
func (s *Store) DeleteIdempotency(key string) { s.mustOpen(); s.tabs.Idempotency.del(key) }

// IdempotencyKeys lists the idempotency keys, oldest first.
func (s *Store) IdempotencyKeys() []string {
	keys := s.tabs.Idempotency.keys()
	slices.SortFunc(keys, func(a, b string) int {
		ra, _ := s.tabs.Idempotency.get(a)
		rb, _ := s.tabs.Idempotency.get(b)
		return cmp.Compare(ra.Seq, rb.Seq)
	})
	return keys
}

// IdempotencyCount is the number of idempotency keys recorded.
func (s *Store) IdempotencyCount() int { return s.tabs.Idempotency.len() }

// DeleteMeta deletes a meta key.
func (s *Store) DeleteMeta(key string) { s.mustOpen(); s.tabs.Meta.del(key) }

// NextID hands out the next number of the named counter, starting at 1.
func (s *Store) NextID(counter string) uint64 {
	s.mustOpen()
	n := s.PeekID(counter)
	s.tabs.Meta.put(counter, strconv.FormatUint(n+1, 10))
	s.noteHanded(counter, n)
	return n
}

// PeekID reports the number NextID would hand out next. (The kernel takes
// a number every crank: strconv, not fmt, keeps that cheap.)
func (s *Store) PeekID(counter string) uint64 {
	v, ok := s.tabs.Meta.get(counter)
	if !ok {
		return 1
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		panic(fmt.Sprintf("persistence: meta %q holds %q, not a number", counter, v))
	}
	return n
}

// ---- subclusters and vats ----

// Subcluster reads a subcluster.
func (s *Store) Subcluster(id string) (SubclusterRow, bool) { return s.tabs.Subclusters.get(id) }

// PutSubcluster writes a subcluster.
func (s *Store) PutSubcluster(id string, r SubclusterRow) {
	s.mustOpen()
	s.tabs.Subclusters.put(id, r)
}

// DeleteSubcluster deletes a subcluster.
func (s *Store) DeleteSubcluster(id string) { s.mustOpen(); s.tabs.Subclusters.del(id) }

// SubclusterIDs lists subclusters, sorted by id number.
func (s *Store) SubclusterIDs() []string { return sortIDs(s.tabs.Subclusters.keys()) }

// Vat reads a vat.
func (s *Store) Vat(id string) (VatRow, bool) { return s.tabs.Vats.get(id) }

// PutVat writes a vat.
func (s *Store) PutVat(id string, r VatRow) { s.mustOpen(); s.tabs.Vats.put(id, r) }

// VatIDs lists every vat (active or terminated), sorted by id number.
func (s *Store) VatIDs() []string { return sortIDs(s.tabs.Vats.keys()) }

// ---- objects ----

// Object reads a kernel object.
func (s *Store) Object(kref string) (ObjectRow, bool) { return s.tabs.Objects.get(kref) }

// PutObject writes a kernel object.
func (s *Store) PutObject(kref string, r ObjectRow) {
	s.mustOpen()
	if invariants.Enabled && (r.Reachable < 0 || r.Reachable > r.Recognizable || r.Pins < 0 || r.Pins > r.Reachable) {
		panic(fmt.Sprintf("persistence: object %s row out of order: %+v", kref, r))
	}
	s.tabs.Objects.put(kref, r)
}

// DeleteObject deletes a kernel object.
func (s *Store) DeleteObject(kref string) { s.mustOpen(); s.tabs.Objects.del(kref) }

// ObjectKRefs lists every kernel object, sorted by id number.
func (s *Store) ObjectKRefs() []string { return sortIDs(s.tabs.Objects.keys()) }

// ObjectCount is the number of kernel objects.
func (s *Store) ObjectCount() int { return s.tabs.Objects.len() }

// ---- promises and their message queues ----

// Promise reads a kernel promise.
func (s *Store) Promise(kpid string) (PromiseRow, bool) { return s.tabs.Promises.get(kpid) }

// PutPromise writes a kernel promise.
func (s *Store) PutPromise(kpid string, r PromiseRow) {
	s.mustOpen()
	if invariants.Enabled && (r.RefCount < 0 || r.QueueTail < r.QueueHead ||
		(r.State != PromiseUnresolved && (r.Decider != "" || len(r.Subscribers) > 0))) {
		panic(fmt.Sprintf("persistence: promise %s row inconsistent: %+v", kpid, r))
	}
	s.tabs.Promises.put(kpid, r)
}

// DeletePromise deletes a kernel promise. Its message queue must be empty.
func (s *Store) DeletePromise(kpid string) { s.mustOpen(); s.tabs.Promises.del(kpid) }

// PromiseKPIDs lists every kernel promise, sorted by id number.
func (s *Store) PromiseKPIDs() []string { return sortIDs(s.tabs.Promises.keys()) }

// PromiseCount is the number of kernel promises.
func (s *Store) PromiseCount() int { return s.tabs.Promises.len() }

// QueuedMessage reads the message at seq in kpid's queue.
func (s *Store) QueuedMessage(kpid string, seq uint64) (Message, bool) {
	return s.tabs.PromiseQueue.get(PromiseQueueKey{kpid, seq})
}

// PutQueuedMessage writes the message at seq in kpid's queue; the caller
// keeps the promise row's QueueHead/QueueTail in step.
func (s *Store) PutQueuedMessage(kpid string, seq uint64, m Message) {
	s.mustOpen()
	s.tabs.PromiseQueue.put(PromiseQueueKey{kpid, seq}, m)
}

// DeleteQueuedMessage deletes the message at seq in kpid's queue.
func (s *Store) DeleteQueuedMessage(kpid string, seq uint64) {
	s.mustOpen()
	s.tabs.PromiseQueue.del(PromiseQueueKey{kpid, seq})
}

// QueuedMessageKeys lists every message queued on any promise (for audit).
func (s *Store) QueuedMessageKeys() []PromiseQueueKey {
	ks := s.tabs.PromiseQueue.keys()
	sort.Slice(ks, func(i, j int) bool {
		if ks[i].KPID != ks[j].KPID {
			return idLess(ks[i].KPID, ks[j].KPID)
		}
		return ks[i].Seq < ks[j].Seq
	})
	return ks
}

// ---- c-lists ----

// CList reads vat's c-list entry for kref.
func (s *Store) CList(vat, kref string) (CListRow, bool) {
	return s.tabs.CList.get(CListKey{vat, kref})
}

// KRefOf reads the kref that vref names in vat's c-list.
func (s *Store) KRefOf(vat, vref string) (string, bool) { return s.byVRef.get(VRefKey{vat, vref}) }

// PutCList writes vat's c-list entry for kref, keeping the by-vref and
// by-kref indexes in step. A vref never changes for an entry once made.
func (s *Store) PutCList(vat, kref string, r CListRow) {
	s.mustOpen()
	k := CListKey{vat, kref}
	if old, ok := s.tabs.CList.get(k); ok && old.VRef != r.VRef {
		panic(fmt.Sprintf("persistence: c-list entry %s/%s changes vref %s -> %s", vat, kref, old.VRef, r.VRef))
	}
	s.tabs.CList.put(k, r)
	s.byVRef.put(VRefKey{vat, r.VRef}, kref)
}

// DeleteCList deletes vat's c-list entry for kref, if any.
func (s *Store) DeleteCList(vat, kref string) {
	s.mustOpen()
	k := CListKey{vat, kref}
	r, ok := s.tabs.CList.get(k)
	if !ok {
		return
	}
	s.tabs.CList.del(k)
	s.byVRef.del(VRefKey{vat, r.VRef})
}

// CListKRefs lists the krefs in vat's c-list, sorted by kind then number.
func (s *Store) CListKRefs(vat string) []string {
	ks := s.tabs.CList.keysIn(clistByVat, vat)
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = k.KRef
	}
	return sortIDs(out)
}

// CListKRefsBetween lists the krefs of vat's c-list with lo <= kref < hi
// (byte order), sorted as CListKRefs: say "kp" to "kq" for its promises.
func (s *Store) CListKRefsBetween(vat, lo, hi string) []string {
	return s.clistRange(vat, lo, hi, false)
}

// CListKRefsByVRef lists the krefs of vat's c-list entries whose vref v
// has lo <= v < hi (byte order), sorted as CListKRefs.
func (s *Store) CListKRefsByVRef(vat, lo, hi string) []string {
	return s.clistRange(vat, lo, hi, true)
}

func (s *Store) clistRange(vat, lo, hi string, byVRef bool) []string {
	t := s.tabs.CList
	in := func(k CListKey) bool {
		if k.Vat != vat {
			return false
		}
		x := k.KRef
		if byVRef {
			r, ok := t.get(k)
			if !ok {
				return false
			}
			x = r.VRef
		}
		return lo <= x && x < hi
	}
	var ks []CListKey
	if r, ok := t.src.(CListRanger); ok {
		var flushed []CListKey
		var err error
		if byVRef {
			flushed, err = r.VRefRange(vat, lo, hi)
		} else {
			flushed, err = r.KRefRange(vat, lo, hi)
		}
		if err != nil {
			t.fail(fmt.Errorf("table %s: list vat %s from %q to %q: %w", t.name, vat, lo, hi, err))
		}
		ks = t.pagedKeys(flushed, in)
	} else {
		for _, k := range t.keysIn(clistByVat, vat) {
			if in(k) {
				ks = append(ks, k)
			}
		}
	}
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = k.KRef
	}
	return sortIDs(out)
}

// Holders lists the vats whose c-lists hold kref, sorted by vat number.
func (s *Store) Holders(kref string) []string {
	ks := s.tabs.CList.keysIn(clistByKRef, kref)
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = k.Vat
	}
	return sortIDs(out)
}

// ---- run queue ----

func (s *Store) cursor(name string) uint64 {
	v, ok := s.cursors.get(name)
	if !ok {
		return 1
	}
	return v
}

// Enqueue appends an item to the run queue.
func (s *Store) Enqueue(it QueueItem) {
	s.mustOpen()
	tail := s.cursor(cursorRunTail)
	s.tabs.RunQueue.put(tail, it)
	s.cursors.put(cursorRunTail, tail+1)
}

// QueueHead reads the item at the head of the run queue.
func (s *Store) QueueHead() (QueueItem, bool) {
	head, tail := s.cursor(cursorRunHead), s.cursor(cursorRunTail)
	if head >= tail {
		return QueueItem{}, false
	}
	it, ok := s.tabs.RunQueue.get(head)
	if !ok {
		panic(fmt.Sprintf("persistence: run queue item %d missing (head %d, tail %d)", head, head, tail))
	}
	return it, true
}

// Dequeue removes and returns the item at the head of the run queue.
func (s *Store) Dequeue() (QueueItem, bool) {
	s.mustOpen()
	it, ok := s.QueueHead()
	if !ok {
		return it, false
	}
	head := s.cursor(cursorRunHead)
	s.tabs.RunQueue.del(head)
	s.cursors.put(cursorRunHead, head+1)
	return it, true
}

// QueueLen is the number of run-queue items.
func (s *Store) QueueLen() int {
	return int(s.cursor(cursorRunTail) - s.cursor(cursorRunHead))
}

// QueueItems lists the run queue in order (for inspection and audit).
func (s *Store) QueueItems() []QueueItem {
	head, tail := s.cursor(cursorRunHead), s.cursor(cursorRunTail)
	out := make([]QueueItem, 0, tail-head)
	for seq := head; seq < tail; seq++ {
		it, _ := s.tabs.RunQueue.get(seq)
		out = append(out, it)
	}
	return out
}

// ---- GC actions and reaps ----

// AddGCAction adds a GC action to the pending set.
func (s *Store) AddGCAction(a GCActionKey) { s.mustOpen(); s.tabs.GCActions.put(a, struct{}{}) }

// DeleteGCAction removes a GC action from the pending set.
func (s *Store) DeleteGCAction(a GCActionKey) { s.mustOpen(); s.tabs.GCActions.del(a) }

// GCActions lists the pending GC actions sorted by vat number, then kind in
// priority order, then kref.
func (s *Store) GCActions() []GCActionKey {
	ks := s.tabs.GCActions.keys()
	sort.Slice(ks, func(i, j int) bool { return gcLess(ks[i], ks[j]) })
	return ks
}

// GCActionCount is the number of pending GC actions.
func (s *Store) GCActionCount() int { return s.tabs.GCActions.len() }

var gcPriority = map[GCKind]int{GCDropExport: 0, GCRetireExport: 1, GCRetireImport: 2}

func gcLess(a, b GCActionKey) bool {
	if a.Vat != b.Vat {
		return idLess(a.Vat, b.Vat)
	}
	if a.Kind != b.Kind {
		return gcPriority[a.Kind] < gcPriority[b.Kind]
	}
	return idLess(a.KRef, b.KRef)
}

// AddReap schedules a bring-out-your-dead for vat, once.
func (s *Store) AddReap(vat string) {
	s.mustOpen()
	if s.tabs.ReapQueue.has(vat) {
		return
	}
	s.tabs.ReapQueue.put(vat, s.NextID(MetaNextReap))
}

// DeleteReap unschedules vat's reap.
func (s *Store) DeleteReap(vat string) { s.mustOpen(); s.tabs.ReapQueue.del(vat) }

// NextReap reports the vat whose reap was scheduled first.
func (s *Store) NextReap() (string, bool) {
	best, bestSeq, found := "", uint64(0), false
	for _, vat := range s.tabs.ReapQueue.keys() {
		seq, _ := s.tabs.ReapQueue.get(vat)
		if !found || seq < bestSeq {
			best, bestSeq, found = vat, seq, true
		}
	}
	return best, found
}

// Reaps lists the vats with a reap scheduled, first due first.
func (s *Store) Reaps() []string {
	vats := s.tabs.ReapQueue.keys()
	slices.SortFunc(vats, func(a, b string) int {
		sa, _ := s.tabs.ReapQueue.get(a)
		sb, _ := s.tabs.ReapQueue.get(b)
		return cmp.Compare(sa, sb)
	})
	return vats
}

// ReapCount is the number of scheduled reaps.
func (s *Store) ReapCount() int { return s.tabs.ReapQueue.len() }

// ---- vatstore ----

// VatstoreGet reads a vatstore entry.
func (s *Store) VatstoreGet(vat, key string) (string, bool) { return s.tabs.Vatstore.get(vat, key) }

// VatstoreSet writes a vatstore entry.
func (s *Store) VatstoreSet(vat, key, value string) {
	s.mustOpen()
	s.tabs.Vatstore.set(vat, key, value)
}

// VatstoreDelete deletes a vatstore entry.
func (s *Store) VatstoreDelete(vat, key string) { s.mustOpen(); s.tabs.Vatstore.del(vat, key) }

// VatstoreNextKey returns vat's smallest key strictly greater than prior.
func (s *Store) VatstoreNextKey(vat, prior string) (string, bool) {
	return s.tabs.Vatstore.nextKey(vat, prior)
}

// VatstoreKeys lists vat's keys in order.
func (s *Store) VatstoreKeys(vat string) []string { return s.tabs.Vatstore.keysOf(vat) }

// VatstoreVats lists the vats that have vatstore entries, in id order
// (the auditor checks that each is a vat the store knows).
func (s *Store) VatstoreVats() []string { return sortIDs(s.tabs.Vatstore.vats()) }

// ---- vat lifecycle log ----

// AppendVatEvent logs a vat lifecycle event in the open unit.
func (s *Store) AppendVatEvent(e VatEvent) { s.mustOpen(); s.events = append(s.events, e) }

// Crash drops the database connection the way a process crash would:
// nothing committed but unflushed, and nothing of the open unit, reaches
// the file. The store is closed afterwards. It exists for crash tests.
func (s *Store) Crash() {
	if s.closed {
		return
	}
	s.closed = true
	s.open = false
	s.be.Crash()
}

// VatEvents reads the vat lifecycle log of vat ("" for every vat), oldest
// first, including committed events not yet flushed.
func (s *Store) VatEvents(ctx context.Context, vat string) ([]VatEvent, error) {
	if err := s.Err(); err != nil {
		return nil, err
	}
	out, err := s.be.VatEvents(ctx, vat)
	if err != nil {
		return nil, err
	}
	for _, e := range s.eventsOut {
		if vat == "" || e.Vat == vat {
			out = append(out, e)
		}
	}
	return out, nil
}
