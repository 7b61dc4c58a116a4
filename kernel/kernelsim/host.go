package kernelsim

import (
	"errors"
	"fmt"
	"slices"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/marshal"
)

// The host: its steps (host requests between cranks, each one unit of the
// kernel's, invariant 11 in docs/invariants.md), what it holds, and the
// outputs it gets.

// hostState is what the host holds. The host names things by kref; the
// model's ref behind each comes from where the host got it (a launch, a
// result it asked for, the value of an output).
type hostState struct {
	known map[kernel.KRef]refID
	order []kernel.KRef // in the order the host came to hold them
	// pins counts the pins outputs took for the host on each object; the
	// host may Unpin them.
	pins    map[kernel.KRef]int
	roots   map[kernel.KRef]bool
	results map[kernel.KRef]*message // every host message, by its result
	awaited map[kernel.KRef]bool     // the results not settled yet
	// stale holds results a kernel restart stopped the host awaiting: the
	// host still knows their kpids and may send to them, but the kernel
	// owes it nothing for them and may have freed them.
	stale map[kernel.KRef]bool
	last  kernel.KRef // where the last host-send step sent
}

// add records that the host holds k, which is r.
func (h *hostState) add(k kernel.KRef, r refID) {
	if _, ok := h.known[k]; !ok {
		h.order = append(h.order, k)
	}
	h.known[k] = r
}

// refs lists what the host may send to or pass, in order: its objects
// and the results it awaits. A settled result goes from the list: the
// kernel may free it as soon as the host's output is made.
func (h *hostState) refs(objectsOnly bool) []kernel.KRef {
	var out []kernel.KRef
	live := h.order[:0]
	for _, k := range h.order {
		if _, ok := h.known[k]; !ok {
			continue
		}
		live = append(live, k)
		if k.IsObject() || (!objectsOnly && (h.awaited[k] || h.stale[k])) {
			out = append(out, k)
		}
	}
	h.order = live
	return out
}

// pickKRef takes the i-th kref, modulo their number.
func pickKRef(ks []kernel.KRef, i int) (kernel.KRef, bool) {
	if len(ks) == 0 {
		return "", false
	}
	return ks[i%len(ks)], true
}

// hostSend queues a message from the host and records it; nil means the
// kernel refused it (a reference that no longer names anything).
func (w *world) hostSend(target kernel.KRef, method string, args []kernel.KRef, react string, act *Step) *message {
	on, ok := w.host.known[target]
	if !ok {
		// An output released since the step began settled it (group
		// commit): the host no longer holds it.
		return nil
	}
	args = slices.DeleteFunc(slices.Clone(args), func(k kernel.KRef) bool { _, ok := w.host.known[k]; return !ok })
	slots := make([]any, len(args))
	for i, a := range args {
		if a.IsPromise() {
			slots[i] = marshal.Ref{Slot: string(a), Promise: true}
		} else {
			slots[i] = marshal.Ref{Slot: string(a), Iface: "Alleged: thing"}
		}
	}
	m, data := w.newMessage(host, on, method, slots)
	m.react, m.act, m.finish = react, act, method == "finish"
	m.args = make([]refID, len(data.Slots))
	for i, s := range data.Slots {
		m.args[i] = w.host.known[kernel.KRef(s)]
	}
	kpid, out, err := w.d.K.QueueMessage(w.d.Ctx, target, data)
	if err != nil {
		w.checkRefusal(append([]kernel.KRef{target}, args...), err)
		return nil
	}
	// QueueMessage is a unit of its own: the message exists from here on,
	// whatever happens to the cranks after.
	m.committed = true
	w.stats.Messages++
	r := w.newRef(true, host)
	r.decider, r.msg, m.result, m.kpid = kernelDecides, m, r.id, kpid
	w.host.add(kpid, r.id)
	w.host.results[kpid] = m
	if act == nil && !m.finish {
		w.host.awaited[kpid] = true // a result to pipeline on (an act's is undefined)
	}
	w.d.Release(out)
	w.afterHost("send")
	return m
}

