package kernel

import (
	"fmt"

	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/remote/wire"
)

// A remote's c-list is kept in the c-list table under the remote's id,
// with remote refs where a vat's has vrefs, in the same convention: "+"
// refs the remote allocated (its exports: objects it owns, promises it
// decides), "-" refs this kernel allocated for it (its imports). So
// addCListEntry, deleteCListEntry and the reachable flags count a
// remote's entries exactly as a vat's (clist.go): an ro-N entry is an
// import that keeps its object alive here, an ro+N entry makes the
// remote the object's owner. The refs are written in this kernel's frame;
// a message to the peer flips their signs (wire.Ref.Flip).
//
// Translation is where a peer's authority is checked, as a vat's is in
// vrefToKRef: a peer can name only what its c-list holds, or introduce
// something new of its own ("+"). An unknown "-" ref at or past the
// remote's counters names something this kernel never gave it: a
// protocol error, refused. One below them was given once and let go
// since: it reaches a settled promise (remote_retired.go) or an orphan
// that stands in for the object (remote_gone.go, remote_lapsed.go), and
// grants nothing.

// krefToRRef maps kref into remote's space for a message to it, importing
// it (a fresh ro-N or rp-N from the remote's counters) if the remote does
// not hold it yet. The ref is in this kernel's frame. A promise the remote
// is handed and does not decide gets the remote as a subscriber, so the
// peer hears how it settles (a vat subscribes by syscall; a peer kernel
// cannot ask for what it does not know it holds). Translating for a
// delivery cannot fail for a peer's reasons: a broken expectation is a
// kernel bug.
func (k *Kernel) krefToRRef(remote RemoteID, kref KRef) string {
	ep := string(remote)
	if e, found := k.st.CList(ep, string(kref)); found {
		if !e.Reachable {
			// Handed again after the peer dropped it: reachable again,
			// and counted so (setReachableEntry counts imports only).
			k.setReachableEntry(VatID(remote), kref, e, storedVRefInfo(VRef(e.VRef)))
		}
		return e.VRef
	}
	if kref.IsObject() {
		// INVARIANT 10: an object the remote owns always has its export
		// entry (ro+N); allocating an import for it would count the owner
		// as its own importer.
		if o := k.mustObject(kref); o.Owner == ep {
			bugf("object %s owned by %s has no c-list entry there", kref, remote)
		}
	}
	row := k.mustRemote(remote)
	var ref wire.Ref
	if kref.IsPromise() {
		ref = wire.Ref{Promise: true, N: row.NextPromise}
		row.NextPromise++
	} else {
		ref = wire.Ref{N: row.NextObject}
		row.NextObject++
	}
	k.st.PutRemote(ep, row)
	s := ref.String()
	k.addCListEntry(VatID(remote), kref, VRef(s), true)
	if kref.IsPromise() {
		if p := k.mustPromise(kref); p.Decider != ep {
			// Settled already: subscribe queues the notify at once.
			k.subscribe(VatID(remote), kref)
		}
	}
	return s
}

// rrefOpts say how a ref from a peer may be mapped.
type rrefOpts struct {
	// result: the ref is a deliver's result: a new promise the peer
	// allocates for it, whose authority is this kernel's while the
	// message is queued (as syscallSend's result is), and which the peer
	// is subscribed to, so that it hears the answer.
	result bool
	// lookup: the ref must already be in the c-list (a notify's promise,
	// a GC message's objects); an unknown one is reported as not found
	// (ok false), not allocated.
	lookup bool
}

