package kernel

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rs/zerolog"

	"github.com/ocapgo/kernel-actors/marshal"

	"github.com/ocapgo/kernel-actors/persistence"
)

// WorkKind says what unit of work a crank did. The kinds are the
// reference's run-queue item types (MetaMask ocap-kernel's RunQueueItem:
// send, notify, dropExports, retireExports, retireImports,
// bringOutYourDead) plus SwingSet's negated-gc-action; the order of the
// constants is their String names' order in workNames, not priority
// (pickWork fixes that).
type WorkKind uint8

// Work kinds.
const (
	// WorkNone: no work was picked (the zero value, for an Idle crank).
	WorkNone WorkKind = iota
	// WorkSend: a message from the run queue, delivered, or splatted by
	// the router without a delivery.
	WorkSend
	// WorkNotify: a promise settlement delivered to one subscriber.
	WorkNotify
	// WorkDropExports, WorkRetireExports and WorkRetireImports: one group
	// of GC actions for one vat (gc.go), delivered as one call.
	WorkDropExports
	WorkRetireExports
	WorkRetireImports
	// WorkBringOutYourDead: a reap the host scheduled (ScheduleReap).
	WorkBringOutYourDead
	// WorkNegatedGC: pending GC actions turned out not to apply any more;
	// the crank only removed them. It is a unit of its own so that the
	// removal commits even when no group is left to deliver (SwingSet
	// does the same); otherwise every later crank would re-examine them.
	WorkNegatedGC
)

// workNames are the WorkKind names, in constant order, as logs and
// scenario output print them.

var workNames = [...]string{"none", "send", "notify", "dropExports", "retireExports", "retireImports", "bringOutYourDead", "negatedGC"}

// String names w as the logs and DescribeCrank print it.
func (w WorkKind) String() string {
	if int(w) < len(workNames) {
		return workNames[w]
	}
	return "work?"
}

// Outcome says how a crank ended. Idle and Deferred changed nothing, not
// even the crank counter.
type Outcome uint8

// Outcomes.
const (
	// Idle: there was no work; nothing changed.
	Idle Outcome = iota
	// Committed: the crank's unit of work committed.
	Committed
	// Aborted: the delivery failed and its effects were rolled back. Under
	// the terminate policy the item (if any) is back at the head of its
	// queue, to splat on its retry; under the restart policy it was
	// consumed. Either way a unit of its own committed after the rollback
	// (the termination, or the consumption), and that is what the crank
	// number counts. A crank cut short by ctx is Aborted too, with its
	// item in place and nothing committed.
	Aborted
	// Deferred: the target vat cannot take deliveries right now (the
	// Deliverer said ErrVatUnavailable: it is restarting). Nothing changed;
	// the caller cranks again once the vat is back.
	Deferred
)

// String names o as the logs and DescribeCrank print it.
func (o Outcome) String() string {
	return [...]string{"idle", "committed", "aborted", "deferred"}[o]
}

// CrankResult is what one crank did. The kernel fills it; the runtime
// (actors/) acts on Terminated, Restart and Released, and the rest is for
// logs, metrics and scenario tests (DescribeCrank).
type CrankResult struct {
	// Outcome says how the crank ended, and Work what it picked.
	Outcome Outcome
	Work    WorkKind
	// Crank is the crank's number (1, 2, ...); 0 when Idle, Deferred or
	// cut short by ctx, which commit nothing. It is taken inside the
	// crank's unit, so an aborted unit gives its number back and the unit
	// that follows the abort takes it again: the numbers of committed
	// cranks have no gaps (CrankCount).
	Crank uint64
	// Vat is the vat the work concerned ("" for a send the router
	// splatted or requeued without a delivery).
	Vat VatID
	// Delivered reports that a delivery was made to Vat. After a delivery
	// that failed for a reason other than the vat's fault it is false: the
	// delivery's effects were undone and the item splatted.
	Delivered bool
	// Routed says what became of a send that was not delivered:
	// "splat: <reason>", or "requeued", which only a store written before
	// sends to unresolved promises were queued at acceptance can still
	// produce (router.go).
	Routed string
	// Syscalls is the number of syscalls the delivery was charged for
	// (limits.go): every one up to and including the first illegal one;
	// those refused after it are not counted.
	Syscalls int
	// Method is a send's method, read only when debug logging is on (or
	// Config.CrankMethods).
	Method string
	// Dequeued reports that the crank's committed unit took its item off
	// the head of the run queue (a send or notify that was delivered,
	// splatted or consumed after a failure). It is false for GC work and
	// reaps, and for an aborted crank that left its item at the head for
	// its retry (the terminate policy). A runtime that follows run-queue
	// items by position (tracing: which crank queued the item a crank
	// takes) moves its head by it; the queue is strictly FIFO, so that is
	// all it needs.
	Dequeued bool
	// Failure is why the crank aborted: a VAT_FATAL *Error, with no ref in
	// its message (invariant 7); the detail went to the log.
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
	// group commit, possibly those of earlier cranks too). The runtime
	// answers the host with them, and only with them (invariant 3).
	Released []Output
}

