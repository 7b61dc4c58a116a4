package kernelsim

import (
	"errors"
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/kernel/kerneltest"
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
	// decides: the vat may settle the promise. The vat's own knowledge,
	// set at once; the model's ref.decider follows when the crank commits.
	decides bool
	// gone: the vref has left the c-list (resolved, retired, abandoned).
	// Entries are never reused: a vref that comes back is a new entry.
	gone bool
}

// newSimVat makes the simulation's side of fake vat fv and installs its
// handler.
func newSimVat(w *world, idx int, id kernel.VatID, fv *kerneltest.FakeVat) *simVat {
	v := &simVat{w: w, idx: idx, name: vatName(idx), id: id, fv: fv, active: true,
		view: map[kernel.VRef]*entry{}, byRef: map[refID]*entry{}, forwards: map[refID][]*entry{},
		lost: map[kernel.VRef]string{}}
	fv.Default = v.handle
	return v
}

// add puts e in the view, under its vref and its ref.
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
	// The same ref may have come back under a new vref since (a promise
	// retired and imported again): only this entry goes.
	if v.byRef[e.r] == e {
		delete(v.byRef, e.r)
	}
}

// entries returns the entries the vat holds, in order, compacting order.
// The copy lets a caller remove entries while it walks them.
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

// filter returns the entries for which keep is true, in order: the
// candidates of a pick, which must come in the same order every run.
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

// pick takes the i-th candidate, modulo their number, so a step's pick
// always names something when there is anything to name.
func pick(es []*entry, i int) *entry {
	if len(es) == 0 {
		return nil
	}
	return es[i%len(es)]
}

// forget drops what the vat's heap held: its plans and forwards. Called
// when an incarnation ends. The promises behind them are the kernel's to
// reject (rejectDecided expects it to).
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

// handle answers every delivery but startVat (the Driver's own). It runs
// inside the crank, on the crank's goroutine: what it finds wrong it
// records with fail, and what the model learns it records as effects of
// the crank.
func (v *simVat) handle(c *kerneltest.Call) (err error) {
	w := v.w
	cur := w.cur
	if cur == nil {
		w.fail("sim", "%s got a %s outside a crank", v.name, c.Delivery.Kind)
		return nil
	}
	cur.vat = v
	if w.opts.Log != nil { // a replay: say what each vat was given
		w.opts.Log("    %s <- %s", v.name, kerneltest.DescribeDelivery(c.Delivery))
	}
	// A bug of the simulation must not pass for the vat's fault (the
	// Driver would recover the panic and the kernel terminate the vat): it
	// is reported as what it is. A scripted panic goes through.
	defer func() {
		if p := recover(); p != nil {
			if _, ok := p.(vatPanic); ok {
				panic(p)
			}
			w.fail("sim", "panic in %s's handler: %v\n%s", v.name, p, debug.Stack())
			err = errBadDelivery
		}
	}()
	// INVARIANT 9 (docs/invariants.md): a terminated vat gets nothing
	// more.
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
	if v.w.opts.Log != nil {
		v.w.opts.Log("    %s -> %s", v.name, describeSyscall(s))
	}
	if r.Err != nil {
		// Every syscall made through sys is legal by the model's account
		// of the c-list; a refusal means the kernel and the model
		// disagree (or sendOnly has not landed).
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

// describeSyscall renders a syscall for a violation's text.
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
	// Both directions of the c-list are checked: a vref must keep its
	// meaning, and a ref the vat holds must come back under the same vref
	// (the kernel translates through one entry per ref).
	if e := v.view[vref]; e != nil {
		if e.r != r {
			w.fail("translation", "%s: %s got %s for %s, but %s is %s to it", where, v.name, vref, r, vref, e.r)
		}
		if !e.export {
			e.reachable = true // a delivery makes an import reachable again
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

// rootRef is the model ref of v's root.
func (v *simVat) rootRef() refID { return v.view[kernel.RootVRef].r }
