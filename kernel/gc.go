package kernel

import (
	"slices"

	"github.com/ocapgo/kernel-actors/persistence"
)

// Garbage collection across vats (MetaMask ocap-kernel, done the
// SwingSet way). When a unit's decrements bring a count to zero,
// collectGarbage decides what follows before the unit commits:
//
//   - a promise nobody refers to is freed, releasing its value's refs;
//   - an object nobody can reach is reported to its exporter (dropExport),
//     and once nobody can even recognize it, retired (retireExport);
//   - an orphaned object (its exporter gone) that nobody can reach is
//     deleted, and its remaining importers told to retire it
//     (retireImport).
//
// The actions wait in a persisted set and are delivered one group per
// crank, before reaps and before the run queue, in the reference's order:
// by vat, then dropExport, retireExport, retireImport.
//
// Everything here serves invariant 10 (counts are exact, and what nothing
// refers to is freed). Two rules hold it together:
//
//   - decisions are made at the end of the unit, not at each decrement:
//     a count that drops to zero and rises again within one unit (a
//     message delivered to an object's own exporter, which sends the
//     object on in the same delivery) must free nothing, so
//     decRef only notes the kref in maybeFree and collectGarbage looks at
//     the final counts;
//   - an action is re-checked when its turn comes (gcActionApplies),
//     because cranks in between can negate it: the object re-exported,
//     re-imported, or already retired by a syscall.
//
// Where we differ from SwingSet: settled promises that hold only each
// other are freed (collectPromiseCycle), and GC groups are ordered by vat
// number rather than by the vat id's string (v10 after v9, not after v1).

// collectGarbage processes maybeFree until it is empty. It runs in
// commit, after everything else the unit does (abandonFailedLaunchesLocked
// included, whose terminations release references), so it sees the
// unit's final counts. Freeing can release more (a promise's value names
// objects and promises), hence the loop: it ends because a pass only ever
// lowers counts, and a kref comes back into maybeFree only when one of
// its counts drops.
func (k *Kernel) collectGarbage() {
	for len(k.maybeFree) > 0 {
		// Take the krefs in a fixed order: what is freed first decides what
		// is queued first, and the kernel must be deterministic.
		krefs := make([]string, 0, len(k.maybeFree))
		for kref := range k.maybeFree {
			krefs = append(krefs, string(kref))
		}
		k.resetMaybeFree()
		slices.SortFunc(krefs, persistence.CompareIDs)
		for _, s := range krefs {
			kref := KRef(s)
			if kref.IsPromise() {
				k.maybeFreePromise(kref)
			} else {
				k.maybeFreeObject(kref)
			}
		}
	}
}

// maxKeptFree is the most krefs maybeFree may have held and still be
// cleared for reuse. A Go map keeps its capacity when cleared, and ranging
// over it or clearing it again costs that capacity: a unit that dropped
// 100k references would otherwise slow every later crank's collection
// for the life of the kernel.
const maxKeptFree = 1024

// resetMaybeFree empties maybeFree: cleared in place while small, replaced
// by a fresh map once it held more than maxKeptFree krefs.
func (k *Kernel) resetMaybeFree() {
	if len(k.maybeFree) > maxKeptFree {
		k.maybeFree = make(map[KRef]struct{})
		return
	}
	clear(k.maybeFree)
}

// maybeFreePromise frees kpid if nothing refers to it; a settled promise
// still referred to may be held only by a cycle of settled values, which
// collectPromiseCycle looks for. An unresolved promise with references is
// alive by definition: someone can still settle it or wait for it.
func (k *Kernel) maybeFreePromise(kpid KRef) {
	p, ok := k.st.Promise(string(kpid))
	if !ok {
		// Freed earlier in this pass (a cycle freed with another member).
		return
	}
	if p.RefCount > 0 {
		if p.State != persistence.PromiseUnresolved {
			k.collectPromiseCycle(kpid)
		}
		return
	}
	if p.QueueTail != p.QueueHead {
		// Queued messages hold references to their target; a promise with
		// a queue cannot reach zero.
		bugf("freeing promise %s with queued messages", kpid)
	}
	// INVARIANT 10: freed when nothing refers to it; its value's
	// references go with it, which may free more (maybeFree, next pass).
	k.st.DeletePromise(string(kpid))
	if p.State != persistence.PromiseUnresolved {
		k.decSlots(p.Value.Slots)
	}
}

