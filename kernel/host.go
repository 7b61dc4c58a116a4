package kernel

import (
	"context"
	"fmt"

	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/persistence"
)

// Host requests: each is one unit of work of its own, handled between
// cranks (DESIGN.md invariant 11).

// QueueMessage queues a message from the host to target and returns its
// result promise, which the host awaits: its settlement comes back as an
// Output. The methargs must be a valid message (ErrBadMessage), and the
// target and every slot must name live krefs; a malformed message or an
// unknown kref is refused at once and nothing is created (the reference
// leaks a promise here, semantics §4.2).
func (k *Kernel) QueueMessage(ctx context.Context, target KRef, methargs marshal.CapData) (KRef, []Output, error) {
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
	if err := marshal.ValidateMessage(methargs); err != nil {
		return fmt.Errorf("%w: %w", ErrBadMessage, err)
	}
	if _, err := ParseKRef(string(target)); err != nil {
		return err
	}
	if err := k.checkLive(target); err != nil {
		return fmt.Errorf("message target: %w", err)
	}
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
	kpid := k.newPromise("")
	p := k.mustPromise(kpid)
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
// drops) in a crank of its own, ahead of the run queue.
func (k *Kernel) ScheduleReap(ctx context.Context, vat VatID) ([]Output, error) {
	return k.hostUnit(ctx, func() error {
		if err := k.checkActive(vat); err != nil {
			return err
		}
		k.st.AddReap(string(vat))
		return nil
	})
}

// PromiseState reports a promise's state and, once settled, its value.
func (k *Kernel) PromiseState(kpid KRef) (state persistence.PromiseState, value marshal.CapData, err error) {
	p, ok := k.st.Promise(string(kpid))
	if !ok {
		return "", marshal.CapData{}, ErrUnknownRef
	}
	return p.State, toCapData(p.Value), nil
}

const metaServicePrefix = "service."

// ServiceRef returns the object registered as host service name.
func (k *Kernel) ServiceRef(name string) (KRef, bool) {
	v, ok := k.st.Meta(metaServicePrefix + name)
	return KRef(v), ok
}

// SetServiceRef records koid as host service name (the runtime pins it).
func (k *Kernel) SetServiceRef(ctx context.Context, name string, koid KRef) ([]Output, error) {
	return k.hostUnit(ctx, func() error {
		if err := k.checkLive(koid); err != nil {
			return err
		}
		k.st.SetMeta(metaServicePrefix+name, string(koid))
		return nil
	})
}
