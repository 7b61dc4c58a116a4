package kernel

import (
	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/persistence"
)

// The router decides where a queued send goes (as MetaMask
// ocap-kernel's KernelRouter does): to the vat that owns its target, onto an unresolved
// promise's queue, or splat.
//
// Routing happens when the send reaches the head of the run queue, not
// when it was sent: what counts is the state now. A target object
// revoked, orphaned or deleted since the send splats; a promise settled
// since forwards to its value. That is why termination and a new
// incarnation need only orphan objects (Owner ""): messages already
// queued to them splat here, without reaching the vat (invariants 9 and
// 15).
//
// A splat is the kernel settling the message's result (invariant 8: on
// behalf of the current decider, rejectAsDecider) and releasing the
// message's references; it is a crank that commits, not a failure.

// routeKind is what routeSend decided.
type routeKind uint8

const (
	routeDeliver routeKind = iota + 1 // deliver to vat
	routeRequeue                      // wait on an unresolved promise
	routeSplat                        // reject the result with splat
)

// route is where one send goes. Which fields are set depends on kind.
type route struct {
	kind   routeKind
	vat    VatID           // routeDeliver: the owner
	target KRef            // routeDeliver: the object; routeRequeue: the promise
	splat  marshal.CapData // routeSplat: the rejection
	// vatWord: the splat relays a vat's rejection (the target promise's),
	// not a kernel code.
	vatWord bool
	reason  string // routeSplat: for the log
}

// routeSend decides where a send to target goes (the reference's
// KernelRouter #routeMessage). It only reads: the caller carries the
// route out, so a decision and its effects sit in the same unit.
func (k *Kernel) routeSend(target KRef) route {
	if target.IsObject() {
		return k.routeToObject(target)
	}
	p := k.mustPromise(target)
	switch p.State {
	case persistence.PromiseUnresolved:
		if isRemoteEndpoint(p.Decider) {
			// Pipelining across kernels: a send to a promise a peer
			// decides goes to that peer, not back and forth through its
			// resolution (enqueueSend put it on the run queue for this).
			return route{kind: routeDeliver, vat: VatID(p.Decider), target: target}
		}
		// Acceptance puts sends to unresolved promises on the promise's
		// own queue (enqueueSend), so a run-queue send never targets one;
		// a store written by a build from before that rule can still hold
		// such an item, and it waits on the promise as it used to.
		return route{kind: routeRequeue, target: target}
	case persistence.PromiseRejected:
		// The message's result is rejected with the promise's own reason
		// (a pipelined send on a failed call fails the same way), which
		// is the kernel's word only if the kernel rejected it.
		return route{kind: routeSplat, splat: toCapData(p.Value), vatWord: !p.SettledByKernel, reason: "target promise rejected"}
	}
	// Fulfilled: a promise for an object forwards to the object, as if the
	// send had been made to it (promise pipelining). Anything else (data,
	// a record holding a ref) has no object to deliver to. A value that is
	// a single promise splats too, where the reference requeues on the
	// inner promise: here no promise is ever fulfilled to a bare promise
	// (syscallResolve refuses the redirect), so that case does not arise.
	if slot, isPromise, ok := marshal.SingleRef(toCapData(p.Value)); ok && !isPromise {
		return k.routeToObject(KRef(slot))
	}
	return route{kind: routeSplat, splat: rejection(ErrBadPromiseResolution), reason: "target promise fulfilled to data"}
}

// routeToObject routes a send to koid's owner, or splats it. The order of
// the checks is the reference's (#routeMessage's routeAsSend): revoked is
// reported before "no owner", so a revoked object whose vat is gone still
// tells the sender it was revoked. Every splat code is a constant
// *Error, with no ref in it (invariant 7).
func (k *Kernel) routeToObject(koid KRef) route {
	o, ok := k.st.Object(string(koid))
	switch {
	case !ok:
		return route{kind: routeSplat, splat: rejection(ErrObjectDeleted), reason: "target object deleted"}
	case o.Revoked:
		return route{kind: routeSplat, splat: rejection(ErrObjectRevoked), reason: "target object revoked"}
	case o.Owner == "":
		return route{kind: routeSplat, splat: rejection(ErrObjectDeleted), reason: "target object has no owner"}
	}
	return route{kind: routeDeliver, vat: VatID(o.Owner), target: koid}
}

// splatSend drops a dequeued send: its references are released and its
// result, if any, rejected on behalf of the result's current decider.
// A sendOnly (no result) only releases: nobody asked to hear about it
// (invariant 8 has nothing to settle).
func (k *Kernel) splatSend(target KRef, m persistence.Message, value marshal.CapData, byKernel bool) {
	k.dropSendRefs(target, m)
	if m.Result != "" {
		k.rejectAsDecider(KRef(m.Result), value, byKernel)
	}
}

