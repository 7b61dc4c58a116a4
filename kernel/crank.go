package kernel

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ocapgo/kernel-actors/marshal"

	"github.com/ocapgo/kernel-actors/persistence"
)

// WorkKind says what unit of work a crank did.
type WorkKind uint8

// Work kinds.
const (
	WorkNone WorkKind = iota
	WorkSend
	WorkNotify
	WorkDropExports
	WorkRetireExports
	WorkRetireImports
	WorkBringOutYourDead
	// WorkNegatedGC: pending GC actions turned out not to apply any more;
	// the crank only removed them.
	WorkNegatedGC
)

var workNames = [...]string{"none", "send", "notify", "dropExports", "retireExports", "retireImports", "bringOutYourDead", "negatedGC"}

func (w WorkKind) String() string {
	if int(w) < len(workNames) {
		return workNames[w]
	}
	return "work?"
}

// Outcome says how a crank ended.
type Outcome uint8

// Outcomes.
const (
	// Idle: there was no work; nothing changed.
	Idle Outcome = iota
	// Committed: the crank's unit of work committed.
	Committed
	// Aborted: the delivery failed; its effects were rolled back, and the
	// item (if any) is back at the head of its queue.
	Aborted
	// Deferred: the target vat cannot take deliveries right now (the
	// Deliverer said ErrVatUnavailable: it is restarting). Nothing changed;
	// the caller cranks again once the vat is back.
	Deferred
)

func (o Outcome) String() string {
	return [...]string{"idle", "committed", "aborted", "deferred"}[o]
}

// CrankResult is what one crank did.
type CrankResult struct {
	Outcome Outcome
	Work    WorkKind
	// Crank is the crank's number (1, 2, ...), 0 when Idle.
	Crank uint64
	// Vat is the vat the work concerned ("" for a splat or requeue).
	Vat VatID
	// Delivered reports that a delivery was made to Vat.
	Delivered bool
	// Routed says what became of a send that was not delivered:
	// "requeued" or "splat: <reason>".
	Routed string
	// Syscalls is the number of syscalls the vat made.
	Syscalls int
	// Method is a send's method, read only when debug logging is on.
	Method string
	// Failure is why the crank aborted: a VAT_FATAL *Error.
	Failure error
	// Terminated lists the vats this crank terminated. The runtime must
	// stop them (a direct stop, never a wait on the crank: invariant 16).
	Terminated []VatID
	// Restart names a vat that failed under the restart policy, and the
	// kernel decided to restart it: the crank was rolled back and its item
	// consumed (its result rejected), and the vat stays active. The
	// runtime must stop the failed incarnation's actor and call RestartVat
	// once RestartAfter has passed, and not deliver to it meanwhile (the
	// kernel's Deliverer answers ErrVatUnavailable). A vat that failed too
	// often is terminated instead, and listed in Terminated.
	Restart      VatID
	RestartAfter time.Duration
	// Released are the outputs made durable by this crank's commit (with
	// group commit, possibly those of earlier cranks too).
	Released []Output
}

// work is one unit of work picked for a crank.
type work struct {
	kind WorkKind
	item persistence.QueueItem // WorkSend, WorkNotify
	gc   gcWork                // GC kinds
	vat  VatID                 // WorkBringOutYourDead
}

// gcWorkKind is the work a GC action kind makes.
func gcWorkKind(k persistence.GCKind) WorkKind {
	switch k {
	case persistence.GCDropExport:
		return WorkDropExports
	case persistence.GCRetireExport:
		return WorkRetireExports
	}
	return WorkRetireImports
}

// gcDeliveryKind is the delivery a GC work kind makes.
func gcDeliveryKind(w WorkKind) DeliveryKind {
	switch w {
	case WorkDropExports:
		return DeliverDropExports
	case WorkRetireExports:
		return DeliverRetireExports
	}
	return DeliverRetireImports
}

