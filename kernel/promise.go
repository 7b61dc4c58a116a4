package kernel

import (
	"slices"

	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/persistence"
)

// Kernel promises (as MetaMask ocap-kernel does). A promise is unresolved,
// fulfilled or rejected. While unresolved it has a decider (the one vat
// allowed to resolve it, or none while a message carrying it as its result
// waits in a queue: then the kernel holds the authority, as SwingSet does,
// so a sender cannot resolve the result of its own queued send),
// subscribers to notify, and a queue of messages sent to it. Once settled it
// has a value, leaves every c-list it is delivered through, and is freed
// when nothing refers to it.
//
// The decider is the heart of promise safety: exactly one party may
// settle a promise at any time, and the authority moves only as the
// kernel moves it (a new p+N export: its vat; a send's result: the
// kernel while queued, then the receiver; a termination or new
// incarnation: the kernel, which rejects). A vat that could resolve a
// promise it does not decide could answer a question put to another vat.

// newObject allocates a kernel object owned by vat, with no references.
// The caller counts the first reference (a c-list entry, a pin); until the
// unit ends nothing collects it, so the order does not matter.
func (k *Kernel) newObject(owner VatID) KRef {
	kref := objectKRef(k.st.NextID(persistence.MetaNextObject))
	k.st.PutObject(string(kref), persistence.ObjectRow{Owner: string(owner)})
	return kref
}

// newPromise allocates an unresolved promise with no references; decider
// "" means the kernel holds resolution authority.
func (k *Kernel) newPromise(decider VatID) KRef {
	kpid := promiseKRef(k.st.NextID(persistence.MetaNextPromise))
	// An empty queue: QueueHead is the seq of the first message waiting,
	// QueueTail the seq the next one gets.
	p := persistence.PromiseRow{State: persistence.PromiseUnresolved, QueueHead: 1, QueueTail: 1}
	k.setDecider(&p, decider)
	k.st.PutPromise(string(kpid), p)
	return kpid
}

// setDecider gives p's resolution authority to vat's current incarnation
// ("" gives it to the kernel). Only that incarnation's heap knows the
// promise; a restart rejects what it decided (beginIncarnationLocked), and
// the auditor flags a promise whose decider's incarnation is gone
// (invariant 12). The caller writes p back.
func (k *Kernel) setDecider(p *persistence.PromiseRow, vat VatID) {
	p.Decider, p.DeciderIncarnation = string(vat), 0
	if vat != "" {
		row, _ := k.st.Vat(string(vat))
		p.DeciderIncarnation = row.Incarnation
	}
}

// subscribe asks for vat to be notified when kpid settles; if it already
// has, the notification is queued now. Subscribing twice is one
// subscription: a vat is notified once per promise (Subscribers is a
// sorted set, which the auditor checks).
func (k *Kernel) subscribe(vat VatID, kpid KRef) {
	p := k.mustPromise(kpid)
	if p.State != persistence.PromiseUnresolved {
		k.enqueueNotify(vat, kpid)
		return
	}
	i, found := slices.BinarySearch(p.Subscribers, string(vat))
	if found {
		return
	}
	if len(p.Subscribers) == 0 {
		// The usual case, one vat awaiting a promise: the one-element list
		// is shared (Subscribers lists are never written in place, only
		// replaced, here and in unsubscribe), so a vat that awaits one
		// promise after another costs no allocation per subscribe.
		if len(k.soleSubscriber) != 1 || k.soleSubscriber[0] != string(vat) {
			k.soleSubscriber = []string{string(vat)}
		}
		p.Subscribers = k.soleSubscriber
		k.st.PutPromise(string(kpid), p)
		return
	}
	// Copy on write: p.Subscribers may be shared with the committed view.
	subs := make([]string, 0, len(p.Subscribers)+1)
	subs = append(subs, p.Subscribers[:i]...)
	subs = append(subs, string(vat))
	subs = append(subs, p.Subscribers[i:]...)
	p.Subscribers = subs
	k.st.PutPromise(string(kpid), p)
}

// unsubscribe removes vat from kpid's subscribers. Termination and a new
// incarnation call it before they reject anything, so the vat that is
// going is not sent notifies it can never read, and is not left as a
// subscriber of promises others decide (the auditor's "subscriber is not
// an active vat").
func (k *Kernel) unsubscribe(vat VatID, kpid KRef) {
	p := k.mustPromise(kpid)
	i, found := slices.BinarySearch(p.Subscribers, string(vat))
	if !found {
		return
	}
	// Clone first, for the same reason as subscribe's copy: Delete works
	// in place, and the slice may be the committed view's.
	p.Subscribers = slices.Delete(slices.Clone(p.Subscribers), i, i+1)
	k.st.PutPromise(string(kpid), p)
}

