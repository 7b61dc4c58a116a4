package kernelsim

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/marshal"
)

// Acts: program steps a vat performs when the host's "act" message
// reaches its root. After an act that does not end the delivery, the vat
// fulfils the act's result with undefined.

// expectation is how the model expects a crank to end, given what the vat
// did in it.
type expectation uint8

const (
	expectCommit  expectation = iota // committed, nobody terminated
	expectExit                       // committed, the vat terminated (clean exit)
	expectFault                      // aborted with INTERNAL_ERROR, the vat terminated
	expectIllegal                    // aborted with ILLEGAL_SYSCALL, the vat terminated
)

var expectationNames = [...]string{"commit", "clean exit", "INTERNAL_ERROR", "ILLEGAL_SYSCALL"}

func (e expectation) String() string { return expectationNames[e] }

// act performs the step an "act" message carries; result is the act's
// result, which the vat decides.
func (v *simVat) act(c *kerneltest.Call, m *message, result *entry) {
	w, s := v.w, m.act
	w.cur.effect(func() { w.stats.Acts[s.Kind]++ })
	switch s.Kind {
	case KindSend:
		// The target: a pick among what the vat may name, or among its
		// promises (pipelining), or where its last act sent (E-order over
		// time). Picks are taken when the act runs, not when it was made.
		target := pick(v.filter((*entry).usable), s.Target)
		if p := pick(v.filter(func(e *entry) bool { return e.promise }), s.Target); s.OnPromise && p != nil {
			target = p
		}
		if last := v.lastTarget; s.Again && last != nil && last.usable() {
			target = last
		}
		v.lastTarget = target
		args := make([]*entry, 0, len(s.Args))
		for _, a := range s.Args {
			switch a.New {
			case 'o', 'd':
				args = append(args, v.newExport(a.New == 'd'))
			case 'q':
				args = append(args, v.newPromise(false))
			default:
				if e := pick(v.filter((*entry).usable), a.Pick); e != nil {
					args = append(args, e)
				}
			}
		}
		// One send, a burst of the same to the same target, then a chain:
		// each pipelined message goes to the previous one's result.
		prev := v.send(c, target, args, s.React, s.Only)
		for i := 0; i < s.Burst; i++ {
			v.send(c, target, args, s.React, s.Only)
		}
		for i := 0; i < s.Pipe && prev != nil; i++ {
			v.lastTarget = prev // the next "again" goes down the chain
			prev = v.send(c, prev, nil, s.React, false)
		}
	case KindResolve:
		// Only what the vat keeps waiting: a promise it decides for a
		// forward settles when the onward result does.
		waiting := v.filter(func(e *entry) bool { return e.promise && e.decides && v.isPlan(e) })
		if p := pick(waiting, s.Target); p != nil {
			v.settle(c, p, s.How, nil)
		}
	case KindDrop:
		if e := pick(v.droppable(), s.Target); e != nil {
			v.drop(c, e, s.How == 'r')
		}
	case KindRetireExport:
		// Legal only for an export the kernel told the vat was dropped,
		// and that the vat has not sent again since.
		dropped := v.filter(func(e *entry) bool { return e.export && !e.promise && !e.reachable })
		if e := pick(dropped, s.Target); e != nil {
			r := w.refs[e.r]
			if _, ok := v.sys(c, kernel.Syscall{Kind: kernel.SyscallRetireExports, VRefs: []kernel.VRef{e.vref}}); ok {
				v.remove(e)
				w.cur.effect(func() { r.retired = true })
			}
		}
	case KindAbandon:
		// Abandoning the root is illegal (a hostile kind of its own).
		exports := v.filter(func(e *entry) bool { return e.export && !e.promise && !w.refs[e.r].root })
		if e := pick(exports, s.Target); e != nil {
			r := w.refs[e.r]
			if _, ok := v.sys(c, kernel.Syscall{Kind: kernel.SyscallAbandonExports, VRefs: []kernel.VRef{e.vref}}); ok {
				v.remove(e)
				w.cur.effect(func() { r.abandoned = "abandonExports" })
			}
		}
	case KindExit, KindExitFailure:
		// A clean exit commits the delivery and terminates the vat in the
		// same unit; a failure exit rolls the delivery back (invariant 4,
		// docs/invariants.md). The vat still settles the act's result
		// below, as liveslots settles a method's result after exit.
		failure := s.Kind == KindExitFailure
		v.sys(c, kernel.Syscall{Kind: kernel.SyscallExit, Failure: failure, Info: marshal.EncodeString("bye")})
		w.cur.expect = expectExit
		if failure {
			w.cur.expect = expectFault
		}
	case KindPanic:
		w.cur.expect = expectFault
		panic(vatPanic{})
	case KindHostile:
		v.hostile(c, s.Hostile, result)
		return
	}
	v.settle(c, result, 'u', m)
}

// isPlan reports whether e is one of the promises v keeps waiting.
func (v *simVat) isPlan(e *entry) bool {
	for _, p := range v.plans {
		if p == e {
			return true
		}
	}
	return false
}

