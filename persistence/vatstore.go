package persistence

import (
	"github.com/google/btree"
)

// VatstoreTable is the per-vat key-value store that liveslots keeps its
// durable state in. It has the same three layers as table (base, the open
// crank's writes, dirty keys), but its base is ordered per vat so that
// getNextKey, which liveslots uses to walk collections, is a tree seek
// rather than a sort. Its overlay and dirty set are smallMaps, as a
// table's are: liveslots saves its counters there on most deliveries.
type VatstoreTable struct {
	base  map[string]*btree.BTreeG[vsItem]
	over  smallMap[VatstoreKey, change[string]]
	dirty smallMap[VatstoreKey, struct{}]

	// A paged vatstore (see Page) keeps its layers in paged instead, and
	// every method below hands over to it.
	paged    *Table[VatstoreKey, string]
	pagedSrc VatstoreSource
	onFail   func(error)
	onRead   func()
}

type vsItem struct{ key, value string }

func vsLess(a, b vsItem) bool { return a.key < b.key }

func newVatstoreTable() *VatstoreTable {
	return &VatstoreTable{
		base: make(map[string]*btree.BTreeG[vsItem]),
	}
}

func (t *VatstoreTable) baseGet(vat, key string) (string, bool) {
	tr := t.base[vat]
	if tr == nil {
		return "", false
	}
	it, ok := tr.Get(vsItem{key: key})
	return it.value, ok
}

func (t *VatstoreTable) get(vat, key string) (string, bool) {
	if t.paged != nil {
		return t.paged.get(VatstoreKey{vat, key})
	}
	if c, ok := t.over.get(VatstoreKey{vat, key}); ok {
		return c.v, !c.del
	}
	return t.baseGet(vat, key)
}

func (t *VatstoreTable) set(vat, key, value string) {
	if t.paged != nil {
		t.paged.put(VatstoreKey{vat, key}, value)
		return
	}
	t.over.set(VatstoreKey{vat, key}, change[string]{v: value})
}

func (t *VatstoreTable) del(vat, key string) {
	if t.paged != nil {
		t.paged.del(VatstoreKey{vat, key})
		return
	}
	k := VatstoreKey{vat, key}
	if _, ok := t.baseGet(vat, key); !ok {
		if !t.over.has(k) {
			return
		}
	}
	t.over.set(k, change[string]{del: true})
}

// nextKey returns the smallest key of vat strictly greater than prior.
func (t *VatstoreTable) nextKey(vat, prior string) (string, bool) {
	if t.paged != nil {
		return t.pagedNextKey(vat, prior)
	}
	var best string
	found := false
	for k, c := range t.over.all {
		if c.del || k.Vat != vat || k.Key <= prior {
			continue
		}
		if !found || k.Key < best {
			best, found = k.Key, true
		}
	}
	if tr := t.base[vat]; tr != nil {
		tr.AscendGreaterOrEqual(vsItem{key: prior}, func(it vsItem) bool {
			if it.key == prior {
				return true
			}
			if found && it.key >= best {
				return false
			}
			if c, ok := t.over.get(VatstoreKey{vat, it.key}); ok && c.del {
				return true // deleted by the open crank; keep looking
			}
			best, found = it.key, true
			return false
		})
	}
	return best, found
}

// keysOf returns every key of vat as the open crank sees them, sorted.
func (t *VatstoreTable) keysOf(vat string) []string {
	var out []string
	prior := ""
	// The empty key is a legal key; check it before walking with nextKey.
	if _, ok := t.get(vat, ""); ok {
		out = append(out, "")
	}
	for {
		k, ok := t.nextKey(vat, prior)
		if !ok {
			return out
		}
		out = append(out, k)
		prior = k
	}
}

// vats returns the vats that have at least one entry, as the open crank
// sees them (for the auditor: entries of a vat with no vat row).
func (t *VatstoreTable) vats() []string {
	if t.paged != nil {
		return t.pagedVats()
	}
	var out []string
	seen := map[string]bool{}
	consider := func(vat string) {
		if seen[vat] {
			return
		}
		seen[vat] = true
		if _, ok := t.get(vat, ""); ok {
			out = append(out, vat)
		} else if _, ok := t.nextKey(vat, ""); ok {
			out = append(out, vat)
		}
	}
	for vat := range t.base {
		consider(vat)
	}
	for k, c := range t.over.all {
		if !c.del {
			consider(k.Vat)
		}
	}
	return out
}