// rrefToKRef maps a ref from remote's message (already in this kernel's
// frame) to a kref, making a new object or promise for a new "+" ref: the
// remote owns the object, or decides the promise. Errors are the peer's
// protocol errors.
func (k *Kernel) rrefToKRef(remote RemoteID, ref string, opts rrefOpts) (KRef, error) {
	ep := string(remote)
	r, err := wire.ParseRef(ref)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrRemoteProtocol, err)
	}
	kref, found := k.st.KRefOf(ep, ref)
	if !found {
		// A promise this kernel answered, named by a message the peer
		// wrote before it applied the answer (remote_retired.go).
		if kp, ok := k.retiredRef(remote, ref); ok {
			switch {
			case opts.result:
				return "", fmt.Errorf("%w: result %s is already allocated", ErrRemoteProtocol, ref)
			case opts.lookup:
				return "", errNotInCList
			}
			return kp, nil
		}
		// An object this kernel retired, named by a message the peer
		// wrote before it applied the retireImports (remote_gone.go): its
		// stand-in orphan, through which a send splats OBJECT_DELETED. A
		// GC message's lookup skips it, as any ref the c-list no longer
		// holds; a result must be a promise, and is refused below.
		if !r.Plus && !r.Promise && !opts.lookup && !opts.result {
			if orphan, ok := k.goneRef(remote, ref); ok {
				return orphan, nil
			}
			// An object this kernel gave the peer once, whose entry went
			// since (the peer retired it, and its host took up a copy
			// late: remote_lapsed.go): a new stand-in orphan, entered
			// under the ref. A ref never allocated falls through to the
			// forgery check.
			if orphan, ok := k.lapsedRef(remote, ref, r); ok {
				return orphan, nil
			}
		}
	}
	switch {
	case found && opts.result:
		// A result is allocated by the send that carries it, once: a ref
		// used before would make one promise the answer to two questions.
		return "", fmt.Errorf("%w: result %s is already allocated", ErrRemoteProtocol, ref)
	case !found && opts.lookup:
		return "", errNotInCList
	case !found && !r.Plus:
		// The forgery check: a "-" ref is this kernel's to allocate. An
		// object ref below next_object was taken above (lapsedRef); what
		// is left was never allocated, or is an old promise ref, which
		// only messages carry and remote_retired.go covers.
		return "", fmt.Errorf("%w: %s names nothing this kernel gave the peer", ErrRemoteProtocol, ref)
	case !found && opts.result:
		if !r.Promise {
			return "", fmt.Errorf("%w: result %s is not a promise", ErrRemoteProtocol, ref)
		}
		// Decider "": the kernel holds the authority while the message
		// waits; prepareSend hands it to the receiving vat (invariant 8).
		kp := k.newPromise("")
		k.addCListEntry(VatID(remote), kp, VRef(ref), true)
		k.subscribe(VatID(remote), kp)
		return kp, nil
	case !found:
		var kr KRef
		if r.Promise {
			kr = k.newPromise(VatID(remote))
		} else {
			kr = k.newObject(VatID(remote))
		}
		k.addCListEntry(VatID(remote), kr, VRef(ref), true)
		return KRef(kr), nil
	}
	if opts.lookup {
		return KRef(kref), nil
	}
	kr := KRef(kref)
	e, _ := k.st.CList(ep, kref)
	if r.Plus {
		// The peer names its own export again: reachable again (a
		// dropExport queued meanwhile is negated, gcActionApplies).
		k.setReachableEntry(VatID(remote), kr, e, storedVRefInfo(VRef(e.VRef)))
		return kr, nil
	}
	// An import whose object is already deleted, its retireImports not yet
	// written: the crossing a moment earlier (remote_gone.go). Before the
	// reachable check: whether the peer's drop came first, the message
	// gets the same stand-in, through which nothing reaches an owner.
	if kr.IsObject() && !k.refExists(kr) {
		return k.deletedImport(remote, ref), nil
	}
	// A dropped import may not be used, as a vat's may not (vrefToKRef):
	// the peer told us it no longer holds it.
	if !e.Reachable {
		return "", fmt.Errorf("%w: peer used %s after dropping it", ErrRemoteProtocol, ref)
	}
	return kr, nil
}

// errNotInCList is rrefToKRef's answer to a lookup of a ref the remote's
// c-list does not hold.
var errNotInCList = fmt.Errorf("%w: not in the c-list", ErrRemoteProtocol)

// slotsToRRefs maps a message's slots into remote's space, importing as
// needed, and flips them into the peer's frame for the wire.
func (k *Kernel) slotsToRRefs(remote RemoteID, slots []string) []string {
	if len(slots) == 0 {
		return nil
	}
	out := make([]string, len(slots))
	for i, s := range slots {
		out[i] = wire.FlipString(k.krefToRRef(remote, KRef(s)))
	}
	return out
}

// rrefsToKRefs maps a peer's slots into kernel space, stopping at the
// first bad one (the unit is then aborted, undoing what it allocated).
func (k *Kernel) rrefsToKRefs(remote RemoteID, slots []string) ([]string, error) {
	if len(slots) == 0 {
		return nil, nil
	}
	out := make([]string, len(slots))
	for i, s := range slots {
		kref, err := k.rrefToKRef(remote, s, rrefOpts{})
		if err != nil {
			return nil, err
		}
		out[i] = string(kref)
	}
	return out, nil
}

// remoteCListPromise reports whether remote's c-list holds kpid (a
// notify's check, as prepareNotify's for a vat).
func (k *Kernel) remoteHolds(remote RemoteID, kref KRef) (persistence.CListRow, bool) {
	return k.st.CList(string(remote), string(kref))
}
