package persistence

import (
	"context"
	"fmt"
	"reflect"
	"sort"
)

// Verify reloads every table from SQLite into scratch tables and compares
// them, row by row, with the committed view in memory, returning one line
// per difference (at most limit; limit <= 0 means all). It proves DESIGN.md
// invariant 2 after an abort: memory equals the database. It needs every
// committed unit flushed and no unit open, since only then should the two
// agree. A store opened read-only is a snapshot: Verify compares nothing.
func (s *Store) Verify(ctx context.Context, limit int) ([]string, error) {
	if err := s.Err(); err != nil {
		return nil, err
	}
	if s.open {
		return nil, fmt.Errorf("persistence: Verify with a unit open")
	}
	if s.unflushed > 0 {
		return nil, fmt.Errorf("persistence: Verify with %d committed units not yet flushed", s.unflushed)
	}
	if s.opts.ReadOnly {
		// A snapshot that a running kernel may have moved past: comparing
		// it with the file again would report the kernel's progress.
		return nil, nil
	}
	fresh := &Store{}
	fresh.initTables()
	if err := s.be.loadInto(ctx, fresh); err != nil {
		return nil, err
	}
	var diffs []string
	add := func(format string, args ...any) bool {
		diffs = append(diffs, fmt.Sprintf(format, args...))
		return limit <= 0 || len(diffs) < limit
	}
	ok := compareTable(s.meta, fresh.meta, add) &&
		compareTable(s.subclusters, fresh.subclusters, add) &&
		compareTable(s.vats, fresh.vats, add) &&
		compareTable(s.objects, fresh.objects, add) &&
		compareTable(s.promises, fresh.promises, add) &&
		compareTable(s.pqueue, fresh.pqueue, add) &&
		compareTable(s.clist, fresh.clist, add) &&
		compareTable(s.runQueue, fresh.runQueue, add) &&
		compareTable(s.gcActions, fresh.gcActions, add) &&
		compareTable(s.idempotency, fresh.idempotency, add) &&
		compareTable(s.reapQueue, fresh.reapQueue, add) &&
		compareTable(s.byVRef, fresh.byVRef, add) &&
		compareTable(s.holders, fresh.holders, add) &&
		compareCursors(s, fresh, add)
	if ok {
		compareVatstore(s.vatstore, fresh.vatstore, add)
	}
	return diffs, nil
}

func compareTable[K comparable, V any](mem, db *table[K, V], add func(string, ...any) bool) bool {
	var lines []string
	for k, mv := range mem.base {
		dv, ok := db.base[k]
		switch {
		case !ok:
			lines = append(lines, fmt.Sprintf("%s: %v in memory but not in the database", mem.name, k))
		case !reflect.DeepEqual(normalize(mv), normalize(dv)):
			lines = append(lines, fmt.Sprintf("%s: %v differs: memory %+v, database %+v", mem.name, k, mv, dv))
		}
	}
	for k := range db.base {
		if _, ok := mem.base[k]; !ok {
			lines = append(lines, fmt.Sprintf("%s: %v in the database but not in memory", mem.name, k))
		}
	}
	sort.Strings(lines)
	for _, l := range lines {
		if !add("%s", l) {
			return false
		}
	}
	return true
}

// normalize makes empty and nil slices compare equal: the database does not
// keep the difference.
func normalize(v any) any {
	switch r := v.(type) {
	case PromiseRow:
		if len(r.Subscribers) == 0 {
			r.Subscribers = nil
		}
		if len(r.Value.Slots) == 0 {
			r.Value.Slots = nil
		}
		return r
	case VatRow:
		if len(r.Restarts) == 0 {
			r.Restarts = nil
		}
		return r
	case Message:
		if len(r.Methargs.Slots) == 0 {
			r.Methargs.Slots = nil
		}
		return r
	case QueueItem:
		if len(r.Message.Methargs.Slots) == 0 {
			r.Message.Methargs.Slots = nil
		}
		return r
	}
	return v
}

func compareCursors(mem, db *Store, add func(string, ...any) bool) bool {
	mh, mt := mem.cursor(cursorRunHead), mem.cursor(cursorRunTail)
	dh, dt := db.cursor(cursorRunHead), db.cursor(cursorRunTail)
	// An empty queue may sit at any position; only its emptiness matters.
	if mt-mh == 0 && dt-dh == 0 {
		return true
	}
	if mh != dh || mt != dt {
		return add("run queue: memory head %d tail %d (length %d), database head %d tail %d (length %d)",
			mh, mt, mt-mh, dh, dt, dt-dh)
	}
	return true
}

func compareVatstore(mem, db *vatstoreTable, add func(string, ...any) bool) {
	vats := map[string]bool{}
	for v := range mem.base {
		vats[v] = true
	}
	for v := range db.base {
		vats[v] = true
	}
	for vat := range vats {
		mk, dk := mem.keysOf(vat), db.keysOf(vat)
		if !reflect.DeepEqual(mk, dk) {
			if !add("vatstore %s: memory has %d keys, database %d", vat, len(mk), len(dk)) {
				return
			}
			continue
		}
		for _, k := range mk {
			mv, _ := mem.get(vat, k)
			dv, _ := db.get(vat, k)
			if mv != dv && !add("vatstore %s/%q differs", vat, k) {
				return
			}
		}
	}
}
