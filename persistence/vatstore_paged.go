package persistence

import (
	"fmt"
)

// VatstoreSource is the Source of a paged vatstore: a Source over its
// entries, partitioned by vat (partition 0), that can also seek.
type VatstoreSource interface {
	Source[VatstoreKey, string]
	// NextKey returns vat's smallest flushed key strictly greater than
	// prior.
	NextKey(vat, prior string) (string, bool, error)
	// Vats lists the vats with at least one flushed entry.
	Vats() ([]string, error)
}

// Page makes the vatstore a paged table over src, as Table.Page does: a
// vat's durable state grows with its work (liveslots keeps every durable
// object and collection entry here), so a store keeps in memory only
// what is unflushed and a bounded cache. Reads, writes and the layers
// are a Table's, partitioned by vat; nextKey merges the backend's seek
// with the unflushed and open writes.
func (t *VatstoreTable) Page(src VatstoreSource, cacheRows int) {
	if len(t.base) != 0 || t.over.len() != 0 || t.dirty.len() != 0 {
		panic("persistence: Page of the vatstore after it was used")
	}
	pt := newTable[VatstoreKey, string](t.Name(), func(k VatstoreKey) string { return k.Vat })
	pt.Page(src, cacheRows)
	pt.onFail, pt.onRead = t.onFail, t.onRead
	t.paged, t.pagedSrc = pt, src
}

// Paged reports whether the vatstore reads through a Source.
func (t *VatstoreTable) Paged() bool { return t.paged != nil }

// flushedLive reports whether a key the backend holds is still there as
// the open unit sees it: unless the open unit or an unflushed one deleted
// it. It needs no read of the backend.
func (t *Table[K, V]) flushedLive(k K) bool {
	if c, ok := t.over.get(k); ok {
		return !c.del
	}
	if t.dirty.has(k) {
		_, ok := t.base[k]
		return ok
	}
	return true
}

// pagedNextKey is nextKey for a paged vatstore.
func (t *VatstoreTable) pagedNextKey(vat, prior string) (string, bool) {
	pt := t.paged
	best, found := "", false
	// The backend's next key, skipping those deleted since the flush.
	for k := prior; ; {
		nk, ok, err := t.pagedSrc.NextKey(vat, k)
		if err != nil {
			pt.fail(fmt.Errorf("vatstore: next key of vat %s after %q: %w", vat, k, err))
			return "", false
		}
		if !ok {
			break
		}
		if pt.flushedLive(VatstoreKey{vat, nk}) {
			best, found = nk, true
			break
		}
		k = nk
	}
	// A key written since the flush may come first.
	consider := func(k VatstoreKey) {
		if k.Vat != vat || k.Key <= prior || (found && k.Key >= best) {
			return
		}
		if _, ok := pt.get(k); ok {
			best, found = k.Key, true
		}
	}
	for k := range pt.dirty.all {
		consider(k)
	}
	for k := range pt.over.all {
		consider(k)
	}
	return best, found
}

// pagedVats is vats for a paged vatstore.
func (t *VatstoreTable) pagedVats() []string {
	flushed, err := t.pagedSrc.Vats()
	if err != nil {
		t.paged.fail(fmt.Errorf("vatstore: list vats: %w", err))
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
	for _, v := range flushed {
		consider(v)
	}
	for k := range t.paged.dirty.all {
		consider(k.Vat)
	}
	for k := range t.paged.over.all {
		consider(k.Vat)
	}
	return out
}

// memVatstore is the in-memory backend's vatstore: a resident
// VatstoreTable (ordered per vat) that is the Source of the store's paged
// one.
type memVatstore struct {
	truth *VatstoreTable
}

var _ VatstoreSource = (*memVatstore)(nil)

func (m *memVatstore) Get(k VatstoreKey) (string, bool, error) {
	v, ok := m.truth.baseGet(k.Vat, k.Key)
	return v, ok, nil
}

func (m *memVatstore) NextKey(vat, prior string) (string, bool, error) {
	k, ok := m.truth.nextKey(vat, prior)
	return k, ok, nil
}

func (m *memVatstore) Keys() ([]VatstoreKey, error) {
	var out []VatstoreKey
	for vat, tr := range m.truth.base {
		tr.Ascend(func(it vsItem) bool {
			out = append(out, VatstoreKey{vat, it.key})
			return true
		})
	}
	return out, nil
}

func (m *memVatstore) Part(i int, vat string) ([]VatstoreKey, error) {
	if i != 0 {
		return nil, fmt.Errorf("vatstore has no partitioning %d", i)
	}
	var out []VatstoreKey
	if tr := m.truth.base[vat]; tr != nil {
		tr.Ascend(func(it vsItem) bool {
			out = append(out, VatstoreKey{vat, it.key})
			return true
		})
	}
	return out, nil
}

func (m *memVatstore) Count() (int, error) { return m.truth.baseLen(), nil }

func (m *memVatstore) Vats() ([]string, error) {
	out := make([]string, 0, len(m.truth.base))
	for vat := range m.truth.base {
		out = append(out, vat)
	}
	return out, nil
}

// apply moves the vatstore entries written since the last flush into m.
func (m *memVatstore) apply(t *VatstoreTable) {
	if t.dirtyLen() == 0 {
		return
	}
	t.Deletes(func(k VatstoreKey) { m.truth.deleteBase(k.Vat, k.Key) })
	t.Upserts(func(k VatstoreKey, v string) { m.truth.loadBase(k.Vat, k.Key, v) })
}