// pickWork takes the next unit of work inside the open unit, in the
// reference's priority order: GC actions, then reaps, then the run queue
// (as MetaMask ocap-kernel does). INVARIANT 2: the dequeue happens inside the
// crank's unit, so an abort puts the item back at the head.
func (k *Kernel) pickWork() (work, bool) {
	gw, ok, negated := k.nextGCWork()
	if ok {
		return work{kind: gcWorkKind(gw.kind), gc: gw}, true
	}
	if negated {
		return work{kind: WorkNegatedGC}, true
	}
	if vat, ok := k.st.NextReap(); ok {
		k.st.DeleteReap(vat)
		return work{kind: WorkBringOutYourDead, vat: VatID(vat)}, true
	}
	if it, ok := k.st.Dequeue(); ok {
		kind := WorkSend
		if it.Kind == persistence.QueueNotify {
			kind = WorkNotify
		}
		return work{kind: kind, item: it}, true
	}
	return work{}, false
}

// HasWork reports whether a crank would find work.
func (k *Kernel) HasWork() bool {
	return k.st.GCActionCount() > 0 || k.st.ReapCount() > 0 || k.st.QueueLen() > 0
}

// Crank runs exactly one unit of work (invariant 1): one GC
// action group, one reap, or one run-queue item, delivered through d, as
// one atomic unit. It returns what happened; the error is non-nil only
// when the kernel cannot go on (the store failed) or ctx ended mid-crank,
// never because of a vat's fault (invariant 4).
func (k *Kernel) Crank(ctx context.Context, d Deliverer) (CrankResult, error) {
	if err := k.begin(); err != nil {
		return CrankResult{}, err
	}
	w, ok := k.pickWork()
	if !ok {
		k.abort()
		return CrankResult{Outcome: Idle}, nil
	}
	res := CrankResult{Work: w.kind, Crank: k.st.NextID(metaNextCrank)}
	if w.kind == WorkSend && k.debug {
		res.Method, _ = marshal.MethodName(toCapData(w.item.Message.Methargs))
	}
	dv, vat, deliver := k.prepare(w, &res)
	if !deliver {
		return k.finish(ctx, res)
	}
	res.Vat = vat
	dl := &delivery{k: k, vat: vat}
	err := d.Deliver(ctx, vat, dv, dl)
	// INVARIANT: no syscall of this delivery is honoured after Deliver
	// returns (a straggling vat goroutine is refused).
	dl.closed = true
	res.Syscalls = dl.syscalls
	res.Delivered = true
	switch {
	case dl.illegal != nil:
		return k.failVat(ctx, w, res, ErrIllegalSyscall, dl.illegal)
	case err != nil && errors.Is(err, ErrVatFault):
		return k.failVat(ctx, w, res, ErrInternalError.withMessage(vatFaultMessage(err)), err)
	case err == nil && dl.exit != nil && dl.exit.failure:
		return k.failVat(ctx, w, res, ErrInternalError.withMessage("Vat exited with a failure"), fmt.Errorf("exit(failure): %s", dl.exit.info))
	case err != nil && errors.Is(err, ErrVatUnavailable):
		k.abort()
		return CrankResult{Outcome: Deferred, Work: w.kind, Vat: vat}, nil
	case err != nil && ctx.Err() != nil:
		// The kernel is stopping, not the vat failing: undo the crank and
		// leave the item for the next run.
		k.abort()
		return CrankResult{Outcome: Aborted, Work: w.kind, Vat: vat}, ctx.Err()
	case err != nil && errors.Is(err, ErrNoEndpoint):
		return k.consumeAfterFailure(ctx, res, ErrEndpointUnreachable, err)
	case err != nil:
		return k.consumeAfterFailure(ctx, res, ErrDeliveryFailed, err)
	}
	if dl.exit != nil {
		// A clean exit commits the delivery's effects and terminates the
		// vat in the same unit, so no crash can separate the two.
		k.terminateVatLocked(vat, "vat exited")
	}
	return k.finish(ctx, res)
}

