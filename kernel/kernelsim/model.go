package kernelsim

import (
	"fmt"
	"slices"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/marshal"
)

// The model: what every reference is, where every message was sent and
// delivered, and how every promise settled, as the vats meant it. It is
// written from what vats do (their syscalls, recorded as they make them)
// and what the host does, never from the kernel's tables, so that it can
// tell when the kernel does something else.
//
// What a vat does in a delivery reaches the model as effects of the crank
// (crankCtx.effect), applied only if the crank commits: the sends and
// settlements of a crank that aborts never happened. The vat's own view
// changes at once; a vat whose crank aborts is terminated, so its view no
// longer matters.
//
// Promises the kernel settles by itself (splats) are not predicted: the
// model learns of them when the host or a vat sees them, and then checks
// that the message behind them had nowhere to go (check.go).

// refID names a reference in the model: the same id for an object or a
// promise in every vat's space and the host's. Ids start at 1.
type refID int32

func (r refID) String() string { return fmt.Sprintf("R%d", r) }

// host is the sender index of the host.
const host = -1

// noDecider and kernelDecides are ref.decider values besides a vat index.
const (
	noDecider     = -2 // settled, or an object
	kernelDecides = -3 // a message carrying it as its result waits in a queue
)

// ref is one object or promise.
type ref struct {
	id      refID
	promise bool
	// owner is the vat that exported the object (made the promise), or
	// host.
	owner int
	// durable objects (roots among them) survive a restart of their vat.
	durable bool
	root    bool
	// revokedAt is the step at which the host revoked the object, -1 if
	// it never did.
	revokedAt int
	// abandoned says why the exporter no longer answers for the object
	// ("" while it does): "abandonExports", "restart", "upgrade",
	// "kernel restart".
	abandoned string
	// retired: the exporter retired it; the kernel object is gone.
	retired bool

	// decider is the vat that may settle the promise (or noDecider,
	// kernelDecides).
	decider int
	// res is how the promise settled, once the model knows.
	res *resolution
	// msg is the message whose result the promise is.
	msg *message
}

// resolution is how a promise settled.
type resolution struct {
	rejected bool
	// code is the kernel's code when the kernel settled it (or the model
	// knows it must); "" for a vat's resolution.
	code kernel.Code
	// body and slots are what the resolving vat wrote (slots as refs).
	body  string
	slots []refID
	// target is the object the promise designates, when fulfilled to
	// exactly one object.
	target refID
	// by is the resolving vat, or host for the kernel.
	by int
	// why, for a kernel settlement the model predicted: what made it.
	why string
}

func (r *resolution) String() string {
	how := "fulfilled"
	if r.rejected {
		how = "rejected"
	}
	if r.code != "" {
		return fmt.Sprintf("%s by the kernel %s", how, r.code)
	}
	return fmt.Sprintf("%s by %s to %s %v", how, senderName(r.by), r.body, r.slots)
}

// message is one message sent by a vat or the host.
type message struct {
	id   int
	from int
	on   refID
	seq  int
	// body is the body as sent: the kernel must deliver it unchanged.
	body string
	args []refID
	// result is the result promise, 0 for sendOnly.
	result refID
	react  string
	// act is the step an "act" message carries; finish marks the end's
	// "settle everything" message.
	act    *Step
	finish bool
	// sentStep is the program step during which it was sent.
	sentStep int
	// committed: the send took effect (the host's request succeeded, or
	// the sending vat's crank committed).
	committed bool
	// kpid is a host message's result, as the host knows it.
	kpid kernel.KRef
	// delivered counts committed deliveries; to is the vat.
	delivered int
	to        int
	// aborted: a delivery of it was rolled back (its vat failed).
	aborted bool
	// seen: its sender saw its result settle (a notify, the host's
	// output, or its own resolve).
	seen bool
	// hostOutputs counts the non-aborted outputs the host got for it.
	hostOutputs int
	// deaf: its sender can no longer hear how it ends (a restart took
	// the result from the vat's c-list; a kernel restart dropped the
	// host's wait), so only where it went can be checked.
	deaf bool
}

func (m *message) String() string {
	return fmt.Sprintf("m%d (%s on %s #%d)", m.id, senderName(m.from), m.on, m.seq)
}

func senderName(i int) string {
	if i == host {
		return "host"
	}
	return vatName(i)
}

// seqKey is the E-order key: one sender, one reference.
type seqKey struct {
	from int
	on   refID
}

// newRef makes a reference owned by owner.
func (w *world) newRef(promise bool, owner int) *ref {
	r := &ref{id: refID(len(w.refs)), promise: promise, owner: owner, revokedAt: -1, decider: noDecider}
	if promise {
		r.decider = owner
	}
	w.refs = append(w.refs, r)
	return r
}

// newMessage records a message about to be sent and makes its body:
// ["method", ["m<id> <sender> <ref> <seq>", slots...]]. The caller sends it
// and marks it committed once the send takes effect; a send that is
// refused or rolled back leaves a record that is never committed, and a
// gap in the sender's sequence numbers, which E-order allows.
func (w *world) newMessage(from int, on refID, method string, slots []any) (*message, marshal.CapData) {
	m := &message{id: len(w.msgs), from: from, on: on, sentStep: w.step, to: -1}
	// The sequence number counts per sender and per reference as the
	// sender names it (its model ref, the same in every incarnation and
	// across kernel restarts): E-order is promised for exactly that.
	k := seqKey{from, on}
	w.seq[k]++
	m.seq = w.seq[k]
	// The body carries who sent it, on what, and its place in the order, so
	// a receiver can check its delivery against the model without asking
	// the kernel anything.
	meta := fmt.Sprintf("m%d %s %s %d", m.id, senderName(from), on, m.seq)
	data, err := marshal.Encode([]any{method, append([]any{meta}, slots...)})
	if err != nil {
		panic(fmt.Sprintf("kernelsim: message body does not encode: %v", err))
	}
	m.body = data.Body
	w.msgs = append(w.msgs, m)
	return m, data
}