// work is one unit of work picked for a crank, taken out of its queue or
// set inside the crank's unit. Which field is set depends on kind.
type work struct {
	kind WorkKind
	item persistence.QueueItem // WorkSend, WorkNotify: the dequeued item
	gc   gcWork                // GC kinds: the group nextGCWork chose
	vat  VatID                 // WorkBringOutYourDead: the vat to reap
}

// gcWorkKind is the work a GC action kind makes. An unknown kind cannot
// reach here: the store refuses to load one (persistence's CHECKs), and
// the auditor reports one in a read-only snapshot.
func gcWorkKind(k persistence.GCKind) WorkKind {
	switch k {
	case persistence.GCDropExport:
		return WorkDropExports
	case persistence.GCRetireExport:
		return WorkRetireExports
	}
	return WorkRetireImports
}

// gcDeliveryKind is the delivery a GC work kind makes; only the three GC
// kinds reach it (prepare).
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
// (MetaMask ocap-kernel's KernelQueue #getNextRunQueueItem, which follows
// SwingSet's processGCActionSet-first rule). So a run queue that never
// empties cannot starve GC, and a pending action is delivered, or found
// negated, before more sends can pile up behind it.
//
// It is also called after an abort, to take the same work again
// (retakeAndConsume): the abort restored every set and queue, so the same
// call in the same state picks the same work. pickWork must therefore
// depend on nothing but the store.
func (k *Kernel) pickWork() (work, bool) {
	// nextGCWork deletes every action it examines, valid or not; the
	// deletions are part of this unit, so an abort brings them back.
	gw, ok, negated := k.nextGCWork()
	if ok {
		return work{kind: gcWorkKind(gw.kind), gc: gw}, true
	}
	if negated {
		return work{kind: WorkNegatedGC}, true
	}
	if vat, ok := k.st.NextReap(); ok {
		// INVARIANT 2: the reap request leaves its set inside the crank's
		// unit: an aborted bring-out-your-dead is asked for again.
		k.st.DeleteReap(vat)
		return work{kind: WorkBringOutYourDead, vat: VatID(vat)}, true
	}
	// INVARIANT 2: the dequeue happens inside the crank's unit, so an
	// abort puts the item back at the head, where its retry splats or is
	// consumed; a dequeue outside it would lose the item to a crash.
	if it, ok := k.st.Dequeue(); ok {
		kind := WorkSend
		if it.Kind == persistence.QueueNotify {
			kind = WorkNotify
		}
		return work{kind: kind, item: it}, true
	}
	return work{}, false
}

// HasWork reports whether a crank would find work. It can say yes when
// the only work is negated GC actions: that crank still commits (their
// removal), so a loop on HasWork always ends.
func (k *Kernel) HasWork() bool {
	return k.st.GCActionCount() > 0 || k.st.ReapCount() > 0 || k.st.QueueLen() > 0
}

