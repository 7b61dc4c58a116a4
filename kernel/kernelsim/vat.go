package kernelsim

import (
	"errors"
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/marshal"
)

// simVat is one vat of the simulation: a fake vat whose Default handler is
// handle, and what the vat knows. Its view is its c-list as the vat
// understands it: every vref it may name, and the model ref behind it.
// The view outlives an incarnation (as if the vat kept its references in
// durable storage) except for what a restart takes away: the promises it
// decided and, once the kernel abandons them, its non-durable exports.
type simVat struct {
	w    *world
	idx  int
	name string
	id   kernel.VatID
	fv   *kerneltest.FakeVat
	root kernel.KRef
	// active is false once the kernel has terminated the vat.
	active bool
	// inc counts the incarnations the model has seen start.
	inc int

	view  map[kernel.VRef]*entry
	byRef map[refID]*entry
	// order holds the entries in the order the vat came to hold them
	// (picks index into it); removed entries are marked gone and compacted
	// away now and then.
	order []*entry
	// nextObj and nextProm number the vat's exports. They are never reset:
	// a new incarnation must not reuse an old incarnation's vref.
	nextObj, nextProm int

	// plans are promises the vat decides and keeps waiting ('w').
	plans []*entry
	// forwards maps an onward result to the promises the vat settles as it
	// settles ('f').
	forwards map[refID][]*entry
	// lastTarget is where the vat's last act sent (Step.Again).
	lastTarget *entry
	// reaps are the picks of the imports the coming bringOutYourDead
	// deliveries drop.
	reaps []int
	// kernelRestarted: a kernel restart restarted this vat (the model
	// expects resume to reject what it decided).
	kernelRestarted bool
	// lost maps the vrefs a restart took from the view to the restart:
	// a delivery that names one shows that the kernel kept what it
	// should have abandoned or rejected.
	lost map[kernel.VRef]string
}

// entry is one vref the vat holds.
type entry struct {
	vref    kernel.VRef
	r       refID
	export  bool // the vat made it (o+, p+)
	promise bool
	// reachable: an import the vat has not dropped; an export the kernel
	// has not told it was dropped.
	reachable bool
	// decides: the vat may settle the promise.
	decides bool
	gone    bool
}

func newSimVat(w *world, idx int, id kernel.VatID, fv *kerneltest.FakeVat) *simVat {
	v := &simVat{w: w, idx: idx, name: vatName(idx), id: id, fv: fv, active: true,
		view: map[kernel.VRef]*entry{}, byRef: map[refID]*entry{}, forwards: map[refID][]*entry{},
		lost: map[kernel.VRef]string{}}
	fv.Default = v.handle
	return v
}

func (v *simVat) add(e *entry) *entry {
	v.view[e.vref] = e
	v.byRef[e.r] = e
	v.order = append(v.order, e)
	return e
}

// remove takes e out of the view: the vref has left the vat's c-list.
func (v *simVat) remove(e *entry) {
	if e.gone {
		return
	}
	e.gone = true
	delete(v.view, e.vref)
	if v.byRef[e.r] == e {
		delete(v.byRef, e.r)
	}
}

// entries returns the entries the vat holds, in order, compacting order.
func (v *simVat) entries() []*entry {
	live := v.order[:0]
	for _, e := range v.order {
		if !e.gone {
			live = append(live, e)
		}
	}
	clear(v.order[len(live):])
	v.order = live
	return append([]*entry(nil), live...)
}

// filter returns the entries for which keep is true, in order.
func (v *simVat) filter(keep func(*entry) bool) []*entry {
	var out []*entry
	for _, e := range v.order {
		if !e.gone && keep(e) {
			out = append(out, e)
		}
	}
	return out
}

// usable reports whether the vat may name e in a send: any export or
// promise it holds, or an import it has not dropped.
func (e *entry) usable() bool { return !e.gone && (e.export || e.promise || e.reachable) }

// unknown reports a delivery that names vref, which v does not hold as
// it should: a violation of check, unless a restart took vref away, in
// which case it is the restart's (abandon, resume).
func (v *simVat) unknown(check string, vref kernel.VRef, format string, args ...any) {
	what := fmt.Sprintf(format, args...)
	if why, ok := v.lost[vref]; ok {
		check = lostCheck(why)
		what += fmt.Sprintf(" (%s's %s, which the kernel should have abandoned or rejected at its %s)", v.name, vref, why)
	}
	v.w.fail(check, "%s", what)
}

// lostCheck names the check a restart of kind why falls under.
func lostCheck(why string) string {
	if why == "kernel restart" {
		return "resume"
	}
	return "abandon"
}

func pick(es []*entry, i int) *entry {
	if len(es) == 0 {
		return nil
	}
	return es[i%len(es)]
}

// forget drops what the vat's heap held: its plans and forwards. Called
// when an incarnation ends.
func (v *simVat) forget() {
	v.plans = nil
	clear(v.forwards)
	v.reaps = nil
}

