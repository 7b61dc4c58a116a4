package persistence

import (
	"fmt"
	"strings"
)

// Source is a backend's read side of one paged table: the rows as the
// last flush left them. A table with a Source keeps in memory only the
// rows it must (the open unit's writes, and the committed rows not yet
// flushed) and a bounded cache of flushed rows; everything else is read
// from the Source when a unit asks for it. Backend.Load gives a table its
// Source (Table.Page).
//
// A Source is called only on the store's goroutine, and never while a
// flush is writing. Its errors are I/O errors of the backend: the store
// fails for good on the first one (see Store.fail).
type Source[K comparable, V any] interface {
	// Get reads the flushed row of k.
	Get(k K) (V, bool, error)
	// Keys lists every flushed key, in no particular order. Only the
	// auditor and inspectors list whole tables.
	Keys() ([]K, error)
	// Part lists the flushed keys of partition p of the table's
	// partitioning i (the order the table was made with), in no
	// particular order.
	Part(i int, p string) ([]K, error)
	// Count is the number of flushed rows.
	Count() (int, error)
}

// SeqRange is what a paged run queue's Source also reports, so that open
// can set the queue's cursors without reading its rows.
type SeqRange interface {
	// SeqRange returns the lowest and highest flushed sequence numbers
	// and the number of rows (0, 0, 0 for none).
	SeqRange() (lo, hi uint64, n int, err error)
}

// CListRanger is what a paged c-list's Source may also do: list a vat's
// entries in a range of krefs or of vrefs, on the backend's indexes, so
// that the kernel can find a vat's promises or its ephemeral exports
// among a million durable ones without reading them all.
type CListRanger interface {
	// KRefRange lists the flushed keys of vat's entries with lo <= kref < hi.
	KRefRange(vat, lo, hi string) ([]CListKey, error)
	// VRefRange lists the flushed keys of vat's entries with lo <= vref < hi.
	VRefRange(vat, lo, hi string) ([]CListKey, error)
}

// DefaultCacheRows is the most flushed rows a paged table caches when
// Options.CacheRows is zero. About 200 bytes a row: some 13 MiB a table.
const DefaultCacheRows = 1 << 16

// Page makes t a paged table over src, caching at most cacheRows flushed
// rows (0: none; a backend whose reads are map lookups needs no cache).
// A backend calls it from Load, on a table no unit has touched.
//
// INVARIANT: a paged table's committed view is src, overridden by the
// committed rows not yet flushed: base holds the dirty keys that exist,
// and a dirty key missing from base is deleted. Every other row of base,
// and every key of absent, equals what src holds: the cache is filled
// only from src and by flushes, and an abort touches only the overlay,
// so no cached row can go stale.
func (t *Table[K, V]) Page(src Source[K, V], cacheRows int) {
	if len(t.base) != 0 || t.over.len() != 0 || t.dirty.len() != 0 {
		panic(fmt.Sprintf("persistence: Page of table %s after it was used", t.name))
	}
	t.src, t.cacheRows = src, max(cacheRows, 0)
	t.absent = make(map[K]struct{})
}

// PromiseVRefKey reports whether a by-vref key names a promise (p+N,
// p-N): the part of the by-vref index that both backends keep resident
// (SetResident).
//
// INVARIANT: a c-list entry's vref is a promise vref exactly when its kref
// is a promise (kpN): the kernel makes them so, and the auditor checks it.
// So a backend lists these entries by kref, on its index.
func PromiseVRefKey(k VRefKey) bool { return strings.HasPrefix(k.VRef, "p") }

// SetResident makes the keys for which resident is true a part of a paged
// derived table that it holds whole in memory, and installs their flushed
// rows, which load lists (every one of them: a missing one would read as
// absent). A read of such a key never goes to the backend. A backend
// calls it from Load, after Page, for a small part of a big table that the
// kernel asks about on most cranks and mostly finds absent. Only a derived
// table may have one: its resident rows are never flushed, so they need
// no dirty set.
//
// INVARIANT: res holds every committed row whose key is resident; Verify
// checks it against the backend.
func (t *Table[K, V]) SetResident(resident func(K) bool, load func(add func(K, V)) error) error {
	if t.src == nil || !t.derived {
		panic(fmt.Sprintf("persistence: SetResident of table %s, which is not a paged derived table", t.name))
	}
	t.resident, t.res = resident, make(map[K]V)
	return load(func(k K, v V) {
		if resident(k) {
			t.res[k] = v
		}
	})
}

// Paged reports whether t reads through a Source.
func (t *Table[K, V]) Paged() bool { return t.src != nil }

