package persistence

import "fmt"

// Table is one typed table of the store, kept in memory in three layers:
//
//   - base: the committed view (what the last committed crank left);
//   - over: the open crank's writes, read before base;
//   - dirty: keys whose base value changed since the last flush to SQLite.
//
// A crank reads and writes through over. Commit folds over into base and
// marks the keys dirty; abort drops over, so an aborted crank can leave no
// trace in memory (invariant 2: there is no write-through cache to
// go stale). A flush writes the dirty keys' base values to SQLite. over
// and dirty hold a unit's few keys in a slice (smallMap): a crank writes
// one or two keys a table, and hashing them cost more than the writes.
//
// A table may be partitioned, in one or more ways (parts): then it also
// keeps, for base, the set of keys in each partition, so that "every
// c-list entry of vat X" or "every vat whose c-list holds kref K" is a
// lookup rather than a scan of the whole table.
type Table[K comparable, V any] struct {
	name   string
	base   map[K]V
	baseHW int // the most keys base has held since it was made
	over   smallMap[K, change[V]]
	dirty  smallMap[K, struct{}]
	// derived marks a table rebuilt from others on load: it never reaches
	// SQLite, so its commits mark nothing dirty.
	derived bool
	parts   []*partIndex[K]

	// Paged tables only (see Page): the backend's rows, the most flushed
	// rows base may cache, the keys known to be absent from src, and
	// where a read error goes.
	src       Source[K, V]
	cacheRows int
	absent    map[K]struct{}
	onFail    func(error)
	onRead    func()
	// unflushedKey, if set, reports a key no flushed row can have (see
	// newkeys.go): its read needs no backend.
	unflushedKey func(K) bool
	// resident, if set, names the keys a paged derived table holds all
	// of in memory, in res (SetResident): never read from src, never
	// evicted, never marked dirty.
	resident func(K) bool
	res      map[K]V
}

// partIndex is one partitioning of a table's base keys.
type partIndex[K comparable] struct {
	of   func(K) string
	sets map[string]*partition[K]
}

// smallPart is the most keys a partition keeps in a slice before it
// switches to a map. Most partitions are tiny (the vats holding one kref:
// usually one or two), and a Go map costs a few hundred bytes even for
// one key, which at a million objects is most of the store's memory.
const smallPart = 8

// partition is the set of base keys in one partition: a slice while
// small, a map beyond, with the most keys the map has held (see
// shrinkBase).
type partition[K comparable] struct {
	small []K
	keys  map[K]struct{}
	hw    int
}

func (p *partition[K]) len() int {
	if p.keys != nil {
		return len(p.keys)
	}
	return len(p.small)
}

func (p *partition[K]) add(k K) {
	if p.keys != nil {
		p.keys[k] = struct{}{}
		p.hw = max(p.hw, len(p.keys))
		return
	}
	for _, x := range p.small {
		if x == k {
			return
		}
	}
	if len(p.small) < smallPart {
		p.small = append(p.small, k)
		return
	}
	p.keys = make(map[K]struct{}, 2*smallPart)
	for _, x := range p.small {
		p.keys[x] = struct{}{}
	}
	p.keys[k] = struct{}{}
	p.small, p.hw = nil, len(p.keys)
}

func (p *partition[K]) remove(k K) {
	if p.keys == nil {
		for i, x := range p.small {
			if x == k {
				p.small = append(p.small[:i], p.small[i+1:]...)
				return
			}
		}
		return
	}
	delete(p.keys, k)
	if p.hw > maxKeptMap && len(p.keys)*4 <= p.hw {
		// As in shrinkBase: keysIn ranges over the set.
		fresh := make(map[K]struct{}, len(p.keys))
		for k := range p.keys {
			fresh[k] = struct{}{}
		}
		p.keys, p.hw = fresh, len(fresh)
	}
}

func (p *partition[K]) has(k K) bool {
	if p.keys != nil {
		_, ok := p.keys[k]
		return ok
	}
	for _, x := range p.small {
		if x == k {
			return true
		}
	}
	return false
}

func (p *partition[K]) each(fn func(K)) {
	if p.keys == nil {
		for _, k := range p.small {
			fn(k)
		}
		return
	}
	for k := range p.keys {
		fn(k)
	}
}

// change is one pending write of the open crank: a new value, or a delete.
type change[V any] struct {
	v   V
	del bool
}

func newTable[K comparable, V any](name string, partOf ...func(K) string) *Table[K, V] {
	t := &Table[K, V]{
		name: name,
		base: make(map[K]V),
	}
	for _, of := range partOf {
		t.parts = append(t.parts, &partIndex[K]{of: of, sets: make(map[string]*partition[K])})
	}
	return t
}