// checkResolver reports, as an illegal-syscall detail, why vat may not
// resolve kpid (as MetaMask ocap-kernel does).
func (k *Kernel) checkResolver(vat VatID, kpid KRef) error {
	p := k.mustPromise(kpid)
	switch {
	case p.State != persistence.PromiseUnresolved:
		// A second resolve of a settled promise would replace a value
		// others may already have seen.
		return errIllegal("%s was already resolved", kpid)
	case p.Decider == "":
		// The kernel holds it: the result of a queued send (a sender
		// resolving its own question) or of a host message.
		return errIllegal("%s not permitted to resolve %s because it has no decider", vat, kpid)
	case p.Decider != string(vat):
		// A holder that is not the decider (an importer, or a sender
		// whose result was delivered elsewhere): it may wait, not settle.
		return errIllegal("%s not permitted to resolve %s because its decider is %s", vat, kpid, p.Decider)
	}
	return nil
}

// resolve settles kpid (SwingSet's doResolve + resolveKernelPromise): the
// subscribers are notified, the host learns the value if it awaits it, the
// value's refs are counted, and the messages queued on the promise go back
// on the run queue, still holding their references, to be routed through
// the resolution. Callers have checked the authority to do it. resolver
// is the vat whose syscall settles it, or "" when the kernel does (a
// splat, a termination).
//
// The steps, in order: notify the subscribers; count the value's refs;
// move the promise's queue to the run queue; then write the settled row.
// The row is written last because every step before it may change the
// promise's own count (a notify holds it; the value may name it), and the
// settled row carries that count over.
func (k *Kernel) resolve(kpid KRef, rejected bool, data marshal.CapData, resolver VatID) {
	k.settle(kpid, rejected, data, resolver, resolver == "")
}

// settle is resolve with the settlement's author given: byKernel says
// whether the value is the kernel's word (Output.ByKernel). The kernel can
// settle a promise with a value a vat wrote: a send to a promise a vat
// rejected splats with that same rejection, which stays the vat's, or a
// forged kernel code in it would pass for the kernel's with errors.Is.
func (k *Kernel) settle(kpid KRef, rejected bool, data marshal.CapData, resolver VatID, byKernel bool) {
	p := k.mustPromise(kpid)
	// Callers checked authority (checkResolver) or are the kernel, which
	// settles only what is unresolved; a second settlement is a bug.
	if p.State != persistence.PromiseUnresolved {
		bugf("resolve of settled promise %s", kpid)
	}
	for _, sub := range p.Subscribers {
		// The resolver knows already (liveslots settles a promise it
		// resolves locally), and its c-list entry goes with the resolve:
		// a notify would be a crank that delivers nothing.
		if VatID(sub) != resolver {
			k.enqueueNotify(VatID(sub), kpid)
		}
	}
	// The value is the kernel's copy from here on (the vat's slices are
	// its own), and holds a reachable reference to each kref it names
	// until the promise is freed (gc.go).
	data = data.Clone()
	k.incSlots(data.Slots)
	// INVARIANT 13: the queue moves to the run queue's tail in order, in
	// this unit, behind everything already queued, so messages sent on
	// kpid before it settled keep their order among themselves and ahead
	// of any send made on it from now on (which enqueueSend puts on the
	// run queue directly). Each is routed through the value when its turn
	// comes (router.go).
	for seq := p.QueueHead; seq < p.QueueTail; seq++ {
		m, ok := k.st.QueuedMessage(string(kpid), seq)
		if !ok {
			bugf("message %d of %s's queue missing", seq, kpid)
		}
		k.st.DeleteQueuedMessage(string(kpid), seq)
		// A lateral move: the message keeps the references it holds.
		k.st.Enqueue(persistence.QueueItem{Kind: persistence.QueueSend, Target: string(kpid), Message: m})
	}
	// Notifies and the value's slots may have counted kpid itself: read
	// the row again before writing it.
	p = k.mustPromise(kpid)
	state := persistence.PromiseFulfilled
	if rejected {
		state = persistence.PromiseRejected
	}
	// A subcluster's bootstrap promise: a rejection dooms the launch, and
	// the termination runs at the end of this unit (launch.go).
	k.bootstrapSettledLocked(kpid, rejected, data)
	if p.HostSubscribed {
		// INVARIANT 3: queued in the unit's outputs, released only once
		// the unit's SQLite transaction commits. ByKernel records whose
		// word this is (invariant 7): a kernel settlement's codes are the
		// kernel's, a vat's are only the vat's, also when the kernel
		// relays it (settle).
		k.unitOut = append(k.unitOut, Output{KPID: kpid, Rejected: rejected, Value: data.Clone(), ByKernel: byKernel})
		// The host gets krefs it may use later: each object the value names
		// is pinned for it until it calls Unpin (the reference instead
		// keeps the whole promise, and so everything, forever).
		for _, s := range data.Slots {
			if ref := KRef(s); ref.IsObject() {
				k.pin(ref)
			}
		}
	}
	refs := p.RefCount
	if p.HostSubscribed {
		refs-- // the host's hold is used up by the Output
	}
	// The settled row keeps only what a settled promise has: its value,
	// its count and who settled it. The decider, subscribers, host flag
	// and queue bounds go (the auditor checks that none is left).
	k.st.PutPromise(string(kpid), persistence.PromiseRow{
		State:           state,
		Value:           persistence.Data{Body: data.Body, Slots: data.Slots},
		RefCount:        refs,
		SettledByKernel: byKernel,
	})
	// Nothing holds it any more (a host message whose result only the
	// host awaited): freed at the end of the unit.
	if refs == 0 {
		k.maybeFree[kpid] = struct{}{}
	}
}

