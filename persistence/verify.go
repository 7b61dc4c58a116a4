package persistence

import (
	"context"
	"fmt"
	"reflect"
	"sort"
)

// Verify reloads every resident table from SQLite into scratch tables and
// compares them, row by row, with the committed view in memory; for a
// paged table it reads every row and absent key held in memory back from
// the backend and compares those (the rows it does not hold are read from
// the backend, so they cannot differ). It returns one line per difference
// (at most limit; limit <= 0 means all). It proves
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
	var diffs []string
	add := func(format string, args ...any) bool {
		diffs = append(diffs, fmt.Sprintf(format, args...))
		return limit <= 0 || len(diffs) < limit
	}
	// The paged tables: every row held as flushed, and every key held as
	// absent, must be what the backend holds. The rows not held are read
	// from the backend, so they cannot differ.
	for _, l := range s.layers {
		if !l.verifyCache(add) {
			return diffs, nil
		}
	}
	fresh := &Store{path: s.path, opts: s.opts}
	fresh.initTables()
	if s.be.Independent() {
		if err := s.be.Load(ctx, &fresh.tabs); err != nil {
			return nil, err
		}
	} else {
		// The in-memory store's committed view is its only copy: what can
		// be checked is that the derived views (the c-list's partitions
		// and by-vref index, the run queue's cursors) equal what the
		// tables imply, rebuilt from scratch.
		if sc, ok := s.be.(interface {
			selfCheck(func(string, ...any) bool) bool
		}); ok && !sc.selfCheck(add) {
			return diffs, nil
		}
		if !s.tabs.CList.Paged() {
			for k, r := range s.tabs.CList.base {
				fresh.tabs.CList.loadBase(k, r)
			}
		} else {
			fresh.tabs.CList, fresh.byVRef = s.tabs.CList, s.byVRef
		}
		fresh.tabs.RunQueue = s.tabs.RunQueue
	}
	if err := fresh.derive(); err != nil {
		return nil, err
	}
	// The resident tables: compared whole, row by row.
	var mine, theirs []layered
	if s.be.Independent() {
		mine, theirs = s.tabs.persisted(), fresh.tabs.persisted()
	} else if !s.tabs.CList.Paged() {
		mine, theirs = []layered{s.tabs.CList}, []layered{fresh.tabs.CList}
	}
	mine, theirs = append(mine, s.byVRef), append(theirs, fresh.byVRef)
	for i := range mine {
		if mine[i].isPaged() {
			continue
		}
		if !mine[i].compareWith(theirs[i], add) {
			return diffs, nil
		}
	}
	compareCursors(s, fresh, add)
	return diffs, nil
}

// compareWith lists, through add, how t's committed view differs from
// db's (the same table loaded afresh), and reports whether add wants more.
func (t *Table[K, V]) compareWith(other layered, add func(string, ...any) bool) bool {
	return compareTable(t, other.(*Table[K, V]), add)
}

// compareWith is Table.compareWith for the vatstore.
func (t *VatstoreTable) compareWith(other layered, add func(string, ...any) bool) bool {
	return compareVatstore(t, other.(*VatstoreTable), add)
}

func compareTable[K comparable, V any](mem, db *Table[K, V], add func(string, ...any) bool) bool {
	lines := compareParts(mem, db)
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

// compareParts lists how mem's partition indexes differ from db's.
func compareParts[K comparable, V any](mem, db *Table[K, V]) []string {
	var lines []string
	for i := range mem.parts {
		mp, dp := mem.parts[i].sets, db.parts[i].sets
		for p, set := range mp {
			other := dp[p]
			if other == nil || other.len() != set.len() {
				lines = append(lines, fmt.Sprintf("%s: partition %d %q has %d keys in memory, %d in the database", mem.name, i, p, set.len(), lenOf(other)))
				continue
			}
			set.each(func(k K) {
				if !other.has(k) {
					lines = append(lines, fmt.Sprintf("%s: partition %d %q: %v in memory but not in the database", mem.name, i, p, k))
				}
			})
		}
		for p, set := range dp {
			if mp[p] == nil {
				lines = append(lines, fmt.Sprintf("%s: partition %d %q has %d keys in the database, none in memory", mem.name, i, p, set.len()))
			}
		}
	}
	return lines
}

func lenOf[K comparable](p *partition[K]) int {
	if p == nil {
		return 0
	}
	return p.len()
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

func compareVatstore(mem, db *VatstoreTable, add func(string, ...any) bool) bool {
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
				return false
			}
			continue
		}
		for _, k := range mk {
			mv, _ := mem.get(vat, k)
			dv, _ := db.get(vat, k)
			if mv != dv && !add("vatstore %s/%q differs", vat, k) {
				return false
			}
		}
	}
	return true
}

// verifyCache lists, through add, every row a paged table holds as
// flushed (its cache, and its resident rows) that differs from its
// Source, every key it holds as absent that the Source has, and every
// resident key the Source has that it does not hold. With nothing
// unflushed, base is all cache.
func (t *Table[K, V]) verifyCache(add func(string, ...any) bool) bool {
	if t.src == nil {
		return true
	}
	var lines []string
	// held compares one row held in memory with the backend's.
	held := func(k K, mv V, where string) {
		dv, ok, err := t.src.Get(k)
		switch {
		case err != nil:
			lines = append(lines, fmt.Sprintf("%s: read %v: %v", t.name, k, err))
		case !ok:
			lines = append(lines, fmt.Sprintf("%s: %v %s but not in the database", t.name, k, where))
		case !reflect.DeepEqual(normalize(mv), normalize(dv)):
			lines = append(lines, fmt.Sprintf("%s: %v differs: memory %+v, database %+v", t.name, k, mv, dv))
		}
	}
	for k, mv := range t.base {
		held(k, mv, "cached in memory")
	}
	for k := range t.absent {
		if _, ok, err := t.src.Get(k); err == nil && ok {
			lines = append(lines, fmt.Sprintf("%s: %v cached as absent but in the database", t.name, k))
		}
	}
	if t.resident != nil {
		// Resident rows are the committed view of their keys: with
		// nothing unflushed, the backend must hold exactly them.
		for k, mv := range t.res {
			held(k, mv, "held in memory")
		}
		keys, err := t.src.Keys()
		if err != nil {
			lines = append(lines, fmt.Sprintf("%s: list keys: %v", t.name, err))
		}
		for _, k := range keys {
			if _, ok := t.res[k]; t.resident(k) && !ok {
				lines = append(lines, fmt.Sprintf("%s: %v is resident but not held in memory", t.name, k))
			}
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
