package kernel

import (
	"fmt"

	"github.com/ocapgo/kernel-actors/persistence"
)

// A vat's c-list maps its vrefs to krefs and back (persistence keeps both
// directions). Each entry also has a reachable flag: an importer clears it
// with dropImports, the kernel clears an exporter's with a dropExports
// delivery. A vat can name only what its c-list holds; every ref crossing
// the vat boundary is translated here.

// errIllegal builds the detail of an illegal syscall. It goes to the log;
// what leaves the kernel is ErrIllegalSyscall.
func errIllegal(format string, args ...any) error {
	return fmt.Errorf("illegal syscall: "+format, args...)
}

// vrefOpts say how a vat-supplied vref may be mapped.
type vrefOpts struct {
	// required: the vref must already be in the c-list (no new exports).
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
func (k *Kernel) vrefToKRef(vat VatID, vref VRef, opts vrefOpts) (KRef, error) {
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
		return "", errIllegal("vref %s is an import the vat does not hold", vref)
	case !found:
		if info.promise {
			kref = k.newPromise(vat)
		} else {
			kref = k.newObject(vat)
		}
		k.addCListEntry(vat, kref, vref)
	}
	if opts.keepReachable {
		return kref, nil
	}
	if info.export {
		k.setReachableFlag(vat, kref)
		return kref, nil
	}
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
		var vref VRef
		if kref.IsPromise() {
			vref = importVRef(true, row.NextPromise)
			row.NextPromise++
		} else {
			vref = importVRef(false, row.NextObject)
			row.NextObject++
		}
		k.st.PutVat(string(vat), row)
		k.addCListEntry(vat, kref, vref)
		e, _ = k.st.CList(string(vat), string(kref))
	}
	vref := VRef(e.VRef)
	if setReachable {
		info, _ := parseVRef(vref)
		if info.export {
			if !e.Reachable {
				bugf("sent unreachable export %s back into %s", kref, vat)
			}
		} else {
			k.setReachableFlag(vat, kref)
		}
	}
	return vref
}

// addCListEntry adds a c-list entry, unreachable, and counts it: an import
// object is recognizable by one more vat, a promise has one more holder.
// Callers set the reachable flag as needed.
func (k *Kernel) addCListEntry(vat VatID, kref KRef, vref VRef) {
	k.st.PutCList(string(vat), string(kref), persistence.CListRow{VRef: string(vref)})
	info, _ := parseVRef(vref)
	if kref.IsPromise() || !info.export {
		k.incRef(kref, false)
	}
}

// deleteCListEntry removes vat's entry for kref, if any, and its counts.
func (k *Kernel) deleteCListEntry(vat VatID, kref KRef) {
	e, ok := k.st.CList(string(vat), string(kref))
	if !ok {
		return
	}
	k.clearReachableFlag(vat, kref)
	k.st.DeleteCList(string(vat), string(kref))
	info, _ := parseVRef(VRef(e.VRef))
	if kref.IsPromise() || !info.export {
		k.decRef(kref, false)
	}
}

// setReachableFlag marks vat's entry for kref reachable; for an object
// import that was unreachable, the object gains a reachable reference.
func (k *Kernel) setReachableFlag(vat VatID, kref KRef) {
	e, ok := k.st.CList(string(vat), string(kref))
	if !ok || e.Reachable {
		return
	}
	e.Reachable = true
	k.st.PutCList(string(vat), string(kref), e)
	info, _ := parseVRef(VRef(e.VRef))
	if kref.IsObject() && !info.export {
		o := k.mustObject(kref)
		o.Reachable++
		k.st.PutObject(string(kref), o)
	}
}

// clearReachableFlag marks vat's entry for kref unreachable; for an object
// import that was reachable, the object loses a reachable reference.
func (k *Kernel) clearReachableFlag(vat VatID, kref KRef) {
	e, ok := k.st.CList(string(vat), string(kref))
	if !ok || !e.Reachable {
		return
	}
	e.Reachable = false
	k.st.PutCList(string(vat), string(kref), e)
	info, _ := parseVRef(VRef(e.VRef))
	if kref.IsObject() && !info.export {
		if o, ok := k.st.Object(string(kref)); ok {
			o.Reachable--
			k.st.PutObject(string(kref), o)
			if o.Reachable == 0 {
				k.maybeFree[kref] = struct{}{}
			}
		}
	}
}

// slotsToKRefs maps a syscall's slots into kernel space.
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

// slotsToVRefs maps a delivery's slots into vat's space.
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
