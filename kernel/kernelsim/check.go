package kernelsim

import (
	"errors"
	"slices"
	"strings"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/persistence"
)

// The checks that run between cranks: what a crank's outcome must be,
// what every settlement the host or a vat sees must be, and which vats
// must be alive.

// crank runs one crank and checks it; false means there was no work.
func (w *world) crank() bool {
	w.cur = &crankCtx{}
	// INVARIANT 10 (docs/invariants.md): the Driver runs kernel.Audit
	// after the crank and fails (here: a violation) at any problem.
	res := w.d.Crank()
	cur := w.cur
	w.cur = nil
	if res.Outcome == kernel.Idle {
		return false
	}
	w.stats.Cranks++
	w.stats.Work[res.Work.String()]++
	w.log("  %s", kernel.DescribeCrank(res))
	// INVARIANT 4 (docs/invariants.md): an aborted crank's effects are
	// rolled back, so the model drops what the vat did in it. A crank that
	// committed without delivering (a failed delivery consumed) is rolled
	// back the same way.
	if res.Outcome == kernel.Committed && res.Delivered {
		for _, f := range cur.effects {
			f()
		}
	} else if cur.msg != nil && res.Delivered {
		cur.msg.aborted = true
	}
	w.checkOutcome(res, cur)
	// The model follows what the kernel did, even when it disagreed, so
	// that later checks measure the damage rather than repeat the first
	// complaint. Terminations first: the outputs they released are
	// rejections the model now expects.
	for _, id := range res.Terminated {
		if v := w.vatByID(id); v != nil {
			w.terminate(v, terminationCause(res, cur))
		}
	}
	w.processOutputs()
	w.checkActive()
	return true
}

// runIdle cranks until there is no work.
func (w *world) runIdle() {
	for i := 0; len(w.viol) == 0; i++ {
		if i == idleLimit {
			w.fail("sim", "still not idle after %d cranks", idleLimit)
			return
		}
		if !w.crank() {
			return
		}
	}
}

// idleLimit bounds a run to idle: reactions are finite, so a program that
// needs more is looping.
const idleLimit = 100000

// terminationCause names why a crank terminated a vat, for the counts.
func terminationCause(res kernel.CrankResult, cur *crankCtx) string {
	switch {
	case errors.Is(res.Failure, kernel.ErrIllegalSyscall):
		return "illegal syscall"
	case res.Failure != nil:
		return "vat fault"
	case cur.expect == expectExit:
		return "exit"
	}
	return "unexpected"
}

// checkOutcome checks how a crank ended against what the vat did in it:
// only the vat that exits, faults or makes an illegal syscall is
// terminated, and with the right code.
func (w *world) checkOutcome(res kernel.CrankResult, cur *crankCtx) {
	exp := cur.expect
	var vat kernel.VatID
	if cur.vat != nil {
		vat = cur.vat.id
	}
	// INVARIANT 14 (docs/invariants.md): the vat at fault and nobody
	// else. INVARIANT 7: with the code of the fault.
	alone := len(res.Terminated) == 1 && res.Terminated[0] == vat
	ok := true
	switch exp {
	case expectCommit:
		ok = len(res.Terminated) == 0 && res.Outcome != kernel.Aborted
	case expectExit:
		ok = res.Outcome == kernel.Committed && alone
	case expectFault:
		ok = res.Outcome == kernel.Aborted && alone && errors.Is(res.Failure, kernel.ErrInternalError)
	case expectIllegal:
		ok = res.Outcome == kernel.Aborted && alone && errors.Is(res.Failure, kernel.ErrIllegalSyscall)
	}
	if !ok {
		w.fail("termination", "crank ended %q; the model expected %s", kernel.DescribeCrank(res), exp)
	}
}

// checkActive checks that the kernel's active vats are the model's: it
// catches a termination no crank reported (a host request that killed a
// bystander, a resume that dropped a vat).
func (w *world) checkActive() {
	for _, v := range w.vats {
		row, _ := w.d.Store.Vat(string(v.id))
		if active := row.State == persistence.VatActive; active != v.active {
			w.fail("termination", "%s (%s) is active=%v in the kernel but %v in the model", v.name, v.id, active, v.active)
			if !active {
				w.terminate(v, "unexpected")
			}
		}
	}
}

// vatByID finds the simulated vat of a kernel vat id.
func (w *world) vatByID(id kernel.VatID) *simVat {
	for _, v := range w.vats {
		if v.id == id {
			return v
		}
	}
	return nil
}

// kernelCode is the code of a kernel error value, "" for anything else.
func kernelCode(data marshal.CapData) kernel.Code {
	var ke *kernel.Error
	if errors.As(kernel.ErrorFromRejection(data), &ke) {
		return ke.Code
	}
	return ""
}

