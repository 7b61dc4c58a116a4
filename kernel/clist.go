package kernel

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ocapgo/kernel-actors/persistence"
)

// A vat's c-list maps its vrefs to krefs and back (persistence keeps both
// directions). Each entry also has a reachable flag: an importer clears it
// with dropImports, the kernel clears an exporter's with a dropExports
// delivery. A vat can name only what its c-list holds; every ref crossing
// the vat boundary is translated here.
//
// This is the ocap boundary: a vat's authority is exactly its c-list.
// Translation in (vrefToKRef) is where a vat that names something it was
// never given is caught, as its own illegal syscall; translation out
// (krefToVRef) is where a vat is given something, by import. The vref
// space is the vat's: "+" refs it allocates (exports, its own promises),
// "-" refs the kernel allocates for it (imports), so the two sides never
// pick the same vref. Vrefs are never reused within a vat: the import
// counters live in the vat's row and only go up (the auditor checks it).
//
// The counts an entry carries are refcount.go's: an import counts toward
// its object or promise, an export of an object does not (the exporter
// is the owner, not a holder), an export of a promise does.

// errIllegal builds the detail of an illegal syscall. It goes to the log;
// what leaves the kernel is ErrIllegalSyscall (invariant 7: the detail may
// name refs, the error the vat and host see must not).
func errIllegal(format string, args ...any) error {
	return fmt.Errorf("illegal syscall: "+format, args...)
}

// vrefOpts say how a vat-supplied vref may be mapped. The zero value is
// what a send's target and slots and a resolution's slots use: new exports
// allowed, imports must be reachable.
type vrefOpts struct {
	// required: the vref must already be in the c-list (no new exports).
	// For syscalls about something the vat must already hold (subscribe,
	// resolve, GC), where a new export would be meaningless.
	required bool
	// requireNew: the vref must be a new export (a send's result promise).
	requireNew bool
	// keepReachable: leave reachable flags alone (GC syscalls). Otherwise
	// an export is (re)marked reachable and an import must be reachable.
	keepReachable bool
}

// vrefToKRef maps a vref from vat's syscall into kernel space, allocating a
// kernel object or promise for a new export (SwingSet's
// mapVatSlotToKernelSlot). Errors are illegal-syscall details.
//
// Every vref a vat hands the kernel comes through here, so every check a
// forged or stale ref must fail is here, once. The c-list lookup is per
// vat: a vref means nothing outside the vat that holds it, so a vat that
// writes another vat's o-3 names its own o-3, or nothing.
func (k *Kernel) vrefToKRef(vat VatID, vref VRef, opts vrefOpts) (KRef, error) {
	// Parse first: a malformed vref must never be stored, where it would
	// be a ref the vat cannot parse back, or a second spelling (o+01) of a
	// vref already in use.
	info, err := parseVRef(vref)
	if err != nil {
		return "", errIllegal("%v", err)
	}
	krefStr, found := k.st.KRefOf(string(vat), string(vref))
	kref := KRef(krefStr)
	switch {
	case found && opts.requireNew:
		return "", errIllegal("vref %s is already allocated", vref)
	case !found && opts.required:
		return "", errIllegal("vref %s is not in the c-list", vref)
	case !found && !info.export:
		// The forgery check: an import is only ever made by the kernel
		// (krefToVRef). A vat that names an o-N or p-N it was not given is
		// guessing at another vat's objects, and is refused.
		return "", errIllegal("vref %s is an import the vat does not hold", vref)
	case !found:
		// A new export: the vat is the owner of the object, or the
		// decider of the promise, from now on.
		if info.promise {
			kref = k.newPromise(vat)
		} else {
			kref = k.newObject(vat)
		}
		// Reachable at once unless the caller keeps flags alone: what
		// setReachableFlag would do below, in the same write.
		k.addCListEntry(vat, kref, vref, !opts.keepReachable)
		return kref, nil
	}
	if opts.keepReachable {
		return kref, nil
	}
	if info.export {
		// An exporter that names its object makes it reachable again
		// (SwingSet's re-export): a dropExport queued meanwhile is then
		// negated when its turn comes (gcActionApplies).
		k.setReachableFlag(vat, kref)
		return kref, nil
	}
	// A dropped import may still be recognized (a weak key) but not used:
	// sending it, or passing it on, after dropImports would hand out a
	// reference the kernel already counted as gone.
	if e, _ := k.st.CList(string(vat), string(kref)); !e.Reachable {
		return "", errIllegal("vat used unreachable import %s", vref)
	}
	return kref, nil
}