// checkRefusal checks that the kernel refused a host message only
// because it names an object that may be gone: the root of a vat that was
// terminated (the host holds everything else pinned or awaited).
func (w *world) checkRefusal(krefs []kernel.KRef, err error) {
	if errors.Is(err, kernel.ErrObjectDeleted) || errors.Is(err, kernel.ErrUnknownRef) {
		for _, k := range krefs {
			if w.host.roots[k] && !w.vats[w.refs[w.host.known[k]].owner].active {
				return
			}
			// With group commit a settled result can be freed before its
			// output is released: the host cannot tell that its result
			// promise is gone.
			if k.IsPromise() && w.p.Group > 0 && errors.Is(err, kernel.ErrUnknownRef) {
				w.stats.Refused["result freed before its output"]++
				return
			}
			// A result from before a kernel restart lives only as long as
			// something else holds it.
			if w.host.stale[k] && errors.Is(err, kernel.ErrUnknownRef) {
				w.stats.Refused["result from before a kernel restart freed"]++
				return
			}
		}
	}
	w.fail("kernel", "QueueMessage with %v refused: %v", krefs, err)
}

// runStep runs one step and the cranks after it. Steps run between
// cranks, as the actor runtime runs host requests.
func (w *world) runStep(s Step) {
	w.log("step %d: %s", w.step, s)
	if !w.doStep(s) {
		w.stats.Skipped[s.Kind]++
		return
	}
	w.stats.Steps[s.Kind]++
	if s.Kind == KindIdle {
		w.runIdle()
		return
	}
	for i := 0; i < s.Cranks && len(w.viol) == 0; i++ {
		if !w.crank() {
			break
		}
	}
}

// doStep does the step itself; false means it did not apply (its vat is
// gone, there was nothing to pick).
func (w *world) doStep(s Step) bool {
	if s.Kind == KindLaunch {
		w.launchOne(s.Vat)
		return true
	}
	if s.Vat >= len(w.vats) {
		return false // (a program cut short of the launch that makes it)
	}
	if s.Kind.isAct() {
		// A vat acts only inside a delivery: the host asks it to, through
		// its root, and the act runs when the message arrives (after what
		// is queued before it).
		v := w.vats[s.Vat]
		if !v.active {
			return false
		}
		return w.hostSend(v.root, "act", nil, "", &s) != nil
	}
	switch s.Kind {
	case KindHostSend:
		targets := w.host.refs(false)
		target, ok := pickKRef(targets, s.Target)
		if !ok {
			return false
		}
		if s.OnPromise {
			var ps []kernel.KRef
			for _, k := range targets {
				if k.IsPromise() {
					ps = append(ps, k)
				}
			}
			if p, ok := pickKRef(ps, s.Target); ok {
				target = p
			}
		}
		if s.Again && slices.Contains(targets, w.host.last) {
			target = w.host.last
		}
		w.host.last = target
		// The host exports nothing: its arguments are what it holds.
		var args []kernel.KRef
		for _, a := range s.Args {
			if k, ok := pickKRef(w.host.refs(false), a.Pick); ok {
				args = append(args, k)
			}
		}
		m := w.hostSend(target, "m", args, s.React, nil)
		for i := 0; i < s.Burst; i++ {
			w.hostSend(target, "m", args, s.React, nil)
		}
		for i := 0; i < s.Pipe && m != nil; i++ {
			w.host.last = m.kpid // the next "again" goes down the chain
			m = w.hostSend(m.kpid, "m", nil, s.React, nil)
		}
		return true
	case KindRevoke:
		// Not a root: a revoked root would make its vat deaf to acts for
		// the rest of the program.
		var objs []kernel.KRef
		for _, k := range w.host.refs(true) {
			if !w.host.roots[k] {
				objs = append(objs, k)
			}
		}
		k, ok := pickKRef(objs, s.Target)
		if !ok {
			return false
		}
		out, err := w.d.K.Revoke(w.d.Ctx, k)
		if err != nil {
			w.fail("kernel", "Revoke(%s) of an object the host holds: %v", k, err)
			return true
		}
		w.d.Release(out)
		if r := w.refs[w.host.known[k]]; r.revokedAt < 0 {
			r.revokedAt = w.step
		}
		w.afterHost("revoke")
	case KindUnpin:
		var pinned []kernel.KRef
		for _, k := range w.host.refs(true) {
			if w.host.pins[k] > 0 {
				pinned = append(pinned, k)
			}
		}
		k, ok := pickKRef(pinned, s.Target)
		if !ok {
			return false
		}
		out, err := w.d.K.Unpin(w.d.Ctx, k)
		if err != nil {
			w.fail("kernel", "Unpin(%s) of an object a result pinned: %v", k, err)
			return true
		}
		w.d.Release(out)
		if w.host.pins[k]--; w.host.pins[k] == 0 && !w.host.roots[k] {
			delete(w.host.known, k)
		}
		w.afterHost("unpin")
	case KindTerminate, KindRestart, KindUpgrade, KindReap:
		v := w.vats[s.Vat]
		if !v.active {
			return false
		}
		w.vatStep(v, s)
	case KindKernelRestart:
		if !w.p.File {
			return false
		}
		w.kernelRestart(s.Fail)
	case KindIdle:
	}
	return true
}

