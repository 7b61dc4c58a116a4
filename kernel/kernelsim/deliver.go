package kernelsim

import (
	"fmt"
	"strings"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/marshal"
)

// onMessage checks a message against the model (body, E-order, routing,
// slots, result) and then does what it asks.
func (v *simVat) onMessage(c *kerneltest.Call) error {
	w, dv := v.w, c.Delivery
	m, err := w.parseMessage(dv.Message.Methargs)
	if err != nil {
		w.fail("validate", "%s got a message it cannot read: %v (body %q)", v.name, err, dv.Message.Methargs.Body)
		return errBadDelivery
	}
	w.cur.msg = m
	where := "delivery of " + m.String()
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
	w.cur.effect(func() {
		m.delivered++
		m.to = v.idx
		w.stats.Delivered++
	})
	if w.cur.refused {
		return nil
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
// three (Program.SettleLater), as if the work it waited for had finished: settlements then
// come at any point of the queue, between one sender's messages to the
// promise, as E-order needs them to.
func (v *simVat) settleLater(c *kerneltest.Call, m *message) {
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
	t, why := w.finalTarget(m.on)
	if t == nil {
		w.fail("routing", "%s delivered to %s although %s", m, v.name, why)
		return
	}
	if t.owner != v.idx {
		w.fail("routing", "%s delivered to %s, but its target %s is %s's", m, v.name, t.id, senderName(t.owner))
		return
	}
	if t.revokedAt >= 0 {
		w.fail("code", "%s delivered although its target %s was revoked at step %d", m, t.id, t.revokedAt)
	}
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
		e    *entry
		res  kernel.VatResolution
		fine bool
	}
	var done []settled
	// The promises settled in this notify have already left the c-list:
	// they are not subscribed to.
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
		slots := w.checkSettlement(r, res.Rejected, res.Data, nil, where)
		fine := slots != nil || len(res.Data.Slots) == 0
		if fine && len(slots) == len(res.Data.Slots) {
			for i, s := range res.Data.Slots {
				v.learn(c, kernel.VRef(s), slots[i], where, !settling[kernel.VRef(s)])
			}
		}
		if r.msg != nil && r.msg.from == v.idx {
			r.msg.seen = true
		}
		done = append(done, settled{e, res, fine})
	}
	for _, d := range done {
		v.remove(d.e)
	}
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

// onGC checks a GC delivery against the view and applies it.
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
			if r.root {
				w.fail("gc", "%s was told its root was dropped", v.name)
			}
			e.reachable = false
		case kernel.DeliverRetireExports:
			if e.reachable {
				w.fail("gc", "%s was told to retire export %s before it was dropped", v.name, vref)
			}
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

// drop drops an import, and retires it too if retire.
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
// against what its sender sent.
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