// Crank runs exactly one unit of work (invariant 1): one GC
// action group, one reap, or one run-queue item, delivered through d, as
// one atomic unit. It returns what happened; the error is non-nil only
// when the kernel cannot go on (the store failed) or ctx ended mid-crank,
// never because of a vat's fault (invariant 4).
//
// The shape is SwingSet's processDeliveryMessage and MetaMask
// ocap-kernel's KernelQueue #runLoop (take an item, deliver it, commit or
// roll back), with one difference in how a failure ends: the reference
// rolls back to the crank's savepoint and terminates the vat within the
// same crank; here the rollback ends the crank's unit, and the consequence (a
// termination, or the consumption of the item) is a unit of its own,
// opened on the restored state (failVat, consumeAfterFailure).
func (k *Kernel) Crank(ctx context.Context, d Deliverer) (CrankResult, error) {
	if err := k.begin(); err != nil {
		return CrankResult{}, err
	}
	w, ok := k.pickWork()
	if !ok {
		// Nothing to do: drop the empty unit rather than commit it, so an
		// idle kernel writes nothing and the crank counter stays put.
		k.abort()
		return CrankResult{Outcome: Idle}, nil
	}
	// The crank number is taken inside the unit: an abort gives it back,
	// and the unit that follows (failVat, consumeAfterFailure) takes the
	// same number again.
	res := CrankResult{Work: w.kind, Crank: k.st.NextID(metaNextCrank)}
	if w.kind == WorkSend && k.debug {
		// Decoding the method costs a parse of the body per crank; only a
		// debug log line reads it.
		res.Method, _ = marshal.MethodName(toCapData(w.item.Message.Methargs))
	}
	// The kernel side first: route, translate into the vat's space and
	// release the queue's references. A splat, a notify for a vat that no
	// longer holds the promise, or a reap of a dead vat needs no
	// delivery, and the crank commits what prepare did.
	dv, vat, deliver := k.prepare(w, &res)
	if !deliver {
		return k.finish(ctx, res)
	}
	res.Vat = vat
	dl := &delivery{k: k, vat: vat}
	err := d.Deliver(ctx, vat, dv, dl)
	// INVARIANT 1: no syscall of this delivery is honoured after Deliver
	// returns. A vat goroutine the runtime abandoned (invariant 16) may
	// still call in; without this its syscall would write into whatever
	// unit is open next, another crank's.
	dl.closed = true
	res.Syscalls = dl.syscalls
	res.Delivered = true
	// The order of the cases is the order of precedence. An illegal
	// syscall comes first whatever Deliver returned (invariant 5): a vat
	// that catches the ErrIllegalSyscall answer and returns cleanly has
	// still failed. A vat fault comes before the ctx check: an error that
	// says the vat failed is the vat's even if ctx ended meanwhile. An
	// exit counts only
	// when Deliver itself succeeded: a failed delivery is handled as its
	// error says, exit or no exit.
	switch {
	case dl.illegal != nil:
		return k.failVat(ctx, w, res, ErrIllegalSyscall, dl.illegal)
	case err != nil && errors.Is(err, ErrVatFault):
		return k.failVat(ctx, w, res, ErrInternalError.withMessage(vatFaultMessage(err)), err)
	case err == nil && dl.exit != nil && dl.exit.failure:
		return k.failVat(ctx, w, res, ErrInternalError.withMessage("Vat exited with a failure"), fmt.Errorf("exit(failure): %s", dl.exit.info))
	case err != nil && errors.Is(err, ErrVatUnavailable):
		// The vat is between incarnations (the runtime is restarting it):
		// undo everything, crank number included, and let the runtime
		// crank again once the vat is back. Nothing is consumed, so the
		// item keeps its place and E-order holds (invariant 13).
		k.abort()
		return CrankResult{Outcome: Deferred, Work: w.kind, Vat: vat}, nil
	case err != nil && ctx.Err() != nil:
		// The kernel is stopping, not the vat failing: undo the crank and
		// leave the item for the next run (invariant 12: nothing lost,
		// nothing delivered twice once the store is reopened).
		k.abort()
		return CrankResult{Outcome: Aborted, Work: w.kind, Vat: vat}, ctx.Err()
	case err != nil && errors.Is(err, ErrNoEndpoint):
		// INVARIANT 6: only a vanished endpoint is ENDPOINT_UNREACHABLE.
		return k.consumeAfterFailure(ctx, res, ErrEndpointUnreachable, err)
	case err != nil:
		// INVARIANT 6: any other failure is DELIVERY_FAILED, logged in
		// full; it is not hidden and not blamed on the vat.
		return k.consumeAfterFailure(ctx, res, ErrDeliveryFailed, err)
	}
	if dl.exit != nil {
		// A clean exit commits the delivery's effects and terminates the
		// vat in the same unit, so no crash can separate the two. The
		// vat's last sends and resolutions stand (the vat chose to go),
		// unlike a failure exit, whose delivery is rolled back above.
		k.terminateVatLocked(vat, "vat exited")
	}
	return k.finish(ctx, res)
}

