package kernel

import (
	"fmt"

	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/remote/wire"
)

// Retired refs: the settlement of a promise that a peer holds leaves the
// peer's c-list with the notify that tells it (invariant 10), but the
// link is asynchronous: the peer may have written messages naming the
// promise (a send pipelined on it, an argument) before it applied the
// notify, and they arrive after the entry is gone. Without the entry, an
// unknown "-" ref is refused as a forgery and breaks the link, and an
// unknown "+" one becomes a new promise the peer is taken to decide,
// which loops. So the ref is kept apart, as retired, with the seq of the
// notify, holding a reference to the settled promise: a message from the
// peer may still name it (a send to it then forwards through its value,
// as to any settled promise), and it is forgotten once a message shows
// the peer had applied the notify when it wrote it (wire.Message.Known).
// Messages arrive in the order written, so none after that one can name
// it: refs are never reused. This is SwingSet comms' retirement on the
// peer's acknowledgement, with the acknowledgement carried in each
// message. Re-sending the promise to the peer later allocates a fresh
// ref (krefToRRef), since the c-list no longer holds it.

// retireRef keeps remote's ref for kpid (about to leave its c-list with
// the notify numbered seq) as retired, counted as a reference.
func (k *Kernel) retireRef(remote RemoteID, kpid KRef, seq uint64) {
	e, ok := k.st.CList(string(remote), string(kpid))
	if !ok {
		bugf("retiring %s, which %s does not hold", kpid, remote)
	}
	k.st.PutRetiredRef(string(remote), e.VRef, persistence.RetiredRow{KRef: string(kpid), Seq: seq})
	// INVARIANT 10: the row is a reference; the auditor counts it.
	k.incRef(kpid, true)
}

// retiredRef reads the promise of a retired ref of remote.
func (k *Kernel) retiredRef(remote RemoteID, ref string) (KRef, bool) {
	if !k.st.HasRetiredRefs() {
		return "", false
	}
	r, ok := k.st.RetiredRef(string(remote), ref)
	return KRef(r.KRef), ok
}

// forgetRetired forgets remote's retired refs whose notify the peer had
// applied (seq <= known), releasing their references: a message written
// with that knowledge, and every later one, cannot name them.
func (k *Kernel) forgetRetired(remote RemoteID, known uint64) {
	if known == 0 || !k.st.HasRetiredRefs() {
		return // nearly every unit: no refs retired anywhere
	}
	for _, ref := range k.st.RetiredRefs(string(remote)) {
		r, _ := k.st.RetiredRef(string(remote), ref)
		if r.Seq > known {
			break // sorted by seq
		}
		k.st.DeleteRetiredRef(string(remote), ref)
		k.decRef(KRef(r.KRef), true)
	}
}

// countRetired is the auditor's part: each retired ref counts one
// reference to its promise (a.ref, with every other source), names a
// settled promise, is not also in the remote's c-list (the two would
// name one ref twice), is a ref of a promise, comes from a notify that
// was written (seq < NextSend), and belongs to a remote that takes
// messages (giving up forgets them all).
func (a *auditor) countRetired() {
	for _, id := range a.st.RetiredRemotes() {
		row, known := a.st.Remote(id)
		for _, ref := range a.st.RetiredRefs(id) {
			r, _ := a.st.RetiredRef(id, ref)
			from := fmt.Sprintf("retired ref %s %s=%s", id, ref, r.KRef)
			if !KRef(r.KRef).IsPromise() {
				a.problem("%s: names %q, which is not a promise", from, r.KRef)
				continue
			}
			a.ref(KRef(r.KRef), true, from)
			if p, ok := a.st.Promise(r.KRef); ok && p.State == persistence.PromiseUnresolved {
				a.problem("%s: the promise is unresolved, so no notify retired it", from)
			}
			if wr, err := wire.ParseRef(ref); err != nil || !wr.Promise {
				a.problem("%s: not a promise ref", from)
			}
			if _, inCList := a.st.KRefOf(id, ref); inCList {
				a.problem("%s: still in the c-list too", from)
			}
			switch {
			case !known:
				a.problem("%s: remote %s has no row", from, id)
			case row.State != persistence.RemoteActive:
				a.problem("%s: remote %s was given up", from, id)
			case r.Seq == 0 || r.Seq >= row.NextSend:
				a.problem("%s: notify %d was never written (next_send %d)", from, r.Seq, row.NextSend)
			}
		}
	}
}