// get reads k as the open crank sees it.
func (t *Table[K, V]) get(k K) (V, bool) {
	if c, ok := t.over.get(k); ok {
		if c.del {
			var zero V
			return zero, false
		}
		return c.v, true
	}
	if t.src != nil {
		return t.committed(k)
	}
	v, ok := t.base[k]
	return v, ok
}

// getResident is get for a table that is never paged (Page panics for
// one after use; this panics for one paged). It never reaches a Source, so
// the key does not escape: a caller may build it on the stack. (The
// kernel looks up a meta key built from a kpid at every settlement.)
func (t *Table[K, V]) getResident(k K) (V, bool) {
	if t.src != nil {
		panic(fmt.Sprintf("persistence: getResident of paged table %s", t.name))
	}
	if c, ok := t.over.get(k); ok {
		if c.del {
			var zero V
			return zero, false
		}
		return c.v, true
	}
	v, ok := t.base[k]
	return v, ok
}

// has reports whether k exists as the open crank sees it.
func (t *Table[K, V]) has(k K) bool {
	_, ok := t.get(k)
	return ok
}

// put writes k in the open crank.
func (t *Table[K, V]) put(k K, v V) { t.over.set(k, change[V]{v: v}) }

// del deletes k in the open crank. Deleting a missing key is a no-op.
func (t *Table[K, V]) del(k K) {
	if t.src != nil {
		if !t.has(k) {
			return
		}
		t.over.set(k, change[V]{del: true})
		return
	}
	if _, inBase := t.base[k]; !inBase {
		if !t.over.has(k) {
			return
		}
	}
	t.over.set(k, change[V]{del: true})
}

// fold makes the open crank's writes part of the committed view.
func (t *Table[K, V]) fold() {
	if t.over.len() == 0 {
		// Most units touch a few of the fourteen tables. Ranging over an
		// empty map still starts an iterator (and draws a random start),
		// and clearing one still walks its groups: at a commit a crank,
		// that was a tenth of the commit.
		return
	}
	shrink := false
	paged := t.src != nil
	for k, c := range t.over.all {
		if t.resident != nil && t.resident(k) {
			// The committed view of a resident key is res alone.
			if c.del {
				delete(t.res, k)
			} else {
				t.res[k] = c.v
			}
			continue
		}
		var existed bool
		switch {
		case !paged:
			_, existed = t.base[k]
		case c.del:
			// Only a delete needs to know: a put of a paged table keeps
			// no partitions, and asking the backend would cost a read
			// for every new row.
			_, existed = t.committed(k)
		}
		if c.del {
			if !existed {
				// Created and deleted inside the crank: nothing reached base,
				// so SQLite need not hear of it unless an earlier unflushed
				// crank touched it (then it is already dirty).
				continue
			}
			delete(t.base, k)
			if !paged {
				t.dropFromParts(k)
			}
			shrink = true
		} else {
			t.base[k] = c.v
			if paged {
				delete(t.absent, k)
			}
			if !existed {
				t.baseHW = max(t.baseHW, len(t.base))
				if !paged {
					t.addToParts(k)
				}
			}
		}
		// A paged derived table must mark its keys too: until the flush
		// of the rows it is derived from, base is their only copy.
		if !t.derived || paged {
			t.dirty.set(k, struct{}{})
		}
	}
	t.over.reset()
	if shrink {
		t.shrinkBase()
	}
}

// shrinkBase replaces base when it holds a quarter of the most it has
// held, and that was more than maxKeptMap keys: a Go map keeps its
// capacity when keys are deleted, and ranging over it (keys, the
// auditor's scans, GCActions every crank) costs its capacity, not its
// length. Copying the live rows costs as much as the deletes that made
// the room, so the cost per delete stays constant.
func (t *Table[K, V]) shrinkBase() {
	if t.baseHW <= maxKeptMap || len(t.base)*4 > t.baseHW {
		return
	}
	fresh := make(map[K]V, len(t.base))
	for k, v := range t.base {
		fresh[k] = v
	}
	t.base, t.baseHW = fresh, len(fresh)
}

func (t *Table[K, V]) addToParts(k K) {
	for _, pi := range t.parts {
		p := pi.of(k)
		set := pi.sets[p]
		if set == nil {
			set = &partition[K]{}
			pi.sets[p] = set
		}
		set.add(k)
	}
}

func (t *Table[K, V]) dropFromParts(k K) {
	for _, pi := range t.parts {
		p := pi.of(k)
		set := pi.sets[p]
		if set == nil {
			continue
		}
		set.remove(k)
		if set.len() == 0 {
			delete(pi.sets, p)
		}
	}
}

// abort drops the open crank's writes.
func (t *Table[K, V]) abort() {
	if t.over.len() > 0 {
		t.over.reset()
	}
}

