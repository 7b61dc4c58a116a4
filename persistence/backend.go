package persistence

import "context"

// backend is where a Store's committed state goes: a SQLite file, or, for
// path "", memory. Both pass the same contract tests (STYLE.md 4).
type backend interface {
	// flush writes the dirty rows of s (its committed view's changes since
	// the last flush) as one atomic step.
	flush(ctx context.Context, s *Store) (rows int, err error)
	// loadInto reads the backend's whole state into dst's committed view,
	// rebuilding the derived tables.
	loadInto(ctx context.Context, dst *Store) error
	close(ctx context.Context) error
	// crash drops the backend without writing anything more.
	crash()
	// vatEvents reads the vat lifecycle log of vat ("" for all), oldest
	// first.
	vatEvents(ctx context.Context, vat string) ([]VatEvent, error)
}

// memBackend is the in-memory twin of the SQLite backend: the embedded
// default for tests and demos. It keeps a "disk" copy of every persisted
// table that flush updates from the dirty rows exactly as the SQLite
// backend would write them, so that Verify still compares memory against
// an independent record, and the commit path is the same code up to the
// last step.
type memBackend struct {
	disk   *Store
	events []VatEvent
}

var _ backend = (*memBackend)(nil)

func newMemBackend() *memBackend {
	d := &Store{}
	d.initTables()
	return &memBackend{disk: d}
}

func copyDirty[K comparable, V any](dst, src *table[K, V]) int {
	up, del := src.dirtyKeys()
	for _, k := range up {
		dst.base[k] = src.base[k]
	}
	for _, k := range del {
		delete(dst.base, k)
	}
	return len(up) + len(del)
}

func (m *memBackend) flush(ctx context.Context, s *Store) (int, error) {
	if err := s.opts.fault(FaultBeforeBegin); err != nil {
		return 0, err
	}
	if err := s.opts.fault(FaultBeforeCommit); err != nil {
		return 0, err
	}
	d := m.disk
	rows := copyDirty(d.meta, s.meta) +
		copyDirty(d.subclusters, s.subclusters) +
		copyDirty(d.vats, s.vats) +
		copyDirty(d.objects, s.objects) +
		copyDirty(d.promises, s.promises) +
		copyDirty(d.pqueue, s.pqueue) +
		copyDirty(d.clist, s.clist) +
		copyDirty(d.runQueue, s.runQueue) +
		copyDirty(d.gcActions, s.gcActions) +
		copyDirty(d.reapQueue, s.reapQueue) +
		copyDirty(d.idempotency, s.idempotency)
	up, del := s.vatstore.dirtyKeys()
	for _, k := range up {
		v, _ := s.vatstore.baseGet(k.Vat, k.Key)
		d.vatstore.loadBase(k.Vat, k.Key, v)
	}
	for _, k := range del {
		if tr := d.vatstore.base[k.Vat]; tr != nil {
			tr.Delete(vsItem{key: k.Key})
			if tr.Len() == 0 {
				delete(d.vatstore.base, k.Vat)
			}
		}
	}
	m.events = append(m.events, s.eventsOut...)
	rows += len(up) + len(del) + len(s.eventsOut)
	if err := s.opts.fault(FaultAfterCommit); err != nil {
		return 0, err
	}
	return rows, nil
}

func loadTable[K comparable, V any](dst, src *table[K, V]) {
	for k, v := range src.base {
		dst.loadBase(k, v)
	}
}

func (m *memBackend) loadInto(ctx context.Context, dst *Store) error {
	d := m.disk
	loadTable(dst.meta, d.meta)
	loadTable(dst.subclusters, d.subclusters)
	loadTable(dst.vats, d.vats)
	loadTable(dst.objects, d.objects)
	loadTable(dst.promises, d.promises)
	loadTable(dst.pqueue, d.pqueue)
	loadTable(dst.clist, d.clist)
	loadTable(dst.runQueue, d.runQueue)
	loadTable(dst.gcActions, d.gcActions)
	loadTable(dst.reapQueue, d.reapQueue)
	loadTable(dst.idempotency, d.idempotency)
	for vat, tr := range d.vatstore.base {
		tr.Ascend(func(it vsItem) bool {
			dst.vatstore.loadBase(vat, it.key, it.value)
			return true
		})
	}
	deriveIndexes(dst)
	return deriveCursors(dst)
}

func (m *memBackend) close(ctx context.Context) error { return nil }

func (m *memBackend) crash() {}

func (m *memBackend) vatEvents(ctx context.Context, vat string) ([]VatEvent, error) {
	var out []VatEvent
	for _, e := range m.events {
		if vat == "" || e.Vat == vat {
			out = append(out, e)
		}
	}
	return out, nil
}
