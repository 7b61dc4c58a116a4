package kernelsim

import (
	"fmt"
	"strings"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/marshal"
)

// What a simulated vat does with each kind of delivery: check it against
// the model, then act on it.

// onMessage checks a message against the model (body, E-order, routing,
// slots, result) and then does what it asks: an act, the end's finish, or
// its reaction.
func (v *simVat) onMessage(c *kerneltest.Call) error {
	w, dv := v.w, c.Delivery
	m, err := w.parseMessage(dv.Message.Methargs)
	if err != nil {
		// INVARIANT 14 (docs/invariants.md): what a sender wrote is
		// checked at its syscall; a receiver must never be handed a body
		// it cannot read (and, like liveslots, it faults on one).
		w.fail("validate", "%s got a message it cannot read: %v (body %q)", v.name, err, dv.Message.Methargs.Body)
		return errBadDelivery
	}
	w.cur.msg = m
	where := "delivery of " + m.String()
	// Exactly once: a message whose send never committed, or that was
	// delivered already (or whose delivery was rolled back, so that its
	// retry must splat), must not arrive.
	if !m.committed {
		w.fail("exactly-once", "%s delivered, but its send was rolled back", m)
	}
	if m.delivered > 0 {
		w.fail("exactly-once", "%s delivered twice: to %s, now to %s", m, vatName(m.to), v.name)
	}
	if m.aborted {
		w.fail("exactly-once", "%s delivered again after its delivery was rolled back", m)
	}
	on := w.refs[m.on]
	k := seqKey{m.from, m.on}
	// INVARIANT 13 (docs/invariants.md): one sender's messages on one
	// reference arrive in the order it sent them. Numbers may be skipped
	// (a message splat or was never sent) but never go back. With eorder
	// pending only references to objects are held to it.
	if last := w.last[k]; m.seq <= last && !(on.promise && w.opts.Pending.Has(FeatureEOrder)) {
		w.fail("eorder", "%s delivered to %s after #%d from the same sender on the same reference", m, v.name, last)
	}
	w.last[k] = max(w.last[k], m.seq)
	if on.promise {
		w.stats.ViaPromise++
	}
	v.checkTarget(m, dv.Target)
	if len(dv.Message.Methargs.Slots) != len(m.args) {
		w.fail("translation", "%s: %d slots delivered, %d sent", where, len(dv.Message.Methargs.Slots), len(m.args))
	} else {
		for i, s := range dv.Message.Methargs.Slots {
			v.learn(c, kernel.VRef(s), m.args[i], where, true)
		}
	}
	result := v.takeResult(m, dv.Message.Result, where)
	// The delivery counts once the crank commits: an aborted delivery
	// never happened (its retry splats).
	w.cur.effect(func() {
		m.delivered++
		m.to = v.idx
		w.stats.Delivered++
	})
	if w.cur.refused {
		return nil // the kernel refuses everything from here on
	}
	switch {
	case m.act != nil:
		v.act(c, m, result)
	case m.finish:
		v.finishAll(c)
		v.settle(c, result, 'u', m)
	default:
		react := m.react
		if w.finale && result != nil {
			react = "u" // the end: settle, send nothing more
		}
		v.react(c, m, result, react)
		v.settleLater(c, m)
	}
	return nil
}

// settleLater settles the vat's oldest waiting promise at one message in
// three (Program.SettleLater), as if the work it waited for had finished.
// Settlements then come at any point of the queue, between one sender's
// messages to the promise, which is where E-order goes wrong; waiting for
// a resolve step alone makes that rare.
func (v *simVat) settleLater(c *kerneltest.Call, m *message) {
	// Which messages and how are functions of the message's id: the
	// same program settles the same promises the same way every run.
	if !v.w.p.SettleLater || m.id%3 != 0 {
		return
	}
	for len(v.plans) > 0 {
		p := v.plans[0]
		v.plans = v.plans[1:]
		if !p.gone && p.decides {
			const hows = "ooodaaaursxR" // mostly objects, to pipeline on
			v.settle(c, p, hows[m.id/3%len(hows)], m)
			return
		}
	}
}

