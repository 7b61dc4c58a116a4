package persistence

import (
	"context"
)

// memBackend is the in-memory store's backend. By default it keeps no
// tables: the store's committed view is the one copy of its state, so a
// flush only passes the commit boundaries (fault tests run on it too),
// counts the rows a SQLite flush would write, and keeps the vat log,
// which lives only here.
//
// With Options.PagedMemory it keeps the one copy of the big tables
// (objects, promises and their queues, the c-list and its by-vref index,
// the run queue, the vatstore) as resident tables of its own, and the
// store pages those over it with no cache, as it pages a file's: a read
// that misses the store's unflushed rows is a map lookup here. Tests use
// it to run the paged code without a file. It is not the default because
// each row a unit writes is then inserted twice (in the store at commit,
// here at flush), and a Go map allocates for each insert of a value over
// 128 bytes, as a promise row is: 20% more time a crank.
type memBackend struct {
	opts   *Options
	events []VatEvent

	objects      *memTable[string, ObjectRow]
	promises     *memTable[string, PromiseRow]
	promiseQueue *memTable[PromiseQueueKey, Message]
	clist        *memTable[CListKey, CListRow]
	byVRef       *memTable[VRefKey, string]
	runQueue     *memQueue
	vatstore     *memVatstore
}

var _ Backend = (*memBackend)(nil)

// Load pages the big tables of a fresh store over the backend's own,
// with Options.PagedMemory.
func (m *memBackend) Load(ctx context.Context, t *Tables) error {
	if !m.opts.PagedMemory {
		return nil
	}
	m.objects = newMemTable(t.Objects)
	m.promises = newMemTable(t.Promises)
	m.promiseQueue = newMemTable(t.PromiseQueue)
	m.clist = newMemTable(t.CList)
	m.byVRef = newMemTable(t.ByVRef)
	m.runQueue = &memQueue{newMemTable(t.RunQueue)}
	m.vatstore = &memVatstore{truth: newVatstoreTable()}
	t.Objects.Page(m.objects, 0)
	t.Promises.Page(m.promises, 0)
	t.PromiseQueue.Page(m.promiseQueue, 0)
	t.CList.Page(m.clist, 0)
	t.ByVRef.Page(m.byVRef, 0)
	// As a file store does (sqlitestore's Load): the promise entries of
	// the by-vref index stay in memory. A fresh store has none yet.
	if err := t.ByVRef.SetResident(PromiseVRefKey, func(func(VRefKey, string)) error { return nil }); err != nil {
		return err
	}
	t.RunQueue.Page(m.runQueue, 0)
	t.Vatstore.Page(m.vatstore, 0)
	return nil
}

func (m *memBackend) Flush(ctx context.Context, t *Tables, events []VatEvent) (int, error) {
	if err := m.opts.Fault(FaultBeforeBegin); err != nil {
		return 0, err
	}
	if err := m.opts.Fault(FaultBeforeCommit); err != nil {
		return 0, err
	}
	rows := len(events)
	for _, l := range t.persisted() {
		rows += l.dirtyLen()
	}
	if m.objects == nil {
		m.events = append(m.events, events...)
		if err := m.opts.Fault(FaultAfterCommit); err != nil {
			return 0, err
		}
		return rows, nil
	}
	// The commit itself: the paged tables' rows move into the backend.
	// The c-list's by-vref index follows its rows. A key deleted and made
	// again within one group may come back with another vref, and a vref
	// freed by one entry may name another: drop an old mapping only while
	// it still names the entry's kref.
	unmap := func(k CListKey) {
		if old, ok := m.clist.truth.base[k]; ok {
			vk := VRefKey{k.Vat, old.VRef}
			if m.byVRef.truth.base[vk] == k.KRef {
				m.byVRef.truth.deleteBase(vk)
			}
		}
	}
	if t.CList.dirtyLen() > 0 {
		t.CList.Deletes(unmap)
		t.CList.Upserts(func(k CListKey, r CListRow) { unmap(k) })
		t.CList.Upserts(func(k CListKey, r CListRow) { m.byVRef.truth.loadBase(VRefKey{k.Vat, r.VRef}, k.KRef) })
	}
	m.objects.apply(t.Objects)
	m.promises.apply(t.Promises)
	m.promiseQueue.apply(t.PromiseQueue)
	m.clist.apply(t.CList)
	m.runQueue.apply(t.RunQueue)
	m.vatstore.apply(t.Vatstore)
	m.events = append(m.events, events...)
	if err := m.opts.Fault(FaultAfterCommit); err != nil {
		return 0, err
	}
	return rows, nil
}

