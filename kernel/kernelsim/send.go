package kernelsim

import (
	"fmt"
	"maps"
	"slices"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/marshal"
)

// What a vat does in a delivery: send, settle, react to a message. Every
// syscall is one liveslots could make; what the model learns from it is
// recorded as an effect of the crank, applied only if the crank commits.

// newExport allocates a new object export: o+N, or o+d1/N if durable
// (durable vrefs are what a restart keeps; liveslots writes o+dK/I for
// durable kinds). The kernel makes the object when the vref first crosses
// a syscall.
func (v *simVat) newExport(durable bool) *entry {
	v.nextObj++
	vref := kernel.VRef(fmt.Sprintf("o+%d", v.nextObj))
	if durable {
		vref = kernel.VRef(fmt.Sprintf("o+d1/%d", v.nextObj))
	}
	r := v.w.newRef(false, v.idx)
	r.durable = durable
	return v.add(&entry{vref: vref, r: r.id, export: true, reachable: true})
}

// newPromise allocates a new promise export p+N. As a send's result the
// kernel decides it while the message waits; otherwise the vat does, and
// keeps it waiting (a plan) until a resolve step, settleLater or the end.
func (v *simVat) newPromise(result bool) *entry {
	v.nextProm++
	r := v.w.newRef(true, v.idx)
	e := &entry{vref: kernel.VRef(fmt.Sprintf("p+%d", v.nextProm)), r: r.id, export: true, promise: true, reachable: true}
	if result {
		r.decider = kernelDecides
	} else {
		e.decides = true
		v.plans = append(v.plans, e)
	}
	return v.add(e)
}

// slotValue is how an entry is written into a body.
func slotValue(e *entry) marshal.Ref {
	if e.promise {
		return marshal.Ref{Slot: string(e.vref), Promise: true}
	}
	return marshal.Ref{Slot: string(e.vref), Iface: "Alleged: thing"}
}

// refsOf maps the slots of data (vrefs of v) to refs: what a message's
// receiver or a promise's observer must find behind them.
func (v *simVat) refsOf(slots []string) []refID {
	out := make([]refID, len(slots))
	for i, s := range slots {
		out[i] = v.view[kernel.VRef(s)].r
	}
	return out
}

// send sends a message to target with args and returns its result (nil
// for sendOnly, or when the kernel refused the send). The vat subscribes
// to the result, as liveslots does for E().
func (v *simVat) send(c *kerneltest.Call, target *entry, args []*entry, react string, only bool) *entry {
	w := v.w
	if target == nil || !target.usable() || w.cur.refused {
		return nil
	}
	slots := make([]any, len(args))
	for i, a := range args {
		slots[i] = slotValue(a)
		if a.export {
			// Exporting it again makes it reachable: the kernel sets the
			// flag, and a later retireExports would then be illegal.
			a.reachable = true
		}
	}
	if target.export {
		target.reachable = true
	}
	m, data := w.newMessage(v.idx, target.r, "m", slots)
	m.react = react
	m.args = v.refsOf(data.Slots)
	var res *entry
	if !only {
		res = v.newPromise(true)
		m.result = res.r
		w.refs[res.r].msg = m
	}
	s := kernel.Syscall{Kind: kernel.SyscallSend, Target: target.vref, Message: kernel.VatMessage{Methargs: data}}
	if res != nil {
		s.Message.Result = res.vref
	}
	if _, ok := v.sys(c, s); !ok {
		return nil
	}
	// The message exists for the model once the sender's crank commits;
	// until then (and forever, if it aborts) a delivery of it is a bug.
	w.cur.effect(func() {
		m.committed = true
		w.stats.Messages++
	})
	if res != nil {
		v.sys(c, kernel.Syscall{Kind: kernel.SyscallSubscribe, VPID: res.vref})
	}
	return res
}

// resolve settles p, which v decides, and records how: the body and the
// refs of its slots, and the object it designates if it is exactly one
// (where messages sent to p go).
func (v *simVat) resolve(c *kerneltest.Call, p *entry, rejected bool, data marshal.CapData) bool {
	w := v.w
	if p == nil || p.gone || !p.decides {
		return false
	}
	s := kernel.Syscall{Kind: kernel.SyscallResolve, Resolutions: []kernel.VatResolution{{VPID: p.vref, Rejected: rejected, Data: data}}}
	if _, ok := v.sys(c, s); !ok {
		return false
	}
	res := &resolution{rejected: rejected, body: data.Body, slots: v.refsOf(data.Slots), by: v.idx}
	if slot, isPromise, ok := marshal.SingleRef(data); ok && !isPromise && !rejected {
		res.target = v.view[kernel.VRef(slot)].r
	}
	v.remove(p) // resolved promises leave the resolver's c-list
	r := w.refs[p.r]
	w.cur.effect(func() {
		r.res = res
		r.decider = noDecider
		if r.msg != nil && r.msg.from == v.idx {
			r.msg.seen = true // it resolved its own message's result
		}
	})
	return true
}

