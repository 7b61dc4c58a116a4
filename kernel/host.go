package kernel

import (
	"context"
	"fmt"

	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/persistence"
)

// Host requests: each is one unit of work of its own, handled between
// cranks (invariant 11).
//
// The host is not a vat: it has no c-list and names kernel refs directly
// (krefs it was given in LaunchResult, an Output, or a registry). So the
// checks a c-list makes for a vat are made here instead: every kref the
// host hands in must be well formed and live, and a bad request is
// refused before its unit opens, so it changes nothing. A request's
// outputs, like a crank's, are released only after the commit that
// covers them (invariant 3).

// QueueMessage queues a message from the host to target and returns its
// result promise, which the host awaits: its settlement comes back as an
// Output. The methargs must be a valid message (ErrBadMessage), and the
// target and every slot must name live krefs; a malformed message or an
// unknown kref is refused at once and nothing is created (the reference
// leaks a promise here).
func (k *Kernel) QueueMessage(ctx context.Context, target KRef, methargs marshal.CapData) (KRef, []Output, error) {
	// Checked outside the unit: checking reads only, and a refusal must
	// not cost a unit (nor, under group commit, a place in a flush).
	if err := k.checkMessage(target, methargs); err != nil {
		return "", nil, err
	}
	var kpid KRef
	out, err := k.hostUnit(ctx, func() error {
		kpid = k.queueFromHostLocked(target, methargs)
		return nil
	})
	if err != nil {
		return "", nil, err
	}
	return kpid, out, nil
}

// checkMessage refuses a host message that is not a well-formed message
// (checked as a vat's would be), or whose target or slots do not name live
// krefs.
func (k *Kernel) checkMessage(target KRef, methargs marshal.CapData) error {
	// INVARIANT 14: the host is held to the vats' rule, so the receiver is
	// never handed a message it cannot decode, whoever sent it.
	if err := marshal.ValidateMessage(methargs); err != nil {
		return fmt.Errorf("%w: %w", ErrBadMessage, err)
	}
	if _, err := ParseKRef(string(target)); err != nil {
		return err
	}
	if err := k.checkLive(target); err != nil {
		return fmt.Errorf("message target: %w", err)
	}
	// Every slot is counted as a reference when the message is queued
	// (incRef panics on a missing object), so each must name a live
	// object or promise now.
	for i, s := range methargs.Slots {
		if _, err := ParseKRef(s); err != nil {
			return fmt.Errorf("slot %d: %w", i, err)
		}
		if err := k.checkLive(KRef(s)); err != nil {
			return fmt.Errorf("slot %d: %w", i, err)
		}
	}
	return nil
}

// queueFromHostLocked queues a checked host message, with a result promise
// the host is subscribed to.
func (k *Kernel) queueFromHostLocked(target KRef, methargs marshal.CapData) KRef {
	// The kernel decides the result while the message waits, as for a
	// vat's send (syscallSend); the receiver becomes the decider at
	// delivery (prepareSend).
	kpid := k.newPromise("")
	p := k.mustPromise(kpid)
	// The host's subscription is a flag, not a subscriber: the host has no
	// c-list to notify, and hears through an Output instead (resolve). It
	// holds a reference, so the promise cannot be freed while the host
	// waits; the settlement uses the reference up making the Output.
	p.HostSubscribed = true
	p.RefCount++ // the host's hold, used up by the Output
	k.st.PutPromise(string(kpid), p)
	k.enqueueSend(target, methargs, kpid)
	return kpid
}

// checkLive reports why a kref from the host cannot be used: an object
// that existed once but was deleted gives ErrObjectDeleted (ids are never
// reused, so the host held a real reference); anything else unknown gives
// ErrUnknownRef.
//
// The distinction lets the host tell "you held a real reference, and the
// object is gone" (the same code a vat's send would splat with) from "you
// made that kref up".
func (k *Kernel) checkLive(kref KRef) error {
	if k.refExists(kref) {
		return nil
	}
	if kref.IsObject() {
		if n, _ := persistence.IDNumber(string(kref)); n < k.st.PeekID(persistence.MetaNextObject) {
			return ErrObjectDeleted
		}
	}
	return ErrUnknownRef
}

// Revoke revokes an object: from now on every message sent to it splats
// with OBJECT_REVOKED (messages already delivered are not affected). It is
// idempotent and permanent.
//
// Revocation is a flag the router reads at dequeue (router.go), so
// messages already queued to the object splat too; the object's counts,
// its exporter and its importers are untouched, and GC goes on as usual.
func (k *Kernel) Revoke(ctx context.Context, koid KRef) ([]Output, error) {
	if _, err := ParseKRef(string(koid)); err != nil {
		return nil, err
	}
	if koid.IsPromise() {
		return nil, ErrPromiseNotRevocable
	}
	return k.hostUnit(ctx, func() error {
		o, ok := k.st.Object(string(koid))
		if !ok {
			return ErrUnknownRef
		}
		// Written only on the first revoke: a repeat leaves the unit
		// empty.
		if !o.Revoked {
			o.Revoked = true
			k.st.PutObject(string(koid), o)
		}
		return nil
	})
}

// IsRevoked reports whether an object has been revoked.
func (k *Kernel) IsRevoked(koid KRef) (bool, error) {
	if _, err := ParseKRef(string(koid)); err != nil {
		return false, err
	}
	if koid.IsPromise() {
		return false, ErrPromiseNotRevocable
	}
	o, ok := k.st.Object(string(koid))
	if !ok {
		return false, ErrUnknownRef
	}
	return o.Revoked, nil
}

// ScheduleReap asks vat to bring out its dead (collect garbage and report
// drops) in a crank of its own, ahead of the run queue. Reaps are a set:
// asking twice before the first is delivered schedules one.
func (k *Kernel) ScheduleReap(ctx context.Context, vat VatID) ([]Output, error) {
	return k.hostUnit(ctx, func() error {
		if err := k.checkActive(vat); err != nil {
			return err
		}
		k.st.AddReap(string(vat))
		return nil
	})
}

// PromiseState reports a promise's state and, once settled, its value. A
// promise freed after it settled is ErrUnknownRef: the kernel keeps a
// settled value only while something refers to it (the host's hold ends
// with its Output; idempotency records and subclusters keep theirs).
func (k *Kernel) PromiseState(kpid KRef) (state persistence.PromiseState, value marshal.CapData, err error) {
	p, ok := k.st.Promise(string(kpid))
	if !ok {
		return "", marshal.CapData{}, ErrUnknownRef
	}
	return p.State, toCapData(p.Value), nil
}

// metaServicePrefix keys the host services in the meta table:
// "service.<name>" -> the object's kref.
const metaServicePrefix = "service."

// ServiceRef returns the object registered as host service name.
func (k *Kernel) ServiceRef(name string) (KRef, bool) {
	v, ok := k.st.Meta(metaServicePrefix + name)
	return KRef(v), ok
}

// SetServiceRef records koid as host service name (the runtime pins it).
// The record itself holds no reference and is not counted: the pin the
// runtime takes is what keeps the object alive.
func (k *Kernel) SetServiceRef(ctx context.Context, name string, koid KRef) ([]Output, error) {
	return k.hostUnit(ctx, func() error {
		if err := k.checkLive(koid); err != nil {
			return err
		}
		k.st.SetMeta(metaServicePrefix+name, string(koid))
		return nil
	})
}