// vatStep does a host request about vat v and records in the model what
// the kernel must have done.
func (w *world) vatStep(v *simVat, s Step) {
	k := w.d.K
	switch s.Kind {
	case KindTerminate:
		out, err := k.TerminateVat(w.d.Ctx, v.id, "terminated by the simulation")
		if err != nil {
			w.fail("kernel", "TerminateVat(%s): %v", v.id, err)
			return
		}
		w.d.Release(out)
		w.terminate(v, "terminate")
	case KindRestart, KindUpgrade:
		// A failing start is the fake vat's FailStart: the new incarnation
		// faults in startVat.
		before, _ := k.Vat(v.id)
		if s.Fail {
			v.fv.FailStart = errors.New("kernelsim: the new incarnation fails to start")
		}
		var out []kernel.Output
		var err error
		if s.Kind == KindRestart {
			out, err = k.RestartVat(w.d.Ctx, v.id, w.d, "restarted by the simulation")
		} else {
			out, err = k.UpgradeVat(w.d.Ctx, v.id, w.d, kernel.VatConfig{Bundle: fmt.Sprintf("fake-v%d", v.inc+2)})
		}
		v.fv.FailStart = nil
		w.d.Release(out)
		after, _ := k.Vat(v.id)
		why := s.Kind.String()
		switch {
		case s.Fail && err == nil:
			w.fail("kernel", "%s of %s succeeded although its start failed", why, v.name)
		case !s.Fail && err != nil:
			w.fail("kernel", "%s of %s: %v", why, v.name, err)
		case s.Fail && s.Kind == KindRestart:
			// A restart that cannot start terminates the vat.
			if after.Active {
				w.fail("termination", "failed restart of %s left it active", v.name)
			}
			w.terminate(v, "restart failed")
		case s.Fail:
			// A failed upgrade changes nothing.
			if !after.Active || after.Incarnation != before.Incarnation {
				w.fail("kernel", "failed upgrade of %s changed it: active=%v incarnation %d -> %d", v.name, after.Active, before.Incarnation, after.Incarnation)
			}
		default:
			if after.Incarnation != before.Incarnation+1 {
				w.fail("kernel", "%s of %s: incarnation %d -> %d", why, v.name, before.Incarnation, after.Incarnation)
			}
			w.restart(v, why)
		}
	case KindReap:
		out, err := k.ScheduleReap(w.d.Ctx, v.id)
		if err != nil {
			w.fail("kernel", "ScheduleReap(%s): %v", v.id, err)
			return
		}
		w.d.Release(out)
		v.reaps = append(v.reaps, s.Target)
	}
	w.afterHost(s.Kind.String())
}