func (m *memBackend) Independent() bool { return false }

func (m *memBackend) Close(ctx context.Context) error { return nil }

func (m *memBackend) Crash() {}

func (m *memBackend) VatEvents(ctx context.Context, vat string) ([]VatEvent, error) {
	var out []VatEvent
	for _, e := range m.events {
		if vat == "" || e.Vat == vat {
			out = append(out, e)
		}
	}
	return out, nil
}

// selfCheck lists, through add, how the backend's indexes (the c-list's
// partitions and its by-vref index) differ from what its rows imply,
// rebuilt from scratch. It is Verify's check of the in-memory store, whose
// rows have no second copy to be compared with.
func (m *memBackend) selfCheck(add func(string, ...any) bool) bool {
	if m.objects == nil {
		return true // nothing of its own: Verify checks the store's views
	}
	rebuilt := newTable[CListKey, CListRow](m.clist.truth.name, partFuncs(m.clist.truth)...)
	byVRef := newTable[VRefKey, string](m.byVRef.truth.name)
	for k, r := range m.clist.truth.base {
		rebuilt.loadBase(k, r)
		byVRef.loadBase(VRefKey{k.Vat, r.VRef}, k.KRef)
	}
	if !compareTable(m.clist.truth, rebuilt, add) {
		return false
	}
	return compareTable(m.byVRef.truth, byVRef, add)
}

// memTable is one table of the in-memory backend: a resident table,
// partitioned as the store's, that is the Source of the store's paged one.
type memTable[K comparable, V any] struct {
	truth *Table[K, V]
}

func newMemTable[K comparable, V any](like *Table[K, V]) *memTable[K, V] {
	t := newTable[K, V](like.name, partFuncs(like)...)
	t.derived = true // it never flushes anywhere; nothing marks it dirty
	return &memTable[K, V]{truth: t}
}

func partFuncs[K comparable, V any](t *Table[K, V]) []func(K) string {
	var out []func(K) string
	for _, pi := range t.parts {
		out = append(out, pi.of)
	}
	return out
}

// apply moves the rows of t written since the last flush into m.
func (m *memTable[K, V]) apply(t *Table[K, V]) {
	if t.dirty.len() == 0 {
		return
	}
	t.Deletes(m.truth.deleteBase)
	t.Upserts(m.truth.loadBase)
}

func (m *memTable[K, V]) Get(k K) (V, bool, error) {
	v, ok := m.truth.base[k]
	return v, ok, nil
}

func (m *memTable[K, V]) Keys() ([]K, error) {
	out := make([]K, 0, len(m.truth.base))
	for k := range m.truth.base {
		out = append(out, k)
	}
	return out, nil
}

func (m *memTable[K, V]) Part(i int, p string) ([]K, error) {
	var out []K
	if set := m.truth.parts[i].sets[p]; set != nil {
		set.each(func(k K) { out = append(out, k) })
	}
	return out, nil
}

func (m *memTable[K, V]) Count() (int, error) { return len(m.truth.base), nil }

// memQueue is the run queue's memTable, which also reports its range.
type memQueue struct {
	*memTable[uint64, QueueItem]
}

func (q *memQueue) SeqRange() (lo, hi uint64, n int, err error) {
	n = len(q.truth.base)
	if n == 0 {
		return 0, 0, 0, nil
	}
	lo = ^uint64(0)
	for seq := range q.truth.base {
		lo, hi = min(lo, seq), max(hi, seq)
	}
	return lo, hi, n, nil
}