// hasPlans reports whether the vat still owes a settlement.
func (v *simVat) hasPlans() bool {
	for _, e := range v.plans {
		if !e.gone {
			return true
		}
	}
	return len(v.forwards) > 0
}

// vatPanic is the value a KindPanic act panics with; handle lets it
// through to the Driver, which turns it into a vat fault.
type vatPanic struct{}

// errBadDelivery is the fault the vat reports for a delivery it cannot
// read, as liveslots would.
var errBadDelivery = errors.New("kernelsim: delivery the vat cannot read")

// handle answers every delivery but startVat (the Driver's own).
func (v *simVat) handle(c *kerneltest.Call) (err error) {
	w := v.w
	cur := w.cur
	if cur == nil {
		w.fail("sim", "%s got a %s outside a crank", v.name, c.Delivery.Kind)
		return nil
	}
	cur.vat = v
	defer func() {
		if p := recover(); p != nil {
			if _, ok := p.(vatPanic); ok {
				panic(p)
			}
			w.fail("sim", "panic in %s's handler: %v\n%s", v.name, p, debug.Stack())
			err = errBadDelivery
		}
	}()
	if !v.active {
		w.fail("termination", "%s got a %s after it was terminated", v.name, c.Delivery.Kind)
		return nil
	}
	switch c.Delivery.Kind {
	case kernel.DeliverMessage:
		return v.onMessage(c)
	case kernel.DeliverNotify:
		w.stats.Notifies++
		v.onNotify(c)
	case kernel.DeliverDropExports, kernel.DeliverRetireExports, kernel.DeliverRetireImports:
		w.stats.GCDeliveries++
		v.onGC(c)
	case kernel.DeliverBringOutYourDead:
		w.stats.Reaps++
		v.onReap(c)
	default:
		w.fail("sim", "%s got an unexpected %s", v.name, c.Delivery.Kind)
	}
	return nil
}

// sys makes a syscall the vat is entitled to; a refusal is a violation
// and ends what the vat was doing (the kernel refuses every later syscall
// of the delivery anyway).
func (v *simVat) sys(c *kerneltest.Call, s kernel.Syscall) (kernel.SyscallResult, bool) {
	cur := v.w.cur
	if cur.refused {
		return kernel.SyscallResult{}, false
	}
	r := c.Sys.Syscall(s)
	if r.Err != nil {
		check := "syscall"
		if s.Kind == kernel.SyscallSend && s.Message.Result == "" {
			check = "sendonly"
		}
		v.w.fail(check, "%s's legal %s was refused: %v", v.name, describeSyscall(s), r.Err)
		cur.refused = true
		return r, false
	}
	return r, true
}

func describeSyscall(s kernel.Syscall) string {
	switch s.Kind {
	case kernel.SyscallSend:
		res := string(s.Message.Result)
		if res == "" {
			res = "(sendOnly)"
		}
		return fmt.Sprintf("send to %s %v result %s", s.Target, s.Message.Methargs.Slots, res)
	case kernel.SyscallResolve:
		parts := make([]string, len(s.Resolutions))
		for i, r := range s.Resolutions {
			parts[i] = fmt.Sprintf("%s rejected=%v %s", r.VPID, r.Rejected, r.Data)
		}
		return "resolve " + strings.Join(parts, "; ")
	case kernel.SyscallSubscribe:
		return "subscribe " + string(s.VPID)
	}
	return fmt.Sprintf("%s %v", s.Kind, s.VRefs)
}

// learn records that a delivery named vref for ref r: a vref the vat
// holds must still mean r, and a new one must be an import, which the vat
// now holds (reachable). A new promise import is subscribed to, as
// liveslots does.
func (v *simVat) learn(c *kerneltest.Call, vref kernel.VRef, r refID, where string, subscribe bool) *entry {
	w := v.w
	if e := v.view[vref]; e != nil {
		if e.r != r {
			w.fail("translation", "%s: %s got %s for %s, but %s is %s to it", where, v.name, vref, r, vref, e.r)
		}
		if !e.export {
			e.reachable = true
		}
		return e
	}
	if e := v.byRef[r]; e != nil {
		w.fail("translation", "%s: %s got %s for %s, which it holds as %s", where, v.name, vref, r, e.vref)
		return e
	}
	s := string(vref)
	if len(s) < 3 || s[1] != '-' {
		v.unknown("translation", vref, "%s: %s got %s for %s: an export vref it never made", where, v.name, vref, r)
	}
	x := w.refs[r]
	e := v.add(&entry{vref: vref, r: r, promise: x.promise, reachable: true})
	if x.promise && subscribe {
		v.sys(c, kernel.Syscall{Kind: kernel.SyscallSubscribe, VPID: vref})
	}
	return e
}

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

// rootRef is the model ref of v's root.
func (v *simVat) rootRef() refID { return v.view[kernel.RootVRef].r }