// checkSettlement checks that promise r settled as the model has it and
// returns the refs of the value's slots (nil when unknown). A settlement
// the model did not see a vat make must be the kernel's (a splat, which
// checkSplat checks), or a splat relaying the rejection of a rejected
// target promise. byKernel is the output's flag, nil for a notify.
func (w *world) checkSettlement(r *ref, rejected bool, data marshal.CapData, byKernel *bool, where string) []refID {
	if r.res == nil {
		// Nobody the model saw settled r: the kernel did, by a splat (or a
		// vat settled it that had no right to, which is what this catches).
		if rel := w.relayed(r, data); rel != nil {
			// The kernel settles a splat's result (so an output says
			// ByKernel), but with a vat's value: any code in it is the
			// vat's word, which the kernel must not vouch for.
			if byKernel != nil && *byKernel && kernelCode(data) != "" {
				w.fail("relay", "%s: %s splat with %s's rejection %s, which reads as a kernel code, and the output says ByKernel: the host takes a vat's word for the kernel's",
					where, r.id, senderName(w.refs[r.msg.on].res.by), data)
			}
			r.res = rel
			return rel.slots
		}
		code := kernelCode(data)
		if code == "" || (byKernel != nil && !*byKernel) {
			w.fail("exactly-once", "%s: %s settled (rejected=%v %s), but no vat the model saw settled it and it is not the kernel's rejection", where, r.id, rejected, data)
			return nil
		}
		if !rejected {
			w.fail("code", "%s: %s fulfilled with a kernel error %s", where, r.id, data)
			return nil
		}
		r.res = &resolution{rejected: true, code: code, body: data.Body, by: host, why: "seen in the " + where}
		w.checkSplat(r, code, where)
		return nil
	}
	// The model knew: the observation must match it, slot for slot.
	res := r.res
	if res.rejected != rejected {
		w.fail("exactly-once", "%s: %s settled rejected=%v, but it was %s", where, r.id, rejected, res)
		return nil
	}
	if res.code != "" {
		if got := kernelCode(data); got != res.code {
			w.fail("code", "%s: %s rejected with %s, want %s (%s)", where, r.id, data, res.code, res.why)
		} else if byKernel != nil && !*byKernel {
			w.fail("code", "%s: the kernel's rejection of %s is not marked as the kernel's", where, r.id)
		}
		return nil
	}
	if data.Body != res.body || len(data.Slots) != len(res.slots) {
		w.fail("translation", "%s: %s settled to %s, but it was %s", where, r.id, data, res)
		return nil
	}
	if byKernel != nil && *byKernel && res.by != host {
		w.fail("code", "%s: %s's resolution of %s is marked as the kernel's", where, senderName(res.by), r.id)
	}
	return res.slots
}

// relayed returns the settlement of r if r is the result of a message
// that was never delivered because its target promise was rejected by a
// vat with data: the kernel rejects the result with the same value.
func (w *world) relayed(r *ref, data marshal.CapData) *resolution {
	m := r.msg
	if m == nil || m.delivered > 0 {
		return nil
	}
	t := w.refs[m.on]
	if t.promise && t.res == nil {
		// The target may itself be a splat's result that nobody has seen
		// settle: it was rejected with the same value.
		if t.res = w.relayed(t, data); t.res == nil {
			return nil
		}
	}
	if !t.promise || t.res == nil || !t.res.rejected || t.res.code != "" || t.res.body != data.Body {
		return nil
	}
	w.stats.Splats["relayed rejection"]++
	rel := *t.res
	rel.by, rel.why = host, "relays the rejection of "+t.id.String()
	return &rel
}

// checkSplat checks a kernel rejection of r's message that the model did
// not predict: the message must not have been delivered, and the code
// must be the one its target calls for.
func (w *world) checkSplat(r *ref, code kernel.Code, where string) {
	m := r.msg
	if m == nil {
		w.fail("exactly-once", "%s: the kernel rejected %s with %s, though it is no message's result and its decider was never terminated", where, r.id, code)
		return
	}
	if m.delivered > 0 {
		w.fail("exactly-once", "%s: %s was delivered to %s, yet the kernel rejected its result with %s", where, m, vatName(m.to), code)
		return
	}
	w.stats.Splats[string(code)]++
	t := w.refs[m.on]
	if t.promise {
		switch {
		case t.res == nil:
			// The target promise was itself rejected by the kernel, and nobody
			// has seen it yet: messages to it splat with its reason.
			t.res = &resolution{rejected: true, code: code, by: host, why: "inferred from the splat of " + m.String()}
			return
		case t.res.rejected:
			if t.res.code != code {
				w.fail("code", "%s: %s splat with %s, but its target %s was %s", where, m, code, t.id, t.res)
			}
			return
		case t.res.target == 0:
			if code != kernel.CodeBadPromiseResolution {
				w.fail("code", "%s: %s splat with %s, but its target %s was fulfilled to data: want BAD_PROMISE_RESOLUTION", where, m, code, t.id)
			}
			return
		}
		t = w.refs[t.res.target]
	}
	// The code a splat to an object carries: REVOKED if the host had
	// revoked it before the message was sent; DELETED if its exporter no
	// longer answers; either if both happened in an order the model cannot
	// see (the routing crank is not observable). A splat to an object
	// that answers and is not revoked lost the message.
	answers, why := w.answers(t)
	var want []kernel.Code
	switch {
	case t.revokedAt >= 0 && t.revokedAt <= m.sentStep:
		want = []kernel.Code{kernel.CodeObjectRevoked}
	case t.revokedAt >= 0 && !answers:
		want = []kernel.Code{kernel.CodeObjectRevoked, kernel.CodeObjectDeleted}
	case t.revokedAt >= 0:
		want = []kernel.Code{kernel.CodeObjectRevoked}
	case answers:
		check := "exactly-once"
		if w.refs[t.id].abandoned == "" && w.vats[t.owner].inc > 0 && w.opts.Pending.Has(FeatureAbandon) {
			check = "abandon" // the kernel abandoned what the model (told abandon is pending) keeps
		}
		w.fail(check, "%s: %s splat with %s, but its target %s is %s's, which answers for it", where, m, code, t.id, senderName(t.owner))
		return
	default:
		want = []kernel.Code{kernel.CodeObjectDeleted}
	}
	if !slices.Contains(want, code) {
		names := make([]string, len(want))
		for i, c := range want {
			names[i] = string(c)
		}
		w.fail("code", "%s: %s splat with %s, want %s (target %s: revoked at step %d, %s)", where, m, code, strings.Join(names, " or "), t.id, t.revokedAt, why)
	}
}