// collectPromiseCycle frees the settled promises reachable from start
// through promise values that are held only by one another: X fulfilled
// to [Y] and Y to [X], once no c-list, queue, host or outside value names
// either, keep each other's count at one forever (SwingSet and the
// reference kernel both leak them; invariant 10 wants them freed). It is
// trial deletion over the component: every reference to a member that the
// members' own values do not account for comes from outside and keeps that
// member, and what it reaches, alive; the rest is garbage.
func (k *Kernel) collectPromiseCycle(start KRef) {
	// The component: settled promises reachable from start through the
	// promise slots of settled values, and how often their values name
	// each member.
	members := []KRef{start}
	internal := map[KRef]int64{start: 0}
	for i := 0; i < len(members); i++ {
		p := k.mustPromise(members[i])
		for _, s := range p.Value.Slots {
			ref := KRef(s)
			if !ref.IsPromise() {
				continue
			}
			q, ok := k.st.Promise(s)
			if !ok || q.State == persistence.PromiseUnresolved {
				continue // an unresolved promise has no value: outside the component
			}
			if _, seen := internal[ref]; !seen {
				members = append(members, ref)
			}
			internal[ref]++
		}
	}
	// Alive: members with an outside reference, and what they reach.
	alive := map[KRef]bool{}
	var stack []KRef
	for _, m := range members {
		if k.mustPromise(m).RefCount > internal[m] {
			alive[m] = true
			stack = append(stack, m)
		}
	}
	for len(stack) > 0 {
		m := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, s := range k.mustPromise(m).Value.Slots {
			ref := KRef(s)
			if _, in := internal[ref]; in && !alive[ref] {
				alive[ref] = true
				stack = append(stack, ref)
			}
		}
	}
	if len(alive) == len(members) {
		return
	}
	// Free the garbage: delete every member first, then release what
	// their values name outside the garbage (objects, live promises).
	// References between garbage members are not released at all: the
	// members are deleted outright, and a decRef of a deleted promise is a
	// kernel bug (mustPromise).
	var release []string
	for _, m := range members {
		if alive[m] {
			continue
		}
		p := k.mustPromise(m)
		k.st.DeletePromise(string(m))
		for _, s := range p.Value.Slots {
			if _, in := internal[KRef(s)]; in && !alive[KRef(s)] {
				continue
			}
			release = append(release, s)
		}
	}
	k.decSlots(release)
}

// namesPromise reports whether a value's slots name a promise: only such a
// value can take part in a promise cycle, so decRef sends only those
// settled promises to collectPromiseCycle.
func namesPromise(slots []string) bool {
	for _, s := range slots {
		if KRef(s).IsPromise() {
			return true
		}
	}
	return false
}

// maybeFreeObject decides what follows for an object whose counts dropped
// (SwingSet's processRefcounts, for one kref). An exported object is not
// the kernel's to free: only its exporter can forget it, so the kernel
// queues GC actions telling it so. An orphaned object has nobody to tell,
// and the kernel retires it itself.
func (k *Kernel) maybeFreeObject(koid KRef) {
	o, ok := k.st.Object(string(koid))
	// Still reachable by someone (an importer, a queued message, a settled
	// value, a pin): nothing to do. Recognizable alone is not enough to
	// keep an export from its dropExport.
	if !ok || o.Reachable > 0 {
		return
	}
	if o.Owner == kernelEndpoint {
		// The kernel's own objects (its URL services) have no exporter to
		// tell and are never freed: the kernel pins them for its life, so
		// only a host's Unpin brings one here, and it stays.
		return
	}
	if o.Owner != "" {
		owner := VatID(o.Owner)
		// dropExport only while the exporter's flag is still set: once a
		// dropExports delivery has cleared it (applyGCDelivery), a later
		// drop queues nothing until the exporter sends the object again,
		// which sets the flag.
		if e, ok := k.st.CList(o.Owner, string(koid)); ok && e.Reachable {
			k.st.AddGCAction(persistence.GCActionKey{Vat: o.Owner, Kind: persistence.GCDropExport, KRef: string(koid)})
		}
		// retireExport once nobody can even recognize it. Both actions may
		// be queued by one unit; the set's kind order delivers dropExports
		// first, so the exporter sees the two steps in order.
		if o.Recognizable == 0 {
			k.st.AddGCAction(persistence.GCActionKey{Vat: string(owner), Kind: persistence.GCRetireExport, KRef: string(koid)})
		}
		return
	}
	// Orphaned and unreachable: retire it. Importers that can still
	// recognize it are told to retire their imports; with none, the row
	// just goes (invariant 9: a terminated vat's objects go once nobody
	// refers to them).
	if o.Recognizable > 0 {
		k.retireObject(koid)
	} else {
		k.st.DeleteObject(string(koid))
	}
}

// retireObject deletes koid and tells every vat that still imports it to
// retire the import (SwingSet's retireKernelObjects). The importers' c-list
// entries stay until their retireImports delivery deletes them; until
// then they name a deleted object, which decRef and the auditor allow
// (an import of a deleted object with its retireImport pending).
func (k *Kernel) retireObject(koid KRef) {
	for _, vat := range k.st.Holders(string(koid)) {
		e, _ := k.st.CList(vat, string(koid))
		if info := storedVRefInfo(VRef(e.VRef)); !info.export {
			k.st.AddGCAction(persistence.GCActionKey{Vat: vat, Kind: persistence.GCRetireImport, KRef: string(koid)})
		}
	}
	k.st.DeleteObject(string(koid))
}