// finalTarget says where a message sent on r goes now: the object r is or
// designates, or (nil) why it cannot be delivered. One step is enough: a
// promise is never fulfilled to another promise (the kernel refuses it),
// and a forwarding vat settles its promise with the value it got.
func (w *world) finalTarget(r refID) (target *ref, why string) {
	x := w.refs[r]
	if !x.promise {
		return x, ""
	}
	switch {
	// Unknown also covers a promise the kernel rejected without the model
	// seeing it yet (a splat's result): either way nothing may be
	// delivered through it.
	case x.res == nil:
		return nil, "its target promise " + r.String() + " is not settled"
	case x.res.rejected:
		return nil, "its target promise " + r.String() + " was rejected"
	case x.res.target == 0:
		return nil, "its target promise " + r.String() + " was fulfilled to data"
	}
	return w.refs[x.res.target], ""
}

// answers reports whether an object's exporter still answers for it, or
// why not. An object that does not answer is one whose messages must
// splat (OBJECT_DELETED, or OBJECT_REVOKED when revoked), never reach a
// vat.
func (w *world) answers(o *ref) (bool, string) {
	switch {
	case o.owner == host:
		return false, "the host exports nothing"
	case !w.vats[o.owner].active:
		return false, "its exporter " + vatName(o.owner) + " was terminated"
	case o.abandoned != "":
		return false, "it was abandoned (" + o.abandoned + ")"
	case o.retired:
		return false, "it was retired"
	}
	return true, ""
}

// terminate records that vat v was terminated: every promise it decides
// is rejected with VAT_TERMINATED, and its objects answer no more.
func (w *world) terminate(v *simVat, why string) {
	if !v.active {
		return
	}
	v.active = false
	v.forget()
	w.rejectDecided(v, why)
	w.stats.Terminated[why]++
}

// rejectDecided records the kernel's rejection of every promise v decides
// and has not settled (invariant 9, docs/invariants.md; a restart does the
// same). The model knows these settlements before anyone sees them: a
// later observation must carry VAT_TERMINATED, and a message sent to one
// of these promises must splat with it.
func (w *world) rejectDecided(v *simVat, why string) {
	for _, r := range w.refs[1:] {
		if r.promise && r.res == nil && r.decider == v.idx {
			r.res = &resolution{rejected: true, code: kernel.CodeVatTerminated, by: host, why: why}
			r.decider = noDecider
			if r.msg != nil && r.msg.from == v.idx {
				// It sent the message to itself: the one who would hear is the
				// one who lost it.
				r.msg.seen = true
			}
		}
	}
}

// restart records a new incarnation of v (restart, upgrade, or the
// kernel's resume): what it decided is rejected, and, once the kernel
// abandons them, its non-durable exports answer no more (invariant 15,
// docs/invariants.md). The vat keeps the rest of its view: imports,
// imported promises (with their subscriptions), durable exports, the
// results of its own sends.
func (w *world) restart(v *simVat, why string) {
	v.inc++
	w.rejectDecided(v, why)
	// The vrefs taken away are remembered (lost), so that a kernel that
	// still delivers them is caught and the violation named after the
	// restart that should have taken them.
	for _, e := range v.entries() {
		if e.promise && e.decides {
			v.remove(e)
			v.lost[e.vref] = why
		}
	}
	if !w.opts.Pending.Has(FeatureAbandon) {
		// With abandon pending the kernel keeps them alive and the new
		// incarnation answers for them, as if they were durable.
		for _, e := range v.entries() {
			o := w.refs[e.r]
			if e.export && !e.promise && !o.durable {
				o.abandoned = why
				v.remove(e)
				v.lost[e.vref] = why
			}
			// Every other promise stays, subscribed: liveslots' durable
			// watchers re-import them in the new heap, which must hear
			// them settle (and the results of its own sends are heard).
		}
	}
	v.forget()
}

// violation is one way the kernel broke the model.
type violation struct {
	// check names the rule: "audit", "eorder", "routing", "exactly-once",
	// "code", "termination", "translation", "gc", "abandon", "resume",
	// "sendonly", "validate", "syscall", "relay", "output", "kernel",
	// "sim".
	check string
	step  int
	crank uint64
	what  string
}

func (v violation) String() string {
	return fmt.Sprintf("[%s] step %d crank %d: %s", v.check, v.step, v.crank, v.what)
}

// fail records a violation. A vat's handler calls it too: it must never
// panic there, since the Driver would turn the panic into that vat's
// fault and the kernel would terminate an innocent vat.
func (w *world) fail(check, format string, args ...any) {
	if slices.Contains(w.opts.Known, check) {
		if w.stats.Known[check]++; w.stats.Known[check] == 1 {
			w.log("known [%s]: %s", check, fmt.Sprintf(format, args...))
		}
		return
	}
	if len(w.viol) >= maxViolations {
		return
	}
	w.viol = append(w.viol, violation{check: check, step: w.step, crank: w.d.K.CrankCount(), what: fmt.Sprintf(format, args...)})
}

// maxViolations bounds the violations kept: the first is what matters,
// the next few show how far the damage went.
const maxViolations = 20
