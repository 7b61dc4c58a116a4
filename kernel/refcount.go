package kernel

import (
	"github.com/ocapgo/kernel-actors/persistence"
)

// Reference counting follows SwingSet's model rather than the reference's
// (MetaMask ocap-kernel shows its asymmetric counts underflow with
// two importers):
//
//   - an object has (reachable, recognizable) counts, reachable <=
//     recognizable. Each importing c-list entry adds (1,1) while its
//     reachable flag is set and (0,1) once the importer drops it; each
//     queued message, queued promise message and settled promise value
//     that names it adds (1,1); each pin adds (1,1). The exporter's own
//     c-list entry adds nothing.
//   - a promise has one count: one per c-list entry (any vat, either
//     direction), per reference from a queued item or settled value, per
//     message queued on it (as its target), and one while the host awaits
//     it.
//
// Audit recomputes all of these from scratch (invariant 10).
//
// Why two counts for objects: "reachable" says someone can still send to
// the object (the exporter must keep it); "recognizable" says someone can
// still compare it (a WeakMap key, an importer that dropped but not
// retired it), so the exporter must keep its identity, and its vref, even
// after it may let go of the object's state. Counting each importing
// entry, and nothing for the exporter, keeps the sums exact for any number
// of importers, where the reference's asymmetric counts underflow.
//
// Units and owners: counts are numbers of references, int64 in the rows
// (persistence.ObjectRow, PromiseRow). They change through incRef and
// decRef here, and by direct writes in clist.go (the reachable flags),
// vat.go (pins), promise.go (resolve carries the count over) and where
// the host takes a hold (host.go, launch.go, idempotency.go); always
// inside a unit, so an abort restores them with everything else.

// incRef adds a reference to kref. reachable=false adds to recognizable
// only (an import c-list entry that is being created; setReachableFlag adds
// the reachable part). A promise has one count, so reachable means nothing
// for it.
func (k *Kernel) incRef(kref KRef, reachable bool) {
	if kref.IsPromise() {
		p := k.mustPromise(kref)
		p.RefCount++
		k.st.PutPromise(string(kref), p)
		return
	}
	o, ok := k.st.Object(string(kref))
	// A new reference can only be taken by something that holds the
	// object, and a held object exists: every kref a vat or the host hands
	// in was checked (a vat's import must be reachable, vrefToKRef; the
	// host's must be live, checkLive). Taking one to a deleted object
	// would count a reference to a row that is gone.
	if !ok {
		bugf("reference taken to deleted object %s", kref)
	}
	if reachable {
		o.Reachable++
	}
	o.Recognizable++
	k.st.PutObject(string(kref), o)
}

// decRef drops a reference to kref, noting it for collectGarbage if a
// count reaches zero. Dropping a reference to an object already deleted
// (retired while importers still named it) is a no-op.
//
// It never frees anything itself: freeing waits for the end of the unit
// (gc.go), so a count that touches zero and rises again within one unit
// costs nothing.
func (k *Kernel) decRef(kref KRef, reachable bool) {
	if kref.IsPromise() {
		p := k.mustPromise(kref)
		// INVARIANT 10: an underflow means a reference was dropped twice
		// or never taken; carrying on would free a promise someone holds.
		if p.RefCount <= 0 {
			bugf("refcount underflow on %s", kref)
		}
		p.RefCount--
		k.st.PutPromise(string(kref), p)
		if p.RefCount == 0 || (p.State != persistence.PromiseUnresolved && namesPromise(p.Value.Slots)) {
			// At zero it is free; a settled promise whose value names
			// promises may be left held only by a cycle of settled values
			// (collectPromiseCycle).
			k.maybeFree[kref] = struct{}{}
		}
		return
	}
	o, ok := k.st.Object(string(kref))
	if !ok {
		return
	}
	if reachable {
		o.Reachable--
	}
	o.Recognizable--
	// INVARIANT 10: reachable <= recognizable, both >= 0. Breaking it is a
	// kernel bug, never a vat's: vats change counts only through
	// translation, which is checked.
	if o.Reachable < 0 || o.Recognizable < o.Reachable {
		bugf("refcount underflow on %s: %d,%d", kref, o.Reachable, o.Recognizable)
	}
	k.st.PutObject(string(kref), o)
	// Reachable zero may mean a dropExport, recognizable zero a
	// retireExport: maybeFreeObject decides which.
	if o.Reachable == 0 || o.Recognizable == 0 {
		k.maybeFree[kref] = struct{}{}
	}
}

// incSlots counts a reachable reference to every kref in a queued or
// settled value's slots: a message or a value can be delivered, so what
// it names must stay reachable. A kref named twice counts twice.
func (k *Kernel) incSlots(slots []string) {
	for _, s := range slots {
		k.incRef(KRef(s), true)
	}
}

// decSlots releases what incSlots counted for the same slots.
func (k *Kernel) decSlots(slots []string) {
	for _, s := range slots {
		k.decRef(KRef(s), true)
	}
}

// mustPromise reads a promise the caller knows exists (it holds a counted
// reference to it); a missing one is a kernel bug, reported with bugf.
func (k *Kernel) mustPromise(kpid KRef) persistence.PromiseRow {
	p, ok := k.st.Promise(string(kpid))
	if !ok {
		bugf("promise %s does not exist", kpid)
	}
	return p
}

// mustObject is mustPromise for objects.
func (k *Kernel) mustObject(koid KRef) persistence.ObjectRow {
	o, ok := k.st.Object(string(koid))
	if !ok {
		bugf("object %s does not exist", koid)
	}
	return o
}

// refExists reports whether kref names a live object or promise: one whose
// row exists (an orphaned object is live; a retired one is not).
func (k *Kernel) refExists(kref KRef) bool {
	if kref.IsPromise() {
		_, ok := k.st.Promise(string(kref))
		return ok
	}
	_, ok := k.st.Object(string(kref))
	return ok
}