// settle settles p as the reaction leaf how says; hint is the message
// whose arguments 'a' and 'x' may use.
func (v *simVat) settle(c *kerneltest.Call, p *entry, how byte, hint *message) {
	if p == nil || p.gone || !p.decides {
		return
	}
	var data marshal.CapData
	rejected := false
	switch how {
	case 'u':
		data = kerneltest.Undefined
	case 's':
		data = kerneltest.Str(fmt.Sprintf("s%d", p.r))
	case 'o', 'd':
		data = encode(slotValue(v.newExport(how == 'd')))
	case 'a':
		data = encode(slotValue(v.someObject(hint)))
	case 'x':
		data = encode(map[string]any{"obj": slotValue(v.someObject(hint)), "p": slotValue(v.newPromise(false)), "n": int64(p.r)})
	case 'r':
		rejected = true
		data = marshal.EncodeError("Error", fmt.Sprintf("%s says no to %s", v.name, p.r))
	case 'R':
		// A rejection may be any passable value, references included.
		rejected = true
		data = encode(map[string]any{"why": "no", "obj": slotValue(v.someObject(hint)), "p": slotValue(v.newPromise(false))})
	default: // 'w': keep it waiting
		v.plans = append(v.plans, p)
		return
	}
	v.resolve(c, p, rejected, data)
}

// someObject is an object for a resolution: the first object argument of
// hint the vat may still name, else a new export.
func (v *simVat) someObject(hint *message) *entry {
	if hint != nil {
		for _, r := range hint.args {
			if e := v.byRef[r]; e != nil && !e.promise && e.usable() {
				return e
			}
		}
	}
	return v.newExport(false)
}

func encode(x any) marshal.CapData {
	d, err := marshal.Encode(x)
	if err != nil {
		panic(fmt.Sprintf("kernelsim: resolution does not encode: %v", err))
	}
	return d
}

// react does what m's reaction says, result being m's result (nil for
// sendOnly: the onward sends still happen, nothing is settled).
func (v *simVat) react(c *kerneltest.Call, m *message, result *entry, react string) {
	if react == "" {
		react = "u"
	}
	if !isOnward(react) {
		if result != nil {
			v.settle(c, result, react[0], m)
		}
		return
	}
	target, args := v.onward(m)
	q := v.send(c, target, args, react[1:], false)
	switch react[0] {
	case 'f':
		// Forwarding is how a chain of promises forms: messages sent to
		// result wait on it until q settles, then go where q went.
		if q != nil && result != nil {
			v.forwards[q.r] = append(v.forwards[q.r], result)
			return
		}
		v.settle(c, result, 's', m)
	case 'c':
		v.settle(c, result, 'o', m)
	case 'p':
		v.send(c, q, nil, "u", false)
		v.settle(c, result, 'u', m)
	}
}

// onward picks where m's reaction sends onward: m's first argument the
// vat may name, with the others as arguments; else a reference picked by
// m's id.
func (v *simVat) onward(m *message) (*entry, []*entry) {
	var held []*entry
	for _, r := range m.args {
		if e := v.byRef[r]; e != nil && e.usable() {
			held = append(held, e)
		}
	}
	if len(held) > 0 {
		return held[0], held[1:]
	}
	return pick(v.filter((*entry).usable), m.id), nil
}

// finishAll settles everything the vat still owes: the end of a program,
// after which no promise may be left unsettled.
func (v *simVat) finishAll(c *kerneltest.Call) {
	for _, p := range v.plans {
		v.settle(c, p, 'u', nil)
	}
	v.plans = nil
	// In a fixed order: the order of the syscalls decides the kernel's
	// ids, and a seed must make one execution.
	for _, q := range slices.Sorted(maps.Keys(v.forwards)) {
		for _, p := range v.forwards[q] {
			v.settle(c, p, 's', nil)
		}
		delete(v.forwards, q)
	}
}