// maxKeptMap is the most keys a per-unit map (a table's overlay or dirty
// set, the kernel's free candidates) may have held and still be cleared
// for reuse after its unit. A map that held more is replaced by a fresh
// one: a Go map keeps its capacity when cleared, and ranging over it or
// clearing it again costs that capacity, so one unit that wrote 100k rows
// would otherwise slow every later unit for the life of the store.
const maxKeptMap = 1024

// reuseMap empties m for the next unit: cleared in place while small,
// replaced when it grew past maxKeptMap.
func reuseMap[M ~map[K]V, K comparable, V any](m M) M {
	if len(m) > maxKeptMap {
		return make(M)
	}
	clear(m)
	return m
}

// Name is the table's name, as the SQLite schema has it.
func (t *Table[K, V]) Name() string { return t.name }

// Load installs a row read from the backend into the committed view. A
// backend calls it only from Backend.Load, on a store that no unit has
// touched yet.
func (t *Table[K, V]) Load(k K, v V) { t.loadBase(k, v) }

// Deletes calls fn with every key deleted since the last flush, for a
// backend's Flush.
func (t *Table[K, V]) Deletes(fn func(K)) {
	for k := range t.dirty.all {
		if _, ok := t.base[k]; !ok {
			fn(k)
		}
	}
}

// Upserts calls fn with every row written since the last flush, as the
// committed view holds it now, for a backend's Flush.
func (t *Table[K, V]) Upserts(fn func(K, V)) {
	for k := range t.dirty.all {
		if v, ok := t.base[k]; ok {
			fn(k, v)
		}
	}
}

// loadBase installs a row read from SQLite into the committed view.
func (t *Table[K, V]) loadBase(k K, v V) {
	if _, existed := t.base[k]; existed {
		t.base[k] = v
		return
	}
	t.base[k] = v
	t.baseHW = max(t.baseHW, len(t.base))
	t.addToParts(k)
}

// keysIn returns the keys of partition p of partitioning i as the open
// crank sees them, in no particular order (callers sort when order
// matters).
func (t *Table[K, V]) keysIn(i int, p string) []K {
	pi := t.parts[i]
	if t.src != nil {
		flushed, err := t.src.Part(i, p)
		if err != nil {
			t.fail(fmt.Errorf("table %s: list partition %d %q: %w", t.name, i, p, err))
		}
		return t.pagedKeys(flushed, func(k K) bool { return pi.of(k) == p })
	}
	var out []K
	if set := pi.sets[p]; set != nil {
		set.each(func(k K) {
			if c, ok := t.over.get(k); ok && c.del {
				return
			}
			out = append(out, k)
		})
	}
	for k, c := range t.over.all {
		if c.del || pi.of(k) != p {
			continue
		}
		if _, inBase := t.base[k]; inBase {
			continue // already listed from the partition index
		}
		out = append(out, k)
	}
	return out
}

// keys returns every key as the open crank sees it, in no particular order.
func (t *Table[K, V]) keys() []K {
	if t.src != nil {
		flushed, err := t.src.Keys()
		if err != nil {
			t.fail(fmt.Errorf("table %s: list keys: %w", t.name, err))
		}
		return t.pagedKeys(flushed, nil)
	}
	out := make([]K, 0, len(t.base)+t.over.len())
	for k := range t.base {
		if c, ok := t.over.get(k); ok && c.del {
			continue
		}
		out = append(out, k)
	}
	for k, c := range t.over.all {
		if c.del {
			continue
		}
		if _, inBase := t.base[k]; inBase {
			continue
		}
		out = append(out, k)
	}
	return out
}

// len is the number of rows as the open crank sees them.
func (t *Table[K, V]) len() int {
	if t.src != nil {
		return t.pagedLen()
	}
	n := len(t.base)
	for k, c := range t.over.all {
		_, inBase := t.base[k]
		switch {
		case c.del && inBase:
			n--
		case !c.del && !inBase:
			n++
		}
	}
	return n
}

// clearDirty forgets the dirty set once a flush has committed it.
func (t *Table[K, V]) clearDirty() {
	if t.dirty.len() > 0 {
		t.dirty.reset()
	}
	t.afterFlush()
}

// pending reports whether the open crank has written anything.
func (t *Table[K, V]) pending() bool { return t.over.len() > 0 }

// dirtyLen is the number of keys waiting for a flush.
func (t *Table[K, V]) dirtyLen() int { return t.dirty.len() }

// deleteBase removes a row from a resident table's committed view, as
// fold does for a delete: the in-memory backend applies a flush's deletes
// to its tables with it.
func (t *Table[K, V]) deleteBase(k K) {
	if _, ok := t.base[k]; !ok {
		return
	}
	delete(t.base, k)
	t.dropFromParts(k)
	t.shrinkBase()
}