// krefToVRef maps a kref into vat's space for a delivery, importing it if
// the vat does not hold it yet (SwingSet's mapKernelSlotToVatSlot). With
// setReachable, an import is (re)marked reachable. Delivery translation
// cannot fail for a vat's reasons, so broken expectations are kernel bugs
// and panic.
func (k *Kernel) krefToVRef(vat VatID, kref KRef, setReachable bool) VRef {
	e, found := k.st.CList(string(vat), string(kref))
	if !found {
		row, ok := k.st.Vat(string(vat))
		if !ok {
			bugf("import into unknown vat %s", vat)
		}
		// A fresh import vref from the vat's own counter, which only goes
		// up: a vref the vat dropped and retired never comes back naming
		// something else.
		var vref VRef
		if kref.IsPromise() {
			vref = importVRef(true, row.NextPromise)
			row.NextPromise++
		} else {
			vref = importVRef(false, row.NextObject)
			row.NextObject++
		}
		k.st.PutVat(string(vat), row)
		// A new import, made reachable in the same write if the caller
		// asks (what setReachableEntry below would do for it).
		k.addCListEntry(vat, kref, vref, setReachable)
		return vref
	}
	vref := VRef(e.VRef)
	if setReachable {
		info := storedVRefInfo(vref)
		if info.export {
			// Something reachable names the object (the message being
			// delivered holds it), so the kernel cannot have told the
			// exporter nobody can reach it: a cleared flag here means the
			// counts are wrong.
			if !e.Reachable {
				bugf("sent unreachable export %s back into %s", kref, vat)
			}
		} else {
			// The vat is handed the reference again: an import it had
			// dropped (but still recognized) becomes reachable, and counts
			// as such, again. e is the entry as the unit has it now.
			k.setReachableEntry(vat, kref, e, info)
		}
	}
	return vref
}

// addCListEntry adds a c-list entry and counts it: an import object is
// recognizable by one more vat, a promise has one more holder. With
// reachable, the entry is made reachable too, and an import object counts
// as reachable by one more vat: the same counts as adding the entry
// unreachable and then calling setReachableFlag, in one write of each row
// (a new entry is made on most cranks). The counts stay exact because
// each part is counted once: the recognizable part here, the reachable
// part here or by setReachableFlag, never both (the flag was false).
func (k *Kernel) addCListEntry(vat VatID, kref KRef, vref VRef, reachable bool) {
	k.st.PutCList(string(vat), string(kref), persistence.CListRow{VRef: string(vref), Reachable: reachable})
	info := storedVRefInfo(vref)
	if kref.IsPromise() || !info.export {
		// INVARIANT 10: an import object's reachable count goes with its
		// flag; a promise has one count, which reachable does not touch.
		k.incRef(kref, reachable && kref.IsObject())
	}
}

// deleteCListEntry removes vat's entry for kref, if any, and its counts.
// It is the inverse of addCListEntry plus setReachableFlag, in the reverse
// order: the reachable part goes first, then the recognizable part.
func (k *Kernel) deleteCListEntry(vat VatID, kref KRef) {
	e, ok := k.st.CList(string(vat), string(kref))
	if !ok {
		return
	}
	// Clear before delete: the entry's flag says whether there is a
	// reachable count to give back.
	info := storedVRefInfo(VRef(e.VRef))
	k.clearReachableEntry(vat, kref, e, info)
	k.st.DeleteCList(string(vat), string(kref))
	if kref.IsPromise() || !info.export {
		k.decRef(kref, false)
	}
}

// setReachableFlag marks vat's entry for kref reachable; for an object
// import that was unreachable, the object gains a reachable reference.
// Only the transition counts (flag false to true), so calling it on every
// translation is safe: the count tracks the flag, not the calls.
func (k *Kernel) setReachableFlag(vat VatID, kref KRef) {
	e, ok := k.st.CList(string(vat), string(kref))
	if !ok {
		return
	}
	k.setReachableEntry(vat, kref, e, storedVRefInfo(VRef(e.VRef)))
}