// vatFaultMessage is the part of a vat fault worth reporting: the text
// after the ErrVatFault prefix, scrubbed of refs by withMessage.
func vatFaultMessage(err error) string {
	msg := strings.TrimPrefix(err.Error(), ErrVatFault.Error()+": ")
	if len(msg) > 300 {
		msg = msg[:300] + "..."
	}
	return msg
}

// prepare does the kernel side of w inside the open unit and returns the
// delivery to make, if any.
func (k *Kernel) prepare(w work, res *CrankResult) (Delivery, VatID, bool) {
	switch w.kind {
	case WorkSend:
		target := KRef(w.item.Target)
		r := k.routeSend(target)
		switch r.kind {
		case routeRequeue:
			k.queueOnPromise(r.target, w.item.Message)
			res.Routed = "requeued"
			return Delivery{}, "", false
		case routeSplat:
			k.splatSend(target, w.item.Message, r.splat, !r.vatWord)
			res.Routed = "splat: " + r.reason
			return Delivery{}, "", false
		}
		return k.prepareSend(r.vat, r.target, target, w.item.Message), r.vat, true
	case WorkNotify:
		vat := VatID(w.item.Vat)
		res.Vat = vat
		d, ok := k.prepareNotify(vat, KRef(w.item.KPID))
		return d, vat, ok
	case WorkDropExports, WorkRetireExports, WorkRetireImports:
		vrefs := k.applyGCDelivery(w.gc)
		return Delivery{Kind: gcDeliveryKind(w.kind), VRefs: vrefs}, w.gc.vat, true
	case WorkBringOutYourDead:
		res.Vat = w.vat
		if v, ok := k.st.Vat(string(w.vat)); !ok || v.State != persistence.VatActive {
			return Delivery{}, "", false
		}
		return Delivery{Kind: DeliverBringOutYourDead}, w.vat, true
	}
	return Delivery{}, "", false // WorkNegatedGC: the unit only drops actions
}

// finish commits the crank's unit.
func (k *Kernel) finish(ctx context.Context, res CrankResult) (CrankResult, error) {
	out, err := k.commit(ctx)
	if err != nil {
		return CrankResult{}, err
	}
	res.Outcome = Committed
	res.Released = out
	res.Terminated = k.TakeStopped()
	k.logCrank(res)
	return res, nil
}

// failVat handles a vat's fault (invariant 4): roll the crank
// back, terminate the vat in a unit of its own, and tell the host at once
// that its send failed. The item stays at the head of the queue; its retry
// splats against the terminated vat and settles the kernel promise.
func (k *Kernel) failVat(ctx context.Context, w work, res CrankResult, failure *Error, detail error) (CrankResult, error) {
	vat := res.Vat
	k.abort()
	if k.policyOf(vat) == PolicyRestart {
		return k.failForRestart(ctx, res, failure, detail)
	}
	k.log.Warn().Str("vat", string(vat)).Stringer("work", w.kind).Err(detail).Msg("vat failed a delivery; crank rolled back, vat terminated")
	if err := k.begin(); err != nil {
		return CrankResult{}, err
	}
	res.Crank = k.st.NextID(metaNextCrank)
	k.terminateVatLocked(vat, failure.Error())
	if w.kind == WorkSend && w.item.Message.Result != "" {
		if p, ok := k.st.Promise(w.item.Message.Result); ok && p.HostSubscribed {
			k.unitOut = append(k.unitOut, Output{KPID: KRef(w.item.Message.Result), Rejected: true, Value: rejection(failure), Aborted: true, ByKernel: true})
		}
	}
	out, err := k.commit(ctx)
	if err != nil {
		return CrankResult{}, err
	}
	res.Outcome = Aborted
	res.Failure = failure
	res.Terminated = k.TakeStopped()
	res.Released = out
	k.logCrank(res)
	return res, nil
}

