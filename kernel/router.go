package kernel

import (
	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/persistence"
)

// The router decides where a queued send goes (as MetaMask
// ocap-kernel's KernelRouter does): to the vat that owns its target, onto an unresolved
// promise's queue, or splat.

type routeKind uint8

const (
	routeDeliver routeKind = iota + 1 // deliver to vat
	routeRequeue                      // wait on an unresolved promise
	routeSplat                        // reject the result with splat
)

// route is where one send goes.
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

// routeSend decides where a send to target goes.
func (k *Kernel) routeSend(target KRef) route {
	if target.IsObject() {
		return k.routeToObject(target)
	}
	p := k.mustPromise(target)
	switch p.State {
	case persistence.PromiseUnresolved:
		// Acceptance puts sends to unresolved promises on the promise's
		// own queue (enqueueSend), so a run-queue send never targets one;
		// a store written by a build from before that rule can still hold
		// such an item, and it waits on the promise as it used to.
		return route{kind: routeRequeue, target: target}
	case persistence.PromiseRejected:
		// The message's result is rejected with the promise's own reason,
		// which is the kernel's word only if the kernel rejected it.
		return route{kind: routeSplat, splat: toCapData(p.Value), vatWord: !p.SettledByKernel, reason: "target promise rejected"}
	}
	if slot, isPromise, ok := marshal.SingleRef(toCapData(p.Value)); ok && !isPromise {
		return k.routeToObject(KRef(slot))
	}
	return route{kind: routeSplat, splat: rejection(ErrBadPromiseResolution), reason: "target promise fulfilled to data"}
}

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
func (k *Kernel) splatSend(target KRef, m persistence.Message, value marshal.CapData, byKernel bool) {
	k.dropSendRefs(target, m)
	if m.Result != "" {
		k.rejectAsDecider(KRef(m.Result), value, byKernel)
	}
}

// prepareSend turns a routed send into vat's delivery: the result's
// decider becomes the vat, every ref is translated into the vat's space
// (importing as needed), and the queue's references are released.
func (k *Kernel) prepareSend(vat VatID, target KRef, queued KRef, m persistence.Message) Delivery {
	d := Delivery{Kind: DeliverMessage}
	d.Target = k.krefToVRef(vat, target, true)
	d.Message.Methargs = marshal.CapData{Body: m.Methargs.Body, Slots: k.slotsToVRefs(vat, m.Methargs.Slots)}
	if m.Result != "" {
		result := KRef(m.Result)
		p := k.mustPromise(result)
		if p.State != persistence.PromiseUnresolved || p.Decider != "" {
			bugf("result %s of a queued send is settled or already decided", m.Result)
		}
		k.setDecider(&p, vat)
		k.st.PutPromise(m.Result, p)
		d.Message.Result = k.krefToVRef(vat, result, true)
	}
	k.dropSendRefs(queued, m)
	return d
}

// prepareNotify turns a notify item into vat's delivery, or reports that
// there is nothing to deliver: the vat is gone, or no longer holds the
// promise (it learned of it some other way). The promises delivered leave
// the vat's c-list.
func (k *Kernel) prepareNotify(vat VatID, kpid KRef) (Delivery, bool) {
	k.decRef(kpid, true) // the notify item's reference
	if v, ok := k.st.Vat(string(vat)); !ok || v.State != persistence.VatActive {
		return Delivery{}, false
	}
	if _, ok := k.st.CList(string(vat), string(kpid)); !ok {
		return Delivery{}, false
	}
	if p := k.mustPromise(kpid); p.State == persistence.PromiseUnresolved {
		bugf("notify of unresolved promise %s", kpid)
	}
	targets := k.promisesToRetire(kpid)
	d := Delivery{Kind: DeliverNotify, Resolutions: make([]VatResolution, 0, len(targets))}
	for _, t := range targets {
		p := k.mustPromise(t)
		d.Resolutions = append(d.Resolutions, VatResolution{
			VPID:     k.krefToVRef(vat, t, true),
			Rejected: p.State == persistence.PromiseRejected,
			Data:     marshal.CapData{Body: p.Value.Body, Slots: k.slotsToVRefs(vat, p.Value.Slots)},
		})
	}
	for _, t := range targets {
		k.deleteCListEntry(vat, t)
	}
	return d, true
}