// setReachableEntry is setReachableFlag for a caller that has just read
// (or written) vat's entry e for kref, and its vref's info: the crank path
// translates every ref through here, and one lookup of the entry is
// enough. e must be the entry as the open unit has it.
func (k *Kernel) setReachableEntry(vat VatID, kref KRef, e persistence.CListRow, info vrefInfo) {
	if e.Reachable {
		return
	}
	e.Reachable = true
	k.st.PutCList(string(vat), string(kref), e)
	if kref.IsObject() && !info.export {
		o := k.mustObject(kref)
		o.Reachable++
		k.st.PutObject(string(kref), o)
	}
}

// clearReachableFlag marks vat's entry for kref unreachable; for an object
// import that was reachable, the object loses a reachable reference. Like
// setReachableFlag it counts only the transition. The object may be gone
// (retired while this importer still recognized it): then there is no
// count left to change.
func (k *Kernel) clearReachableFlag(vat VatID, kref KRef) {
	e, ok := k.st.CList(string(vat), string(kref))
	if !ok {
		return
	}
	k.clearReachableEntry(vat, kref, e, storedVRefInfo(VRef(e.VRef)))
}

// clearReachableEntry is clearReachableFlag for a caller that holds vat's
// entry e for kref as the open unit has it, and its vref's info.
func (k *Kernel) clearReachableEntry(vat VatID, kref KRef, e persistence.CListRow, info vrefInfo) {
	if !e.Reachable {
		return
	}
	e.Reachable = false
	k.st.PutCList(string(vat), string(kref), e)
	if kref.IsObject() && !info.export {
		if o, ok := k.st.Object(string(kref)); ok {
			o.Reachable--
			k.st.PutObject(string(kref), o)
			// Noted, not acted on: the unit may give the object a new
			// reference before it ends (gc.go).
			if o.Reachable == 0 {
				k.maybeFree[kref] = struct{}{}
			}
		}
	}
}

// slotsToKRefs maps a syscall's slots into kernel space, stopping at the
// first bad one (whatever it allocated before is rolled back with the
// delivery, which that error makes illegal).
func (k *Kernel) slotsToKRefs(vat VatID, slots []string) ([]string, error) {
	if len(slots) == 0 {
		return nil, nil
	}
	out := make([]string, len(slots))
	for i, s := range slots {
		kref, err := k.vrefToKRef(vat, VRef(s), vrefOpts{})
		if err != nil {
			return nil, err
		}
		out[i] = string(kref)
	}
	return out, nil
}

// slotsToVRefs maps a delivery's slots into vat's space, importing as
// needed; every import delivered is made reachable for the receiver, which
// is now handed it.
func (k *Kernel) slotsToVRefs(vat VatID, slots []string) []string {
	if len(slots) == 0 {
		return nil
	}
	out := make([]string, len(slots))
	for i, s := range slots {
		out[i] = string(k.krefToVRef(vat, KRef(s), true))
	}
	return out
}

// clistPromises lists the promises in vat's c-list, in CListKRefs order,
// on the store's index: a vat that holds a million durable objects has a
// few promises, and a new incarnation needs only those.
func (k *Kernel) clistPromises(vat VatID) []string {
	return k.st.CListKRefsBetween(string(vat), "kp", "kq")
}

// clistEphemeralCandidates lists the krefs of vat's c-list entries whose
// vrefs may name exports that live only in one heap (see ephemeralExport:
// o+N and o+vK/I, not the durable o+dK/I), in CListKRefs order, without
// reading the durable ones: their vrefs sort between the two ranges.
// Callers still check each with ephemeralExport (the root o+0 is in the
// first range).
func (k *Kernel) clistEphemeralCandidates(vat VatID) []string {
	below := k.st.CListKRefsByVRef(string(vat), "o+", "o+d")
	above := k.st.CListKRefsByVRef(string(vat), "o+e", "o,") // ',' follows '+'
	out := append(below, above...)
	// Both are krefs of objects (koN): by number, as CListKRefs sorts.
	slices.SortFunc(out, func(a, b string) int {
		if len(a) != len(b) {
			return len(a) - len(b)
		}
		return strings.Compare(a, b)
	})
	return out
}