// hostile makes one illegal syscall (after a legal one, for the kinds that
// need it) and checks that the kernel refused it with ILLEGAL_SYSCALL.
// Each kind is illegal whatever the vat holds (a kind whose candidate is
// missing falls back on an import no vat is ever given), so the model can
// insist that this vat, and only this vat, is terminated for it
// (invariant 14, docs/invariants.md).
func (v *simVat) hostile(c *kerneltest.Call, h Hostile, result *entry) {
	w := v.w
	w.cur.expect = expectIllegal
	w.stats.Hostile[h]++
	newResult := func() kernel.VRef {
		v.nextProm++
		return kernel.VRef(fmt.Sprintf("p+%d", v.nextProm))
	}
	sendTo := func(target kernel.VRef, body marshal.CapData) kernel.Syscall {
		return kernel.Syscall{Kind: kernel.SyscallSend, Target: target,
			Message: kernel.VatMessage{Methargs: body, Result: newResult()}}
	}
	never := kernel.VRef(fmt.Sprintf("o-%d", 900000+v.nextObj)) // an import no vat is ever given
	plain := kerneltest.Methargs("m")
	var s kernel.Syscall
	switch h {
	case HostileUnknownImport:
		s = sendTo(never, plain)
	case HostileBadVRef:
		s = sendTo("o+01", plain)
	case HostileForeignResolve:
		// A promise the vat holds but does not decide: its own send's
		// result (the kernel or the receiver decides it), or an import.
		target := kernel.VRef("p-987654")
		if e := pick(v.filter(func(e *entry) bool { return e.promise && !e.decides }), v.nextProm); e != nil {
			target = e.vref
		}
		s = kernel.Syscall{Kind: kernel.SyscallResolve, Resolutions: []kernel.VatResolution{{VPID: target, Data: kerneltest.Undefined}}}
	case HostileDoubleResolve:
		if !v.resolve(c, result, false, kerneltest.Undefined) {
			return
		}
		s = kernel.Syscall{Kind: kernel.SyscallResolve, Resolutions: []kernel.VatResolution{{VPID: result.vref, Data: kerneltest.Undefined}}}
	case HostileDroppedImport:
		dropped := v.filter(func(e *entry) bool { return !e.export && !e.promise && !e.reachable })
		e := pick(dropped, v.nextObj)
		if e == nil {
			if e = pick(v.droppable(), v.nextObj); e != nil {
				v.drop(c, e, false)
			}
		}
		if e == nil || w.cur.refused {
			s = sendTo(never, plain)
		} else {
			s = sendTo(e.vref, plain)
		}
	case HostileAbandonRoot:
		s = kernel.Syscall{Kind: kernel.SyscallAbandonExports, VRefs: []kernel.VRef{kernel.RootVRef}}
	case HostileRetireReachable:
		s = sendTo(never, plain)
		if e := pick(v.droppable(), v.nextObj); e != nil {
			s = kernel.Syscall{Kind: kernel.SyscallRetireImports, VRefs: []kernel.VRef{e.vref}}
		}
	case HostileSubscribeObject:
		s = kernel.Syscall{Kind: kernel.SyscallSubscribe, VPID: kernel.RootVRef}
	case HostileResultReuse:
		s = kernel.Syscall{Kind: kernel.SyscallSend, Target: kernel.RootVRef,
			Message: kernel.VatMessage{Methargs: plain, Result: result.vref}}
	case HostileFulfillPromise:
		p := newResult()
		s = kernel.Syscall{Kind: kernel.SyscallResolve, Resolutions: []kernel.VatResolution{{VPID: result.vref,
			Data: marshal.CapData{Body: `#"&0"`, Slots: []string{string(p)}}}}}
	case HostileExitTwice:
		if _, ok := v.sys(c, kernel.Syscall{Kind: kernel.SyscallExit, Info: marshal.EncodeString("bye")}); !ok {
			return
		}
		s = kernel.Syscall{Kind: kernel.SyscallExit, Info: marshal.EncodeString("bye again")}
	case HostileUnknownSyscall:
		s = kernel.Syscall{Kind: kernel.SyscallKind(99)}
	case HostileEmptyResolve:
		s = kernel.Syscall{Kind: kernel.SyscallResolve}
	case HostileLongKey:
		s = kernel.Syscall{Kind: kernel.SyscallVatstoreSet, Key: strings.Repeat("k", 5000), Value: "v"}
	case HostileMalformedBody, HostileBadSlot, HostileUnusedSlot:
		// Sent to another vat if the vat holds one of its objects: the
		// receiver must never pay for what the sender wrote.
		target := kernel.RootVRef
		if e := pick(v.filter(func(e *entry) bool { return !e.export && !e.promise && e.reachable }), v.nextObj); e != nil {
			target = e.vref
		}
		body := marshal.CapData{Body: "garbage{{"}
		switch h {
		case HostileBadSlot:
			body = marshal.CapData{Body: `#["m",["$3.Alleged: thing"]]`}
		case HostileUnusedSlot:
			body = marshal.CapData{Body: `#["m",[]]`, Slots: []string{string(kernel.RootVRef)}}
		}
		s = sendTo(target, body)
	}
	if w.cur.refused {
		return
	}
	// Made directly, not through sys: here a refusal is what the model
	// wants, and an acceptance the violation.
	r := c.Sys.Syscall(s)
	switch {
	case r.Err == nil:
		check := "syscall"
		if h.needsValidation() {
			check = "validate"
		}
		w.fail(check, "%s's hostile %s (%s) was accepted", v.name, h, describeSyscall(s))
	case !errors.Is(r.Err, kernel.ErrIllegalSyscall):
		w.fail("code", "%s's hostile %s was refused with %v, not ILLEGAL_SYSCALL", v.name, h, r.Err)
	}
}