// prepareSend turns a routed send into vat's delivery: the result's
// decider becomes the vat, every ref is translated into the vat's space
// (importing as needed), and the queue's references are released.
//
// target is the object the send reaches, queued the kref it was queued on
// (a settled promise that forwarded to target, or target itself): the
// queue item's reference is to queued, so that is the one released.
func (k *Kernel) prepareSend(vat VatID, target KRef, queued KRef, m persistence.Message) Delivery {
	d := Delivery{Kind: DeliverMessage}
	d.Target = k.krefToVRef(vat, target, true)
	d.Message.Methargs = marshal.CapData{Body: m.Methargs.Body, Slots: k.slotsToVRefs(vat, m.Methargs.Slots)}
	if m.Result != "" {
		result := KRef(m.Result)
		p := k.mustPromise(result)
		// While queued, the result's authority is the kernel's alone
		// (syscallSend, queueFromHostLocked): no vat could have settled or
		// claimed it, so finding it otherwise is a kernel bug.
		if p.State != persistence.PromiseUnresolved || p.Decider != "" {
			bugf("result %s of a queued send is settled or already decided", m.Result)
		}
		// The authority passes to the receiver now, inside the crank's
		// unit: if the delivery fails, the rollback makes the kernel the
		// decider again, and a splat settles the result for the kernel,
		// not for a vat that may be gone (invariant 8).
		k.setDecider(&p, vat)
		k.st.PutPromise(m.Result, p)
		d.Message.Result = k.krefToVRef(vat, result, true)
	}
	// Last: the receiver's imports are counted before the queue's
	// references go, so no count passes through zero on the way. (GC
	// would see only the unit's final counts anyway, gc.go; the order
	// just keeps maybeFree empty.)
	k.dropSendRefs(queued, m)
	return d
}

// prepareNotify turns a notify item into vat's delivery, or reports that
// there is nothing to deliver: the vat is gone, or no longer holds the
// promise (it learned of it some other way). The promises delivered leave
// the vat's c-list.
//
// Examples of "learned of it some other way": an earlier notify carried
// this promise along with the one it was for (promisesToRetire); a new
// incarnation dropped the vat's promises (incarnation.go).
// consumeNotifyLocked is what a notify that could not be delivered leaves
// behind (retakeAndConsume): the item's reference is released, and the
// settled promises it would have delivered leave the vat's c-list, as
// prepareNotify takes them out; the values are not translated, so nothing
// is imported into a c-list the vat never heard of.
func (k *Kernel) consumeNotifyLocked(vat VatID, kpid KRef) {
	k.decRef(kpid, true)
	if v, ok := k.st.Vat(string(vat)); !ok || v.State != persistence.VatActive {
		return
	}
	if _, ok := k.st.CList(string(vat), string(kpid)); !ok {
		return
	}
	var buf [4]KRef
	for _, t := range k.promisesToRetire(kpid, buf[:0]) {
		k.deleteCListEntry(vat, t)
	}
}

func (k *Kernel) prepareNotify(vat VatID, kpid KRef) (Delivery, bool) {
	// The notify item's reference is released whether or not anything is
	// delivered: the item is consumed either way.
	k.decRef(kpid, true) // the notify item's reference
	// A notify queued before its vat was terminated: termination removes
	// subscriptions but not items already on the run queue.
	if v, ok := k.st.Vat(string(vat)); !ok || v.State != persistence.VatActive {
		return Delivery{}, false
	}
	if _, ok := k.st.CList(string(vat), string(kpid)); !ok {
		return Delivery{}, false
	}
	// Notifies are queued only by resolve (for a settled promise) and by
	// subscribe (to one already settled), and nothing unsettles a promise.
	// p is read once for the crank: nothing below changes a promise's
	// state or value (translation only touches c-lists and counts), so it
	// also serves promisesToRetire's walk and the first resolution.
	p := k.mustPromise(kpid)
	if p.State == persistence.PromiseUnresolved {
		bugf("notify of unresolved promise %s", kpid)
	}
	// The delivery carries kpid and every settled promise its value leads
	// to, so the vat learns a chain of settlements in one crank and all of
	// them can leave its c-list together (the reference's #deliverNotify
	// with getKpidsToRetire).
	var buf [4]KRef // room for the usual chain; a longer one allocates
	targets := k.promisesToRetireFrom(kpid, p.Value, buf[:0])
	d := Delivery{Kind: DeliverNotify, Resolutions: make([]VatResolution, 0, len(targets))}
	for i, t := range targets {
		if i > 0 {
			p = k.mustPromise(t)
		}
		d.Resolutions = append(d.Resolutions, VatResolution{
			VPID:     k.krefToVRef(vat, t, true),
			Rejected: p.State == persistence.PromiseRejected,
			Data:     marshal.CapData{Body: p.Value.Body, Slots: k.slotsToVRefs(vat, p.Value.Slots)},
		})
	}
	// INVARIANT 10: settled promises leave the c-list once delivered.
	// Only after every target is translated: a later target's value may
	// name an earlier target, and translating it after that entry was
	// deleted would import the promise again under a new vref, so the vat
	// would get a resolution for one vref and a value naming another.
	for _, t := range targets {
		k.deleteCListEntry(vat, t)
	}
	return d, true
}