// vatFaultMessage is the part of a vat fault worth reporting: the text
// after the ErrVatFault prefix, scrubbed of refs by withMessage. It is cut
// at 300 bytes because it goes into the host's error and the vat log, and
// a vat's panic text is the vat's to make as long as it likes.
func vatFaultMessage(err error) string {
	msg := strings.TrimPrefix(err.Error(), ErrVatFault.Error()+": ")
	return truncate(msg, 300)
}

// truncate cuts s to at most n bytes, at a rune boundary, marking the cut
// with "...": a vat's text must not come out as broken UTF-8.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// prepare does the kernel side of w inside the open unit and returns the
// delivery to make, if any. Everything it changes (deciders, c-list
// imports, released queue references, GC c-list updates) is part of the
// crank's unit, so a failed delivery undoes it with the rest.
func (k *Kernel) prepare(w work, res *CrankResult) (Delivery, VatID, bool) {
	switch w.kind {
	case WorkSend:
		target := KRef(w.item.Target)
		r := k.routeSend(target)
		switch r.kind {
		case routeRequeue:
			// Only an item from a store written before acceptance-time
			// queueing (router.go) gets here. The move is lateral: the
			// message keeps the references the run-queue item held.
			k.queueOnPromise(r.target, w.item.Message)
			res.Routed = "requeued"
			return Delivery{}, "", false
		case routeSplat:
			k.splatSend(target, w.item.Message, r.splat, !r.vatWord)
			res.Routed = "splat: " + r.reason
			return Delivery{}, "", false
		}
		// r.target is the object the send reaches (a settled promise
		// forwards to it), target the kref it was queued on, whose
		// reference the queue item holds.
		if isRemoteEndpoint(string(r.vat)) {
			// A presence of a peer's object: the send goes to its outbox,
			// in this unit, instead of a delivery (remote_route.go).
			k.prepareRemoteSend(RemoteID(r.vat), r.target, target, w.item.Message)
			res.Routed = "remote"
			return Delivery{}, "", false
		}
		if r.vat == kernelEndpoint {
			// One of the kernel's own objects (a URL service): the crank
			// carries the call out itself (remote_url_service.go).
			k.deliverToKernelService(r.target, target, w.item.Message)
			res.Routed = "kernel service"
			return Delivery{}, "", false
		}
		return k.prepareSend(r.vat, r.target, target, w.item.Message), r.vat, true
	case WorkNotify:
		vat := VatID(w.item.Vat)
		res.Vat = vat
		if isRemoteEndpoint(string(vat)) {
			k.prepareRemoteNotify(RemoteID(vat), KRef(w.item.KPID))
			return Delivery{}, "", false
		}
		d, ok := k.prepareNotify(vat, KRef(w.item.KPID))
		return d, vat, ok
	case WorkDropExports, WorkRetireExports, WorkRetireImports:
		// The c-list changes come before the delivery, as SwingSet's
		// translateDropExports & co do, so that the vat's own syscalls in
		// the delivery (a retireExports after a dropExports) see them.
		vrefs := k.applyGCDelivery(w.gc)
		if isRemoteEndpoint(string(w.gc.vat)) {
			res.Vat = w.gc.vat
			k.prepareRemoteGC(RemoteID(w.gc.vat), w.kind, vrefs)
			return Delivery{}, "", false
		}
		return Delivery{Kind: gcDeliveryKind(w.kind), VRefs: vrefs}, w.gc.vat, true
	case WorkBringOutYourDead:
		res.Vat = w.vat
		// A guard: ScheduleReap refuses a dead vat and termination
		// deletes the vat's reap, so only a store that broke those rules
		// holds a reap for a vat that is gone; it must not reach the dead
		// vat's endpoint, and the crank just drops it.
		if v, ok := k.st.Vat(string(w.vat)); !ok || v.State != persistence.VatActive {
			return Delivery{}, "", false
		}
		return Delivery{Kind: DeliverBringOutYourDead}, w.vat, true
	}
	return Delivery{}, "", false // WorkNegatedGC: the unit only drops actions
}

