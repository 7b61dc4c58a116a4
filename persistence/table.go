package persistence

// table is one typed table of the store, kept in memory in three layers:
//
//   - base: the committed view (what the last committed crank left);
//   - over: the open crank's writes, read before base;
//   - dirty: keys whose base value changed since the last flush to SQLite.
//
// A crank reads and writes through over. Commit folds over into base and
// marks the keys dirty; abort drops over, so an aborted crank can leave no
// trace in memory (invariant 2: there is no write-through cache to
// go stale). A flush writes the dirty keys' base values to SQLite.
//
// A table may be partitioned (partOf != nil): then it also keeps, for base,
// the set of keys in each partition, so that "every c-list entry of vat X"
// is a lookup rather than a scan of the whole table.
type table[K comparable, V any] struct {
	name   string
	base   map[K]V
	over   map[K]change[V]
	dirty  map[K]struct{}
	partOf func(K) string
	byPart map[string]map[K]struct{}
}

// change is one pending write of the open crank: a new value, or a delete.
type change[V any] struct {
	v   V
	del bool
}

func newTable[K comparable, V any](name string, partOf func(K) string) *table[K, V] {
	t := &table[K, V]{
		name:   name,
		base:   make(map[K]V),
		over:   make(map[K]change[V]),
		dirty:  make(map[K]struct{}),
		partOf: partOf,
	}
	if partOf != nil {
		t.byPart = make(map[string]map[K]struct{})
	}
	return t
}

// get reads k as the open crank sees it.
func (t *table[K, V]) get(k K) (V, bool) {
	if c, ok := t.over[k]; ok {
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
func (t *table[K, V]) has(k K) bool {
	_, ok := t.get(k)
	return ok
}

// put writes k in the open crank.
func (t *table[K, V]) put(k K, v V) { t.over[k] = change[V]{v: v} }

// del deletes k in the open crank. Deleting a missing key is a no-op.
func (t *table[K, V]) del(k K) {
	if _, inBase := t.base[k]; !inBase {
		if _, inOver := t.over[k]; !inOver {
			return
		}
	}
	t.over[k] = change[V]{del: true}
}

// fold makes the open crank's writes part of the committed view.
func (t *table[K, V]) fold() {
	for k, c := range t.over {
		_, existed := t.base[k]
		if c.del {
			if !existed {
				// Created and deleted inside the crank: nothing reached base,
				// so SQLite need not hear of it unless an earlier unflushed
				// crank touched it (then it is already dirty).
				continue
			}
			delete(t.base, k)
			if t.partOf != nil {
				p := t.partOf(k)
				if set := t.byPart[p]; set != nil {
					delete(set, k)
					if len(set) == 0 {
						delete(t.byPart, p)
					}
				}
			}
		} else {
			t.base[k] = c.v
			if t.partOf != nil && !existed {
				p := t.partOf(k)
				set := t.byPart[p]
				if set == nil {
					set = make(map[K]struct{})
					t.byPart[p] = set
				}
				set[k] = struct{}{}
			}
		}
		t.dirty[k] = struct{}{}
	}
	clear(t.over)
}

// abort drops the open crank's writes.
func (t *table[K, V]) abort() { clear(t.over) }

// loadBase installs a row read from SQLite into the committed view.
func (t *table[K, V]) loadBase(k K, v V) {
	t.base[k] = v
	if t.partOf != nil {
		p := t.partOf(k)
		set := t.byPart[p]
		if set == nil {
			set = make(map[K]struct{})
			t.byPart[p] = set
		}
		set[k] = struct{}{}
	}
}

// keysIn returns the keys of partition p as the open crank sees them, in no
// particular order (callers sort when order matters).
func (t *table[K, V]) keysIn(p string) []K {
	var out []K
	for k := range t.byPart[p] {
		if c, ok := t.over[k]; ok && c.del {
			continue
		}
		out = append(out, k)
	}
	for k, c := range t.over {
		if c.del || t.partOf(k) != p {
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
func (t *table[K, V]) keys() []K {
	out := make([]K, 0, len(t.base)+len(t.over))
	for k := range t.base {
		if c, ok := t.over[k]; ok && c.del {
			continue
		}
		out = append(out, k)
	}
	for k, c := range t.over {
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
func (t *table[K, V]) len() int {
	n := len(t.base)
	for k, c := range t.over {
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

// dirtyKeys splits the keys changed since the last flush into those to
// upsert (present in base) and those to delete. The dirty set is kept until
// clearDirty, so a failed flush loses nothing.
func (t *table[K, V]) dirtyKeys() (upserts []K, deletes []K) {
	for k := range t.dirty {
		if _, ok := t.base[k]; ok {
			upserts = append(upserts, k)
		} else {
			deletes = append(deletes, k)
		}
	}
	return upserts, deletes
}

// clearDirty forgets the dirty set once a flush has committed it.
func (t *table[K, V]) clearDirty() { clear(t.dirty) }

// pending reports whether the open crank has written anything.
func (t *table[K, V]) pending() bool { return len(t.over) > 0 }
