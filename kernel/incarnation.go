package kernel

import (
	"context"
	"strings"

	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/persistence"
)

// Incarnations. A vat's heap (its ephemeral objects, its JavaScript or Go
// promises, what it imported and kept only in memory) lives as long as one
// incarnation. A restart (the failure policy, or the host's RestartVat),
// an upgrade (new code) and a kernel restart (the process went away, so
// every heap did) each begin a new incarnation from the vat's durable
// state, its vatstore. Whatever only the old heap could answer for must be
// settled in the same unit that begins the new one, or it is stranded
// forever (invariants 12 and 15, docs/invariants.md):
//
//   - promises the old incarnation decided are rejected with
//     VAT_TERMINATED, so their subscribers hear and the messages queued
//     on them splat;
//   - promises it imported stay in its c-list, subscription and all, as
//     SwingSet keeps them at upgrade: liveslots keeps durable promise
//     watchers (watchPromise) in the vatstore and re-imports their vpids
//     in the new incarnation, which must then hear the settlement. A
//     notify for a vpid the new heap has forgotten is harmless (liveslots
//     ignores it), and it takes the entry out of the c-list as any notify
//     does;
//   - its non-durable exports (ephemeral o+N objects and virtual o+vK/I
//     objects; not the root, which every incarnation rebuilds, and not
//     durable o+dK/I objects) are abandoned, as SwingSet does at
//     upgrade: the object loses its owner, a send to it splats
//     OBJECT_DELETED without reaching the vat, and its importers see the
//     normal GC. Holding a stale reference is then never enough to make
//     the new incarnation fault.
//
// The reference kernel keeps ephemeral exports pointing at the vat, so a
// stale message reaches the new incarnation, which fails the delivery and
// is terminated for it.

// incarnationEvent names why a new incarnation begins, in the vat log.
type incarnationEvent string

const (
	eventRestarted incarnationEvent = "restarted"
	eventUpgraded  incarnationEvent = "upgraded"
	eventResumed   incarnationEvent = "resumed"
)

// restartedMessage is the rejection of promises whose deciding
// incarnation ended without the vat being terminated.
const restartedMessage = "The vat that decides this promise was restarted"

// errRestarted is that rejection, made once: withMessage scrubs refs with
// a regular expression, which at a resume of 100,000 vats cost a fifth of
// the kernel's share. It is never changed, as the sentinels are not.
var errRestarted = ErrVatTerminated.withMessage(restartedMessage)

// beginIncarnationLocked ends vat's current incarnation and begins the
// next inside the open unit: the incarnation number goes up, the event is
// logged, and what only the old heap knew is settled (see above). cfg, if
// not nil, is the vat's new config (an upgrade). The caller delivers
// startVat to the new incarnation in the same unit.
func (k *Kernel) beginIncarnationLocked(vat VatID, ev incarnationEvent, reason string, cfg []byte) {
	row, _ := k.st.Vat(string(vat))
	row.Incarnation++
	if cfg != nil {
		row.Config = string(cfg)
	}
	k.st.PutVat(string(vat), row)
	k.st.AppendVatEvent(persistence.VatEvent{Vat: string(vat), Incarnation: row.Incarnation, Event: string(ev),
		Reason: reason, AtCrank: CrankCount(k.st)})
	k.rejectDecidedLocked(vat, errRestarted)
	for _, s := range k.clistEphemeralCandidates(vat) {
		kref := KRef(s)
		e, ok := k.st.CList(string(vat), s)
		if !ok {
			continue // a rejection above already retired it
		}
		// Imported promises stay (see above): a durable watcher in the
		// new heap may be waiting for them. The ones the vat decided were
		// rejected above and have left the c-list.
		if !kref.IsPromise() && ephemeralExport(VRef(e.VRef)) {
			// INVARIANT 15: abandoned in the unit that begins the new
			// incarnation, before any delivery can reach it.
			k.orphanObject(vat, kref)
		}
	}
}

// ephemeralExport reports whether vref names an object the vat exported
// that lives only in one incarnation's heap: o+N other than the root, or a
// virtual o+vK/I. Durable objects (o+dK/I) and the root survive.
func ephemeralExport(vref VRef) bool {
	info, err := parseVRef(vref)
	if err != nil || info.promise || !info.export || vref == RootVRef {
		return false
	}
	return !strings.HasPrefix(string(vref), "o+d")
}

// rejectDecidedLocked rejects, with why, every unresolved promise vat
// decides, and takes each out of its c-list (the rejection is the kernel's
// word, not the vat's). Termination and a new incarnation both need it.
func (k *Kernel) rejectDecidedLocked(vat VatID, why *Error) {
	var value marshal.CapData
	made := false // encoded at the first promise: most vats decide none
	for _, s := range k.clistPromises(vat) {
		kpid := KRef(s)
		if !kpid.IsPromise() {
			continue
		}
		if p := k.mustPromise(kpid); p.State == persistence.PromiseUnresolved && p.Decider == string(vat) {
			if !made {
				value, made = rejection(why), true
			}
			// Unsubscribe first: the vat must not be sent a notify of its
			// own promise's rejection.
			k.unsubscribe(vat, kpid)
			k.resolve(kpid, true, value, "")
			k.deleteCListEntry(vat, kpid)
		}
	}
}

// Resume begins a new incarnation of every active vat after the kernel
// restarted on an existing store (a clean stop or a crash: either way
// every heap is gone), each in a unit of its own and in id order, exactly
// as RestartVat does: promises the lost heaps decided are rejected, their
// non-durable exports abandoned, and each vat is started from its durable
// state. Before that, in a unit of its own, it lets go of the host
// subscriptions of the process that went away: nobody awaits them now
// (the objects their values name would otherwise be pinned forever).
//
// A vat that fails to start is left as it was, and Resume stops there with
// an error naming it: the operator may have forgotten to register its
// bundle, and terminating it would destroy its state. Vats resumed before
// it stay resumed; calling Resume again resumes every vat again, which is
// harmless.
//
// Resume is ResumeWith with no options: every vat is started.
func (k *Kernel) Resume(ctx context.Context, d Deliverer) ([]Output, error) {
	_, out, err := k.ResumeWith(ctx, d, ResumeOptions{})
	return out, err
}

// dropHostSubscriptionsLocked releases every host subscription: the hold
// each unresolved host-awaited promise keeps for its Output. A subcluster's
// bootstrap promise keeps its own reference (SubclusterRow.BootstrapKPID).
func (k *Kernel) dropHostSubscriptionsLocked() {
	for _, s := range k.st.PromiseKPIDs() {
		p, _ := k.st.Promise(s)
		if !p.HostSubscribed {
			continue
		}
		p.HostSubscribed = false
		k.st.PutPromise(s, p)
		k.decRef(KRef(s), true)
	}
}

// newIncarnationUnit begins vat's next incarnation and starts it, in one
// unit; a failed start aborts the unit, changing nothing, and is returned.
func (k *Kernel) newIncarnationUnit(ctx context.Context, vat VatID, d Deliverer, ev incarnationEvent, reason string, cfg []byte) ([]Output, error) {
	if err := k.checkActive(vat); err != nil {
		return nil, err
	}
	if err := k.begin(); err != nil {
		return nil, err
	}
	k.beginIncarnationLocked(vat, ev, reason, cfg)
	if err := k.deliverStart(ctx, d, vat); err != nil {
		k.abort()
		return nil, err
	}
	return k.commit(ctx)
}