// kernelRestart stops the kernel (crash: as kill -9) and resumes a new one
// over the file. The model's ledger outlives the kernel: every message
// sent before is still owed its one delivery, in order (invariants 12 and
// 13, docs/invariants.md).
//
// Only a durable store crashes (Generate sees to it): with group commit a
// crash loses committed cranks by design, and the model would need the
// crash test's ledger of acknowledged effects to follow.
func (w *world) kernelRestart(crash bool) {
	w.d.RestartKernel(crash)
	w.stats.KernelRestarts++
	w.processOutputs()
	// Resume restarts every vat (its heap is gone with the process): the
	// model expects the kernel to have rejected what they decided and
	// abandoned their non-durable exports. With resume pending, the vats
	// keep their heaps, as if all of it were durable, and nothing is
	// expected of the kernel but to carry on.
	if w.opts.Pending.Has(FeatureResume) {
		return
	}
	// The host is a new process too: the kernel drops what the old one
	// awaited (nobody is there to hear). The host may still send to those
	// results (E-order across the restart), but expects no output for
	// them. The objects earlier outputs pinned stay pinned and held.
	for kpid, m := range w.host.results {
		if m.hostOutputs == 0 && !m.deaf {
			m.deaf = true
			if w.host.awaited[kpid] {
				w.host.stale[kpid] = true
			}
			delete(w.host.awaited, kpid)
		}
	}
	for _, v := range w.vats {
		if v.active {
			v.kernelRestarted = true
			w.restart(v, "kernel restart")
		}
	}
	w.afterHost("kernel restart")
}

// afterHost checks the state after a host request: the auditor, the
// outputs it released, the vats alive.
func (w *world) afterHost(what string) {
	w.d.AuditNow(what)
	w.processOutputs()
	w.checkActive()
}

// processOutputs checks the host's outputs released since the last call:
// one settlement per host message (after at most one early rejection of
// an aborted delivery), each as the model has it.
func (w *world) processOutputs() {
	rel := w.d.Released
	for ; w.outSeen < len(rel); w.outSeen++ {
		o := rel[w.outSeen]
		m := w.host.results[o.KPID]
		if m == nil {
			w.fail("exactly-once", "output %s for a promise the host never asked for", kernel.DescribeOutput(o))
			continue
		}
		// INVARIANT 4 (docs/invariants.md): a send whose delivery failed is
		// answered at once with the fatal code; the kernel promise itself
		// settles later, when the retry splats, and that is the output
		// that counts.
		if o.Aborted {
			if !m.aborted {
				w.fail("exactly-once", "aborted output for %s, whose delivery the model did not see roll back", m)
			}
			if err := o.Err(); !errors.Is(err, kernel.ErrIllegalSyscall) && !errors.Is(err, kernel.ErrInternalError) {
				w.fail("code", "aborted output for %s is %v, not ILLEGAL_SYSCALL or INTERNAL_ERROR", m, err)
			}
			continue
		}
		if m.hostOutputs++; m.hostOutputs > 1 {
			w.fail("exactly-once", "second output for %s: %s", m, kernel.DescribeOutput(o))
			continue
		}
		// The host's hold on its result is used up by the output: the
		// kernel may free the promise, so the host lets go of the kpid.
		m.seen = true
		delete(w.host.awaited, o.KPID)
		delete(w.host.known, o.KPID)
		slots := w.checkSettlement(w.refs[m.result], o.Rejected, o.Value, &o.ByKernel, "output for "+m.String())
		for i, s := range o.Value.Slots {
			k := kernel.KRef(s)
			if !k.IsObject() {
				continue
			}
			w.host.pins[k]++ // the kernel pins what an output names
			if i < len(slots) {
				if r, ok := w.host.known[k]; ok && r != slots[i] {
					w.fail("translation", "output for %s names %s for %s, which the host holds as %s", m, k, slots[i], r)
				}
				w.host.add(k, slots[i])
			}
		}
	}
}
