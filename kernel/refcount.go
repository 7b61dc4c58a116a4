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

// incRef adds a reference to kref. reachable=false adds to recognizable
// only (an import c-list entry that is being created; setReachableFlag adds
// the reachable part).
func (k *Kernel) incRef(kref KRef, reachable bool) {
	if kref.IsPromise() {
		p := k.mustPromise(kref)
		p.RefCount++
		k.st.PutPromise(string(kref), p)
		return
	}
	o, ok := k.st.Object(string(kref))
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
func (k *Kernel) decRef(kref KRef, reachable bool) {
	if kref.IsPromise() {
		p := k.mustPromise(kref)
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
	if o.Reachable < 0 || o.Recognizable < o.Reachable {
		bugf("refcount underflow on %s: %d,%d", kref, o.Reachable, o.Recognizable)
	}
	k.st.PutObject(string(kref), o)
	if o.Reachable == 0 || o.Recognizable == 0 {
		k.maybeFree[kref] = struct{}{}
	}
}

func (k *Kernel) incSlots(slots []string) {
	for _, s := range slots {
		k.incRef(KRef(s), true)
	}
}

func (k *Kernel) decSlots(slots []string) {
	for _, s := range slots {
		k.decRef(KRef(s), true)
	}
}

func (k *Kernel) mustPromise(kpid KRef) persistence.PromiseRow {
	p, ok := k.st.Promise(string(kpid))
	if !ok {
		bugf("promise %s does not exist", kpid)
	}
	return p
}

func (k *Kernel) mustObject(koid KRef) persistence.ObjectRow {
	o, ok := k.st.Object(string(koid))
	if !ok {
		bugf("object %s does not exist", koid)
	}
	return o
}

// refExists reports whether kref names a live object or promise.
func (k *Kernel) refExists(kref KRef) bool {
	if kref.IsPromise() {
		_, ok := k.st.Promise(string(kref))
		return ok
	}
	_, ok := k.st.Object(string(kref))
	return ok
}