// failForRestart handles a vat's fault under the restart policy: the crank
// is rolled back, and in a unit of its own the item is consumed (a
// message's result rejected with the failure, a notification dropped: the
// next incarnation would not know the promise) so that a message that
// makes the vat fail cannot make it fail again and again. The vat stays
// active; the runtime restarts it.
func (k *Kernel) failForRestart(ctx context.Context, res CrankResult, failure *Error, detail error) (CrankResult, error) {
	vat := res.Vat
	k.log.Warn().Str("vat", string(vat)).Stringer("work", res.Work).Err(detail).Msg("vat failed a delivery; crank rolled back, vat to be restarted")
	if err := k.retakeAndConsume(&res, failure); err != nil {
		return CrankResult{}, err
	}
	after, giveUp := k.applyRestartPolicyLocked(vat, failure.Error())
	out, err := k.commit(ctx)
	if err != nil {
		return CrankResult{}, err
	}
	res.Outcome = Aborted
	res.Failure = failure
	// The consumed item may have been a pending bootstrap, whose rejection
	// terminated the vat's whole subcluster: then there is nothing to
	// restart.
	if v, ok := k.st.Vat(string(vat)); !giveUp && ok && v.State == persistence.VatActive {
		res.Restart, res.RestartAfter = vat, after
	}
	res.Terminated = k.TakeStopped()
	res.Released = out
	k.logCrank(res)
	return res, nil
}

// policyOf reads a vat's failure policy from its config.
func (k *Kernel) policyOf(vat VatID) FailurePolicy {
	info, err := k.Vat(vat)
	if err != nil || info.Config.FailurePolicy == "" {
		return PolicyTerminate
	}
	return info.Config.FailurePolicy
}

// consumeAfterFailure handles a delivery that failed for a reason other
// than the vat's fault (invariant 6): the delivery's effects are
// rolled back and the item consumed; a message's result is rejected with
// code. The failure is logged in full, since the code says little.
func (k *Kernel) consumeAfterFailure(ctx context.Context, res CrankResult, code *Error, detail error) (CrankResult, error) {
	k.abort()
	if code == ErrDeliveryFailed {
		k.log.Error().Str("vat", string(res.Vat)).Stringer("work", res.Work).Err(detail).Msg("delivery failed")
	} else {
		k.log.Info().Str("vat", string(res.Vat)).Stringer("work", res.Work).Err(detail).Msg("endpoint gone; message splats")
	}
	if err := k.retakeAndConsume(&res, code); err != nil {
		return CrankResult{}, err
	}
	if res.Work == WorkSend {
		res.Routed = "splat: " + string(code.Code)
	}
	res.Delivered = false
	return k.finish(ctx, res)
}

// retakeAndConsume opens a unit after an abort, takes the same work again
// (the abort put it back at the head) and consumes it: a message's result
// is rejected with reason, a notification is dropped. GC actions and reaps
// need nothing more: pickWork took them out of their sets.
func (k *Kernel) retakeAndConsume(res *CrankResult, reason *Error) error {
	if err := k.begin(); err != nil {
		return err
	}
	w, ok := k.pickWork()
	if !ok || w.kind != res.Work {
		bugf("work changed across an abort")
	}
	res.Crank = k.st.NextID(metaNextCrank)
	switch w.kind {
	case WorkSend:
		k.splatSend(KRef(w.item.Target), w.item.Message, rejection(reason), true)
	case WorkNotify:
		k.decRef(KRef(w.item.KPID), true)
	}
	return nil
}

func (k *Kernel) logCrank(res CrankResult) {
	ev := k.log.Debug()
	if !ev.Enabled() {
		return
	}
	ev.Uint64("crank", res.Crank).Stringer("work", res.Work).Str("vat", string(res.Vat)).
		Str("method", res.Method).Stringer("outcome", res.Outcome).Int("syscalls", res.Syscalls)
	if res.Routed != "" {
		ev.Str("routed", res.Routed)
	}
	if res.Failure != nil {
		ev.AnErr("failure", res.Failure)
	}
	ev.Msg("crank")
}