// checkTarget checks that m was delivered to what its reference
// designates now, an object v exports and answers for.
func (v *simVat) checkTarget(m *message, target kernel.VRef) {
	w := v.w
	// A message sent on a promise goes where the promise was settled to;
	// nothing may be delivered through a promise that is unsettled,
	// rejected or fulfilled to data: those messages wait or splat.
	t, why := w.finalTarget(m.on)
	if t == nil {
		w.fail("routing", "%s delivered to %s although %s", m, v.name, why)
		return
	}
	if t.owner != v.idx {
		w.fail("routing", "%s delivered to %s, but its target %s is %s's", m, v.name, t.id, senderName(t.owner))
		return
	}
	// Revocation is permanent and happens between cranks: any delivery
	// after it should have been an OBJECT_REVOKED splat.
	if t.revokedAt >= 0 {
		w.fail("code", "%s delivered although its target %s was revoked at step %d", m, t.id, t.revokedAt)
	}
	// INVARIANT 15 (docs/invariants.md): an object its exporter no
	// longer answers for (terminated, abandoned, retired) is never
	// delivered to; holding a stale reference must not reach the vat.
	if ok, why := w.answers(t); !ok {
		check := "routing"
		switch t.abandoned {
		case "restart", "upgrade":
			check = "abandon"
		case "kernel restart":
			check = "resume"
		}
		w.fail(check, "%s reached %s although %s", m, v.name, why)
		return
	}
	if e := v.view[target]; e == nil || e.r != t.id {
		v.unknown("translation", target, "%s delivered to %s's %s, which is not its target %s", m, v.name, target, t.id)
	}
}

// takeResult records that v now decides m's result, delivered as vref.
// The result may already be in v's view: v holds its own send's result
// when it sent the message to itself, or a result passed to it earlier.
func (v *simVat) takeResult(m *message, vref kernel.VRef, where string) *entry {
	w := v.w
	if m.result == 0 {
		if vref != "" {
			w.fail("translation", "%s: sendOnly, but delivered with result %s", where, vref)
		}
		return nil
	}
	if vref == "" {
		w.fail("translation", "%s: delivered without its result", where)
		return nil
	}
	e := v.view[vref]
	switch {
	case e != nil && e.r != m.result:
		w.fail("translation", "%s: result %s is %s to %s, not %s", where, vref, e.r, v.name, m.result)
		return nil
	case e == nil:
		if other := v.byRef[m.result]; other != nil {
			w.fail("translation", "%s: result delivered as %s, but %s holds it as %s", where, vref, v.name, other.vref)
			return nil
		}
		e = v.add(&entry{vref: vref, r: m.result, promise: true, export: strings.HasPrefix(string(vref), "p+"), reachable: true})
	}
	// The kernel hands the result's authority to the receiver with the
	// delivery; if the crank aborts, it goes back to the kernel, and a
	// termination of v then does not reject it (the retry splats it).
	e.decides = true
	r := w.refs[m.result]
	w.cur.effect(func() { r.decider = v.idx })
	return e
}

// onNotify checks each resolution against the model, retires the promises
// (they leave the c-list), and settles what the vat forwards.
func (v *simVat) onNotify(c *kerneltest.Call) {
	w := v.w
	type settled struct {
		e   *entry
		res kernel.VatResolution
	}
	var done []settled
	// One notify settles a promise and every settled promise its value
	// reaches (SwingSet's getKpidsToRetire); they have all left the
	// c-list already, so they are not subscribed to.
	settling := map[kernel.VRef]bool{}
	for _, res := range c.Delivery.Resolutions {
		settling[res.VPID] = true
	}
	for _, res := range c.Delivery.Resolutions {
		e := v.view[res.VPID]
		if e == nil || !e.promise {
			v.unknown("translation", res.VPID, "%s notified of %s, which it does not hold as a promise", v.name, res.VPID)
			continue
		}
		r := w.refs[e.r]
		where := fmt.Sprintf("notify of %s (%s) to %s", res.VPID, r.id, v.name)
		// The value must be what the settler wrote (or the kernel's
		// splat, checked against the message's fate); its slots then tell
		// which refs the vat now holds.
		slots := w.checkSettlement(r, res.Rejected, res.Data, nil, where)
		if slots != nil && len(slots) == len(res.Data.Slots) {
			for i, s := range res.Data.Slots {
				v.learn(c, kernel.VRef(s), slots[i], where, !settling[kernel.VRef(s)])
			}
		}
		if r.msg != nil && r.msg.from == v.idx {
			r.msg.seen = true // the sender heard how its message ended
		}
		done = append(done, settled{e, res})
	}
	for _, d := range done {
		v.remove(d.e)
	}
	// Forwarding after every retirement: a forwarded value may name one
	// of the promises this notify settled, which the vat can no longer
	// name (forwardSettle then settles with a string).
	for _, d := range done {
		for _, p := range v.forwards[d.e.r] {
			v.forwardSettle(c, p, d.res)
		}
		delete(v.forwards, d.e.r)
	}
}