func (t *VatstoreTable) fold() {
	if t.paged != nil {
		t.paged.fold()
		return
	}
	if t.over.len() == 0 {
		return // as Table.fold
	}
	for k, c := range t.over.all {
		tr := t.base[k.Vat]
		if c.del {
			if tr == nil {
				continue
			}
			if _, existed := tr.Delete(vsItem{key: k.Key}); !existed {
				continue
			}
			if tr.Len() == 0 {
				delete(t.base, k.Vat)
			}
		} else {
			if tr == nil {
				tr = btree.NewG(32, vsLess)
				t.base[k.Vat] = tr
			}
			tr.ReplaceOrInsert(vsItem{key: k.Key, value: c.v})
		}
		t.dirty.set(k, struct{}{})
	}
	if t.over.len() > 0 {
		t.over.reset()
	}
}

func (t *VatstoreTable) setOnFail(f func(error)) {
	if t.paged != nil {
		t.paged.setOnFail(f)
	}
	t.onFail = f
}

func (t *VatstoreTable) isPaged() bool { return t.paged != nil }

func (t *VatstoreTable) setOnRead(f func()) {
	if t.paged != nil {
		t.paged.setOnRead(f)
	}
	t.onRead = f
}

func (t *VatstoreTable) heldRows() int {
	if t.paged != nil {
		return t.paged.heldRows()
	}
	return 0
}

func (t *VatstoreTable) verifyCache(add func(string, ...any) bool) bool {
	if t.paged != nil {
		return t.paged.verifyCache(add)
	}
	return true
}

func (t *VatstoreTable) abort() {
	if t.paged != nil {
		t.paged.abort()
		return
	}
	if t.over.len() > 0 {
		t.over.reset()
	}
}

func (t *VatstoreTable) loadBase(vat, key, value string) {
	tr := t.base[vat]
	if tr == nil {
		tr = btree.NewG(32, vsLess)
		t.base[vat] = tr
	}
	tr.ReplaceOrInsert(vsItem{key: key, value: value})
}

// Name is the table's name, as the SQLite schema has it.
func (t *VatstoreTable) Name() string { return "vatstore" }

// Load installs an entry read from the backend, as Table.Load does.
func (t *VatstoreTable) Load(k VatstoreKey, value string) { t.loadBase(k.Vat, k.Key, value) }

// Deletes calls fn with every entry deleted since the last flush.
func (t *VatstoreTable) Deletes(fn func(VatstoreKey)) {
	if t.paged != nil {
		t.paged.Deletes(fn)
		return
	}
	for k := range t.dirty.all {
		if _, ok := t.baseGet(k.Vat, k.Key); !ok {
			fn(k)
		}
	}
}

// Upserts calls fn with every entry written since the last flush.
func (t *VatstoreTable) Upserts(fn func(VatstoreKey, string)) {
	if t.paged != nil {
		t.paged.Upserts(fn)
		return
	}
	for k := range t.dirty.all {
		if v, ok := t.baseGet(k.Vat, k.Key); ok {
			fn(k, v)
		}
	}
}

func (t *VatstoreTable) clearDirty() {
	if t.paged != nil {
		t.paged.clearDirty()
		return
	}
	if t.dirty.len() > 0 {
		t.dirty.reset()
	}
}

func (t *VatstoreTable) pending() bool {
	if t.paged != nil {
		return t.paged.pending()
	}
	return t.over.len() > 0
}

func (t *VatstoreTable) dirtyLen() int {
	if t.paged != nil {
		return t.paged.dirtyLen()
	}
	return t.dirty.len()
}

// deleteBase removes an entry from a resident vatstore's committed view:
// the in-memory backend applies a flush's deletes with it.
func (t *VatstoreTable) deleteBase(vat, key string) {
	tr := t.base[vat]
	if tr == nil {
		return
	}
	tr.Delete(vsItem{key: key})
	if tr.Len() == 0 {
		delete(t.base, vat)
	}
}

// len counts every entry of the committed view (for Verify and stats).
func (t *VatstoreTable) baseLen() int {
	n := 0
	for _, tr := range t.base {
		n += tr.Len()
	}
	return n
}