// orphanObject detaches koid from its exporter vat: the object stays while
// others refer to it, but messages to it now splat with OBJECT_DELETED
// (termination, abandonExports, and a new incarnation's abandoned
// exports: invariants 9 and 15). Owner "" is what the router checks, so
// no message can reach the vat through koid from here on, even one
// already queued. maybeFree is told at once: an orphan that is already
// unreachable goes in this unit.
func (k *Kernel) orphanObject(vat VatID, koid KRef) {
	o := k.mustObject(koid)
	o.Owner = ""
	k.st.PutObject(string(koid), o)
	k.st.DeleteCList(string(vat), string(koid)) // an export entry: uncounted
	k.maybeFree[koid] = struct{}{}
}

// gcWork is one group of GC actions to deliver: all the still-valid
// actions of one kind for one vat, sent as one delivery (the dispatch
// functions take a list, as in SwingSet).
type gcWork struct {
	vat   VatID
	kind  persistence.GCKind
	krefs []KRef // in the set's order: by kref number
}

// nextGCWork takes the first group of still-valid GC actions out of the
// pending set (SwingSet's processGCActionSet). Actions that no longer
// apply (the object was re-exported, already retired, ...) are dropped
// from the set. negated reports that some were dropped even if no group
// remains, so the caller commits that change as a unit of its own.
//
// Every action examined is deleted from the set, valid or not: a valid
// one is being delivered in this crank, an invalid one never will be. The
// deletions are inside the crank's unit (invariant 2), so an aborted
// delivery puts the whole group back.
func (k *Kernel) nextGCWork() (w gcWork, ok bool, negated bool) {
	if k.st.GCActionCount() == 0 {
		return gcWork{}, false, false // the usual case: no listing to sort
	}
	// The order is what makes GC deterministic and what keeps a vat's
	// dropExports ahead of its retireExports.
	actions := k.st.GCActions() // sorted by vat, kind priority, kref
	for i := 0; i < len(actions); {
		j := i
		for j < len(actions) && actions[j].Vat == actions[i].Vat && actions[j].Kind == actions[i].Kind {
			j++
		}
		group := actions[i:j]
		i = j
		var krefs []KRef
		for _, a := range group {
			k.st.DeleteGCAction(a)
			if k.gcActionApplies(a) {
				krefs = append(krefs, KRef(a.KRef))
			} else {
				negated = true
			}
		}
		if len(krefs) > 0 {
			return gcWork{vat: VatID(group[0].Vat), kind: group[0].Kind, krefs: krefs}, true, negated
		}
	}
	return gcWork{}, false, negated
}

// gcActionApplies re-checks a pending action against the state now
// (SwingSet's shouldProcessAction, same conditions). Between the unit
// that queued an action and the crank that delivers it, other cranks may
// have run: an importer may have been handed the object again (dropExport
// negated), the exporter may have retired it itself (retireExport
// redundant), the importer may have retired its import. Delivering a
// stale action would tell a vat to forget something it still needs, or
// to forget a c-list entry that is already gone.
func (k *Kernel) gcActionApplies(a persistence.GCActionKey) bool {
	e, inCList := k.st.CList(a.Vat, a.KRef)
	o, exists := k.st.Object(a.KRef)
	// Beyond SwingSet: nothing is delivered to a vat that is not active.
	// Termination deletes its actions, so this is a guard.
	if isRemoteEndpoint(a.Vat) {
		// A remote's GC actions become messages (prepareRemoteGC).
		if !k.remoteActive(a.Vat) {
			return false
		}
	} else if v, ok := k.st.Vat(a.Vat); !ok || v.State != persistence.VatActive {
		return false
	}
	switch a.Kind {
	case persistence.GCDropExport:
		return exists && o.Reachable == 0 && inCList && e.Reachable
	case persistence.GCRetireExport:
		return exists && o.Reachable == 0 && o.Recognizable == 0 && inCList
	case persistence.GCRetireImport:
		// The object is gone (retireObject deleted it); only the
		// importer's entry is left to go.
		return inCList
	}
	return false
}

// applyGCDelivery updates the c-list for a GC delivery to w.vat and returns
// the vrefs to deliver (SwingSet's translateDropExports & co). The vref is
// read before the entry changes: a retire deletes the entry, and the vat
// must still be told which of its vrefs it was.
func (k *Kernel) applyGCDelivery(w gcWork) []VRef {
	vrefs := make([]VRef, 0, len(w.krefs))
	for _, kref := range w.krefs {
		e, _ := k.st.CList(string(w.vat), string(kref))
		vrefs = append(vrefs, VRef(e.VRef))
		switch w.kind {
		case persistence.GCDropExport:
			// The exporter's flag is cleared now, which is what allows its
			// syscall.retireExports later (syscall.go) and keeps
			// maybeFreeObject from queueing a second dropExport.
			k.clearReachableFlag(w.vat, kref)
		case persistence.GCRetireExport:
			// Nobody can recognize the object: the export entry (which
			// carries no count) and the object itself go together.
			k.deleteCListEntry(w.vat, kref)
			k.st.DeleteObject(string(kref))
		case persistence.GCRetireImport:
			// The object row is gone already; the entry's recognizable
			// count goes with it (decRef of a deleted object is a no-op).
			k.deleteCListEntry(w.vat, kref)
		}
	}
	return vrefs
}