// forwardSettle settles p as the onward result settled: the same value,
// if the vat still holds everything it names; else with a string.
func (v *simVat) forwardSettle(c *kerneltest.Call, p *entry, res kernel.VatResolution) {
	if p.gone || !p.decides {
		return
	}
	for _, s := range res.Data.Slots {
		if e := v.view[kernel.VRef(s)]; e == nil || !e.usable() {
			v.settle(c, p, 's', nil)
			return
		}
	}
	v.resolve(c, p, res.Rejected, res.Data.Clone())
}

// onGC checks a GC delivery against the view and applies it. The kernel
// may only drop and retire what the vat exports and others let go of,
// and retire imports the vat dropped (invariant 10, docs/invariants.md).
func (v *simVat) onGC(c *kerneltest.Call) {
	w, kind := v.w, c.Delivery.Kind
	for _, vref := range c.Delivery.VRefs {
		e := v.view[vref]
		wantExport := kind != kernel.DeliverRetireImports
		if e == nil || e.promise || e.export != wantExport {
			v.unknown("gc", vref, "%s got %s of %s, which it does not hold as an object %s", v.name, kind, vref,
				map[bool]string{true: "export", false: "import"}[wantExport])
			continue
		}
		r := w.refs[e.r]
		switch kind {
		case kernel.DeliverDropExports:
			// The kernel pins roots while their vat lives.
			if r.root {
				w.fail("gc", "%s was told its root was dropped", v.name)
			}
			e.reachable = false // the vat may now retire it (KindRetireExport)
		case kernel.DeliverRetireExports:
			if e.reachable {
				w.fail("gc", "%s was told to retire export %s before it was dropped", v.name, vref)
			}
			// The kernel object is gone: the vat will not send the vref again
			// (it would make a new object under the old name).
			v.remove(e)
			w.cur.effect(func() { r.retired = true })
		case kernel.DeliverRetireImports:
			if e.reachable {
				w.fail("gc", "%s was told to retire import %s, which it has not dropped", v.name, vref)
			}
			v.remove(e)
		}
	}
}

// onReap drops the import the next reap pick names, as a vat whose
// garbage collector found it unreferenced would.
func (v *simVat) onReap(c *kerneltest.Call) {
	if len(v.reaps) == 0 {
		return
	}
	i := v.reaps[0]
	v.reaps = v.reaps[1:]
	if e := pick(v.droppable(), i); e != nil {
		v.drop(c, e, false)
	}
}

// droppable lists the object imports the vat has not dropped.
func (v *simVat) droppable() []*entry {
	return v.filter(func(e *entry) bool { return !e.export && !e.promise && e.reachable })
}

// drop drops an import, and retires it too if retire. A dropped import is
// one the vat must not name again (HostileDroppedImport does) until a
// delivery hands it back.
func (v *simVat) drop(c *kerneltest.Call, e *entry, retire bool) {
	if _, ok := v.sys(c, kernel.Syscall{Kind: kernel.SyscallDropImports, VRefs: []kernel.VRef{e.vref}}); !ok {
		return
	}
	e.reachable = false
	if !retire {
		return
	}
	if _, ok := v.sys(c, kernel.Syscall{Kind: kernel.SyscallRetireImports, VRefs: []kernel.VRef{e.vref}}); ok {
		v.remove(e)
	}
}

// parseMessage reads a message's id out of its body and checks the body
// against what its sender sent: the kernel passes bodies through
// untouched, translating only the slots.
func (w *world) parseMessage(data marshal.CapData) (*message, error) {
	val, err := marshal.Decode(data)
	if err != nil {
		return nil, err
	}
	top, ok := val.([]any)
	if !ok || len(top) != 2 {
		return nil, fmt.Errorf("not [method, args]")
	}
	args, ok := top[1].([]any)
	if !ok || len(args) == 0 {
		return nil, fmt.Errorf("no arguments")
	}
	meta, ok := args[0].(string)
	if !ok {
		return nil, fmt.Errorf("first argument is not the message's id")
	}
	var id, seq int
	var from string
	var on refID
	if _, err := fmt.Sscanf(meta, "m%d %s R%d %d", &id, &from, &on, &seq); err != nil || id < 0 || id >= len(w.msgs) {
		return nil, fmt.Errorf("bad id %q", meta)
	}
	m := w.msgs[id]
	if from != senderName(m.from) || on != m.on || seq != m.seq || data.Body != m.body {
		w.fail("translation", "%s arrived with body %q, sent with %q", m, data.Body, m.body)
	}
	return m, nil
}