// committed reads k as the committed view holds it: the open unit's
// writes are not consulted.
func (t *Table[K, V]) committed(k K) (V, bool) {
	if t.resident != nil && t.resident(k) {
		v, ok := t.res[k] // held whole: not there is not anywhere
		return v, ok
	}
	if v, ok := t.base[k]; ok {
		return v, true
	}
	var zero V
	if t.src == nil {
		return zero, false
	}
	if t.dirty.has(k) {
		return zero, false // deleted, and the delete is not flushed yet
	}
	if _, ok := t.absent[k]; ok {
		return zero, false
	}
	if t.unflushedKey != nil && t.unflushedKey(k) {
		return zero, false
	}
	if t.onRead != nil {
		t.onRead()
	}
	v, ok, err := t.src.Get(k)
	if err != nil {
		t.fail(fmt.Errorf("table %s: read %v: %w", t.name, k, err))
		return zero, false
	}
	if t.cacheRows == 0 {
		return v, ok
	}
	if ok {
		t.base[k] = v
		t.baseHW = max(t.baseHW, len(t.base))
	} else {
		t.absent[k] = struct{}{}
	}
	t.trim(2 * t.cacheRows)
	return v, ok
}

// trim evicts cached rows once more than limit are held, down to half the
// cache's size: evicting in batches keeps the cost per read constant. Only
// flushed rows are evicted; the dirty ones are the only copy until their
// flush.
func (t *Table[K, V]) trim(limit int) {
	if len(t.absent) > limit {
		t.absent = make(map[K]struct{})
	}
	if len(t.base)-t.dirty.len() <= limit {
		return
	}
	target := t.cacheRows / 2
	for k := range t.base {
		if len(t.base)-t.dirty.len() <= target {
			break
		}
		if t.dirty.has(k) {
			continue
		}
		delete(t.base, k)
	}
	t.shrinkBase()
}

// afterFlush runs once a flush has written the dirty rows: they now equal
// the backend, so they stay on as cache, within its bound.
func (t *Table[K, V]) afterFlush() {
	if t.src == nil {
		return
	}
	if t.cacheRows == 0 {
		// No cache: with the dirty set empty, base holds only what the
		// flush just wrote, and none of it need stay.
		if len(t.base) > 0 {
			t.base = reuseMap(t.base)
		}
		return
	}
	t.trim(t.cacheRows)
}

// fail records a read error of the backend on the store.
func (t *Table[K, V]) fail(err error) {
	if t.onFail != nil {
		t.onFail(err)
		return
	}
	panic(fmt.Sprintf("persistence: %v", err))
}

// pagedKeys lists the keys as the open unit sees them, for a paged table,
// keeping those for which keep is true (nil keeps all); flushed lists the
// flushed keys to start from.
func (t *Table[K, V]) pagedKeys(flushed []K, keep func(K) bool) []K {
	out := make([]K, 0, len(flushed))
	// A flushed key is still there unless the open unit or an unflushed
	// one deleted it: no read of the backend is needed to know. Resident
	// keys are listed from res instead, which is their committed view.
	for k := range t.res {
		if keep != nil && !keep(k) {
			continue
		}
		if c, ok := t.over.get(k); !ok || !c.del {
			out = append(out, k)
		}
	}
	for _, k := range flushed {
		if t.resident != nil && t.resident(k) {
			continue
		}
		if c, ok := t.over.get(k); ok {
			if !c.del {
				out = append(out, k)
			}
			continue
		}
		if t.dirty.has(k) {
			if _, ok := t.base[k]; !ok {
				continue
			}
		}
		out = append(out, k)
	}
	// Keys written since the flush may be new. They are few, and most
	// listings (a crank's GC asks for an object's holders) have none: the
	// set of keys listed so far is built only when one turns up.
	var seen map[K]struct{}
	add := func(k K) {
		if keep != nil && !keep(k) {
			return
		}
		if seen == nil {
			seen = make(map[K]struct{}, len(out))
			for _, x := range out {
				seen[x] = struct{}{}
			}
		}
		if _, dup := seen[k]; dup {
			return
		}
		seen[k] = struct{}{}
		if _, ok := t.get(k); ok {
			out = append(out, k)
		}
	}
	for k := range t.dirty.all {
		add(k)
	}
	for k := range t.over.all {
		add(k)
	}
	return out
}

// pagedLen counts the rows as the open unit sees them, for a paged table:
// the flushed count, corrected for every key written since the flush.
func (t *Table[K, V]) pagedLen() int {
	n, err := t.src.Count()
	if err != nil {
		t.fail(fmt.Errorf("table %s: count: %w", t.name, err))
		return 0
	}
	seen := make(map[K]struct{}, t.dirty.len()+t.over.len())
	adjust := func(k K) {
		if _, dup := seen[k]; dup {
			return
		}
		seen[k] = struct{}{}
		_, was, err := t.src.Get(k)
		if err != nil {
			t.fail(fmt.Errorf("table %s: read %v: %w", t.name, k, err))
			return
		}
		_, is := t.get(k)
		switch {
		case is && !was:
			n++
		case was && !is:
			n--
		}
	}
	for k := range t.dirty.all {
		adjust(k)
	}
	for k := range t.over.all {
		adjust(k)
	}
	return n
}
