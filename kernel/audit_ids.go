package kernel

import "github.com/ocapgo/kernel-actors/persistence"

// Id counters. Every id the kernel hands out (koN, kpN, vN, sN, and each
// vat's imports o-N and p-N) comes from a counter that holds the next
// number, and numbers are never reused, so that a ref held outside the
// kernel (by the host, in a log, in another vat's c-list) can never come
// to name something else. A counter at or below a number in use would
// hand that number out again: the next launch would make a second ko1.
// checkCounters compares each counter with the largest number the store
// uses anywhere, not only in the table that owns the id: a kref may
// outlive its row (an import of a deleted object waiting for
// retireImport), and it must not be reused either.

// idUse is the largest number in use under one prefix, and the id that
// has it, for the problem line.
type idUse struct {
	n  uint64 // the largest number seen
	id string // the id that has it, as spelled in the store
	ok bool   // any id seen at all (n == 0 is not "none": ids start at 1)
}

// idsInUse gathers, for each of "ko", "kp", "v" and "s", the largest id
// the store names anywhere. Ids that do not parse are checkRows' and
// ref's business, and are skipped here.
type idsInUse map[string]*idUse

// note records id under its prefix if it is one of the kernel's ids. The
// prefixes are distinct first letters apart from ko and kp, which differ
// in the second, so an id matches at most one; anything else (a vref, a
// malformed id) matches none and is ignored.
func (u idsInUse) note(id string) {
	for _, prefix := range []string{"ko", "kp", "v", "s"} {
		n, ok := idNumber(id, prefix)
		if !ok {
			continue
		}
		m := u[prefix]
		if m == nil {
			m = &idUse{}
			u[prefix] = m
		}
		if !m.ok || n > m.n {
			*m = idUse{n: n, id: id, ok: true}
		}
		return
	}
}

// noteData notes every slot of a stored value or message (slots are
// krefs in kernel space).
func (u idsInUse) noteData(d persistence.Data) {
	for _, s := range d.Slots {
		u.note(s)
	}
}

// gatherIDs walks every table for the ids it names. It must see every
// place an id can be written, not only each table's key: an id that only a
// queued message, a settled value or an orphan's importer still names is
// still in use, and a counter that could hand it out again would make
// those references name a new object.
func (a *auditor) gatherIDs() idsInUse {
	u := idsInUse{}
	for _, id := range a.st.SubclusterIDs() {
		u.note(id)
	}
	// Vats and what they name: their subcluster (which may be gone) and
	// their c-lists (which may name retired objects).
	for _, id := range a.st.VatIDs() {
		u.note(id)
		row, _ := a.st.Vat(id)
		if row.Subcluster != "" {
			u.note(row.Subcluster)
		}
		for _, kref := range a.st.CListKRefs(id) {
			u.note(kref)
		}
	}
	// Objects name their owner, which is a vat id in use even if the vat
	// row were gone.
	for _, s := range a.st.ObjectKRefs() {
		u.note(s)
		o, _ := a.st.Object(s)
		if o.Owner != "" {
			u.note(o.Owner)
		}
	}
	// Promises name vats (decider, subscribers) and, once settled, any
	// kref in their value.
	for _, s := range a.st.PromiseKPIDs() {
		u.note(s)
		p, _ := a.st.Promise(s)
		if p.Decider != "" {
			u.note(p.Decider)
		}
		for _, sub := range p.Subscribers {
			u.note(sub)
		}
		u.noteData(p.Value)
	}
	// The run queue: a send names its target, result and slots; a notify
	// its vat and promise. Empty fields are the other kind's.
	for _, it := range a.st.QueueItems() {
		for _, id := range []string{it.Target, it.Message.Result, it.Vat, it.KPID} {
			if id != "" {
				u.note(id)
			}
		}
		u.noteData(it.Message.Methargs)
	}
	// Messages waiting on promises, keyed by the promise they wait on.
	for _, key := range a.st.QueuedMessageKeys() {
		m, _ := a.st.QueuedMessage(key.KPID, key.Seq)
		u.note(key.KPID)
		if m.Result != "" {
			u.note(m.Result)
		}
		u.noteData(m.Methargs)
	}
	// GC actions and reaps name vats and objects that may be gone by the
	// time their turn comes; they are in use until then.
	for _, g := range a.st.GCActions() {
		u.note(g.Vat)
		u.note(g.KRef)
	}
	for _, vat := range a.st.Reaps() {
		u.note(vat)
	}
	// Retired refs name settled promises.
	for _, id := range a.st.RetiredRemotes() {
		for _, ref := range a.st.RetiredRefs(id) {
			r, _ := a.st.RetiredRef(id, ref)
			u.note(r.KRef)
		}
	}
	// Sturdy refs name the objects their URLs redeem to.
	for _, oid := range a.st.SturdyRefOIDs() {
		kref, _ := a.st.SturdyRef(oid)
		u.note(kref)
	}
	return u
}

// checkCounters reports every id counter, kernel-wide or a vat's own, at
// or below a number in use.
func (a *auditor) checkCounters() {
	used := a.gatherIDs()
	// The kernel-wide counters, each with the prefix of the ids it hands
	// out (refs.go, launch.go) and a word for the problem line.
	for _, c := range []struct{ counter, prefix, what string }{
		{persistence.MetaNextObject, "ko", "object"},
		{persistence.MetaNextPromise, "kp", "promise"},
		{persistence.MetaNextVat, "v", "vat"},
		{persistence.MetaNextSubcluster, "s", "subcluster"},
	} {
		// PeekID, not NextID: the auditor only reads.
		next := a.st.PeekID(c.counter)
		// Ids are never reused (refs.go): the counter is past every id in
		// use, or the next allocation would hand one out twice.
		if m := used[c.prefix]; m != nil && m.n >= next {
			a.problem("id counter %s is %d, but %s is in use: the next %s would reuse an id", c.counter, next, m.id, c.what)
		}
	}
	// Each vat's own import counters (VatRow.NextObject, NextPromise),
	// against the largest o-N and p-N in its c-list. Only imports are
	// looked at: "+" vrefs are the vat's to number, and the kernel keeps
	// no counter for them.
	for _, vat := range a.st.VatIDs() {
		row, _ := a.st.Vat(vat)
		var maxObj, maxProm idUse
		for _, kref := range a.st.CListKRefs(vat) {
			e, _ := a.st.CList(vat, kref)
			// An o-N goes to maxObj, a p-N to maxProm; anything else is
			// skipped.
			m := &maxObj
			n, ok := idNumber(e.VRef, "o-")
			if !ok {
				m = &maxProm
				if n, ok = idNumber(e.VRef, "p-"); !ok {
					continue // an export, which the vat numbers, or a bad vref (countCLists says so)
				}
			}
			if !m.ok || n > m.n {
				*m = idUse{n: n, id: e.VRef, ok: true}
			}
		}
		// A vat's import vrefs are never reused either: a vat that dropped
		// o-3 must never be handed a new object as o-3 (the reason is the
		// krefs': a vref outlives what it named).
		for _, c := range []struct {
			name string
			next uint64
			max  idUse
		}{{"NextObject", row.NextObject, maxObj}, {"NextPromise", row.NextPromise, maxProm}} {
			if c.max.ok && c.max.n >= c.next {
				a.problem("vat %s: import counter %s is %d, but its c-list holds %s: the next import would reuse a vref",
					vat, c.name, c.next, c.max.id)
			}
		}
	}
}