// rejectAsDecider rejects kpid on behalf of its current decider, whoever
// that is now (after a rollback the decider is what the restored state
// says). This is how splats settle a message's result (invariant
// 8; ocap-kernel #879).
//
// MetaMask ocap-kernel's routeAsSplat passes the promise's decider to
// resolvePromises for the same reason; here the decider of a queued
// result is always the kernel (syscallSend). byKernel says whether value
// is the kernel's own word (a splat code) or a vat's rejection relayed (a
// send to a promise the vat rejected): the kernel settles, but the words
// stay the vat's.
func (k *Kernel) rejectAsDecider(kpid KRef, value marshal.CapData, byKernel bool) {
	p := k.mustPromise(kpid)
	// Should not happen (a queued result is the kernel's to settle, and it
	// is settled once); logged rather than a panic, since the splat
	// itself has nothing left to do.
	if p.State != persistence.PromiseUnresolved {
		k.log.Error().Str("kpid", string(kpid)).Msg("splat of a message whose result is already settled")
		return
	}
	k.log.Debug().Str("kpid", string(kpid)).Str("decider", p.Decider).Msg("kernel rejects on behalf of the current decider")
	k.settle(kpid, true, value, "", byKernel)
}

// promisesToRetire lists kpid and every settled promise reachable from its
// value through promise slots: a notify delivers them all at once, and
// they all leave the vat's c-list (SwingSet's getKpidsToRetire).
//
// Breadth-first from kpid, in the order the values name them, so the
// delivery's order is a function of the state (the kernel is
// deterministic). Unresolved promises stop the walk: the vat keeps those,
// and hears of them by their own notify.
//
// The list is appended to buf[:0]: a notify nearly always retires one
// promise, and a caller's small array on its stack then holds the list
// with no allocation per crank.
func (k *Kernel) promisesToRetire(kpid KRef, buf []KRef) []KRef {
	return k.promisesToRetireFrom(kpid, k.mustPromise(kpid).Value, buf)
}

// promisesToRetireFrom is promisesToRetire for a caller that has kpid's
// settled value at hand already.
func (k *Kernel) promisesToRetireFrom(kpid KRef, value persistence.Data, buf []KRef) []KRef {
	seen := map[KRef]bool{kpid: true}
	order := append(buf[:0], kpid)
	for i := 0; i < len(order); i++ {
		if i > 0 {
			value = k.mustPromise(order[i]).Value
		}
		for _, s := range value.Slots {
			ref := KRef(s)
			if !ref.IsPromise() || seen[ref] {
				continue
			}
			if q, ok := k.st.Promise(s); ok && q.State != persistence.PromiseUnresolved {
				seen[ref] = true
				order = append(order, ref)
			}
		}
	}
	return order
}

// toCapData views a stored value as CapData, sharing its slices: callers
// that keep or change it Clone it.
func toCapData(d persistence.Data) marshal.CapData {
	return marshal.CapData{Body: d.Body, Slots: d.Slots}
}