// finish commits the crank's unit (collecting its garbage first, in
// commit) and fills in what the commit released: the outputs now durable
// and the vats whose actors must stop.
func (k *Kernel) finish(ctx context.Context, res CrankResult) (CrankResult, error) {
	out, err := k.commit(ctx)
	if err != nil {
		return CrankResult{}, err
	}
	res.Outcome = Committed
	res.Released = out
	res.Terminated = k.TakeStopped()
	// Every path to here committed the unit that dequeued a send or
	// notify: delivered, splatted, or consumed after a failed delivery.
	res.Dequeued = res.Work == WorkSend || res.Work == WorkNotify
	k.logCrank(res)
	return res, nil
}

// failVat handles a vat's fault (invariant 4): roll the crank
// back, terminate the vat in a unit of its own, and tell the host at once
// that its send failed. The item stays at the head of the queue; its retry
// splats against the terminated vat and settles the kernel promise.
//
// This is MetaMask ocap-kernel's #processCrankResult abort path (roll
// back, reject the host's subscription at once, terminate), with the
// termination committed as its own unit after the rollback rather than
// inside the rolled-back crank. Leaving the item for its retry, instead of
// rejecting its result here, is what settles the result on behalf of the
// decider the restored state names (invariant 8): after the rollback the
// result is the kernel's again, not the dead vat's.
func (k *Kernel) failVat(ctx context.Context, w work, res CrankResult, failure *Error, detail error) (CrankResult, error) {
	vat := res.Vat
	// The rollback comes first: everything the failed delivery did (its
	// sends, resolutions, vatstore writes, the c-list imports and decider
	// change prepare made) is gone before the failure's own unit opens.
	k.abort()
	if k.policyOf(vat) == PolicyRestart {
		return k.failForRestart(ctx, res, failure, detail)
	}
	k.log.Warn().Str("vat", string(vat)).Stringer("work", w.kind).Err(detail).Msg("vat failed a delivery; crank rolled back, vat terminated")
	if err := k.begin(); err != nil {
		return CrankResult{}, err
	}
	// The number the aborted unit gave back: the termination is what this
	// crank committed.
	res.Crank = k.st.NextID(metaNextCrank)
	k.terminateVatLocked(vat, failure.Error())
	if w.kind == WorkSend && w.item.Message.Result != "" {
		// The early answer: a host awaiting this send hears now that the
		// vat failed, not only once the retry splats (which could be many
		// cranks later, behind GC and reaps). It is marked Aborted so the
		// runtime answers with it and ignores the settlement that follows;
		// the promise itself stays unresolved, and its host hold stays,
		// until that retry settles it.
		if p, ok := k.st.Promise(w.item.Message.Result); ok && p.HostSubscribed {
			k.unitOut = append(k.unitOut, Output{KPID: KRef(w.item.Message.Result), Rejected: true, Value: rejection(failure), Aborted: true, ByKernel: true})
		}
	}
	// INVARIANT 3: the early answer is an Output like any other, released
	// only with the commit of the termination it reports.
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
//
// Neither reference restarts a failed vat on its own: MetaMask
// ocap-kernel's #processCrankResult terminates it (restarting is a TODO
// there), and SwingSet terminates a vat whose delivery failed.
// The policy decision is the kernel's (policy.go), made in the same unit
// as the consumption, so a crash cannot separate "the item was consumed"
// from "the failure was counted".
func (k *Kernel) failForRestart(ctx context.Context, res CrankResult, failure *Error, detail error) (CrankResult, error) {
	vat := res.Vat
	k.log.Warn().Str("vat", string(vat)).Stringer("work", res.Work).Err(detail).Msg("vat failed a delivery; crank rolled back, vat to be restarted")
	// The caller aborted; this opens the unit that consumes the item.
	if err := k.retakeAndConsume(&res, failure); err != nil {
		return CrankResult{}, err
	}
	// The policy may terminate the vat (too many restarts in the window);
	// then it is listed in Terminated and Restart stays empty below.
	after, giveUp := k.applyRestartPolicyLocked(vat, failure.Error())
	out, err := k.commit(ctx)
	if err != nil {
		return CrankResult{}, err
	}
	res.Outcome = Aborted
	res.Failure = failure
	// retakeAndConsume dequeued the item again in the unit just committed.
	res.Dequeued = res.Work == WorkSend || res.Work == WorkNotify
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

// policyOf reads a vat's failure policy from its config. A vat whose
// config does not parse, or names no policy, is under PolicyTerminate:
// the reference's behaviour, and the one that cannot loop.
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
//
// The vat is not terminated: it did nothing wrong, and an endpoint that is
// gone for good is the runtime's to clean up. MetaMask ocap-kernel's
// KernelRouter #deliverSend splats on a vanished endpoint and rejects with
// DELIVERY_FAILED on a failed delivery too, but without rolling the
// delivery back, so what it did before failing stays. Here it never does.
func (k *Kernel) consumeAfterFailure(ctx context.Context, res CrankResult, code *Error, detail error) (CrankResult, error) {
	// Roll back first, so that the rejection below is made on the restored
	// state: the result is the kernel's to reject, not the vat's
	// (invariant 8), and whatever the vat did before failing is gone.
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
	// The delivery's effects are undone, so as far as the store is
	// concerned nothing was delivered.
	res.Delivered = false
	return k.finish(ctx, res)
}

// retakeAndConsume opens a unit after an abort, takes the same work again
// (the abort put it back at the head) and consumes it: a message's result
// is rejected with reason, a notification is dropped. GC actions and reaps
// are only taken out of their sets by pickWork; the c-list changes
// applyGCDelivery makes for a GC group are not made again here.
//
// Taking the work again, rather than reusing the w of the aborted crank,
// is what makes the consumption a unit of its own on the restored state:
// the dequeue is redone inside this unit (invariant 2), and a crash before
// its commit leaves the item in place.
func (k *Kernel) retakeAndConsume(res *CrankResult, reason *Error) error {
	if err := k.begin(); err != nil {
		return err
	}
	w, ok := k.pickWork()
	// pickWork is a function of the store, and the abort restored the
	// store: a different pick means the abort did not restore everything
	// (invariant 2 broken), a kernel bug.
	if !ok || w.kind != res.Work {
		bugf("work changed across an abort")
	}
	res.Crank = k.st.NextID(metaNextCrank)
	switch w.kind {
	case WorkSend:
		// Releases the item's references and rejects its result, if any,
		// on behalf of the current decider (the kernel, after the
		// rollback), with the kernel's own code. A sendOnly just releases.
		k.splatSend(KRef(w.item.Target), w.item.Message, rejection(reason), true)
	case WorkNotify:
		// The kernel side of the notify without the delivery: the item's
		// reference goes, and the settled promises leave the subscriber's
		// c-list (invariant 10), as a delivered notify would have done;
		// otherwise they would stay there, never notified, until the vat
		// is terminated.
		k.consumeNotifyLocked(VatID(w.item.Vat), KRef(w.item.KPID))
	case WorkDropExports, WorkRetireExports, WorkRetireImports:
		// INVARIANT 10: the c-list and count changes of the GC action are
		// made again, since pickWork took the actions out of their set
		// again; without them a dropped export stayed reachable with no
		// dropExport pending, and a retired object stayed forever.
		k.applyGCDelivery(w.gc)
	}
	return nil
}

// logCrank writes the crank's debug line; with debug logging off it costs
// one check, since it runs on every crank. A driver that writes the line
// itself (Config.QuietCranks) gets none from here.
func (k *Kernel) logCrank(res CrankResult) {
	if k.quietCranks {
		return
	}
	ev := k.log.Debug()
	if !ev.Enabled() {
		return
	}
	res.LogFields(ev).Msg("crank")
}

// LogFields adds the crank's fields to a log event: its number, work,
// vat, method, outcome and syscall count, and how a send was routed or
// why the crank failed when it was. They are what the kernel's own
// "crank" debug line carries; a driver that writes the line itself
// (Config.QuietCranks) adds what only it knows.
func (r CrankResult) LogFields(ev *zerolog.Event) *zerolog.Event {
	ev.Uint64("crank", r.Crank).Stringer("work", r.Work).Str("vat", string(r.Vat)).
		Str("method", r.Method).Stringer("outcome", r.Outcome).Int("syscalls", r.Syscalls)
	if r.Routed != "" {
		ev.Str("routed", r.Routed)
	}
	if r.Failure != nil {
		ev.AnErr("failure", r.Failure)
	}
	return ev
}
