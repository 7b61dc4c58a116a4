package vat

import (
	"fmt"
	"strconv"
	"strings"
	"weak"

	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/vatproto"
)

// slotOf is the codec's hook for values that pass by reference: it finds
// (or allocates) the vref that names them to the kernel.
func (inst *Instance) slotOf(v any) (marshal.Ref, bool, error) {
	switch x := v.(type) {
	case *Object:
		vref, err := inst.exportObject(x)
		if err != nil {
			return marshal.Ref{}, false, err
		}
		return marshal.Ref{Slot: vref, Iface: "Alleged: " + x.iface}, true, nil
	case *Presence:
		if x.inst != inst {
			return marshal.Ref{}, false, fmt.Errorf("vat: a presence of another vat was passed")
		}
		if x.retired {
			return marshal.Ref{}, false, fmt.Errorf("vat: presence %s: its object is gone", x.iface)
		}
		return marshal.Ref{Slot: x.vref, Iface: x.iface}, true, nil
	case *Promise:
		vpid, err := inst.exportPromise(x)
		if err != nil {
			return marshal.Ref{}, false, err
		}
		return marshal.Ref{Slot: vpid, Promise: true}, true, nil
	}
	return marshal.Ref{}, false, nil
}

// exportObject returns o's vref, allocating one (o+N) the first time, and
// holds o strongly while the kernel may send to it.
func (inst *Instance) exportObject(o *Object) (string, error) {
	if err := o.claim(inst); err != nil {
		return "", err
	}
	if o.kind != nil {
		return o.vref, nil // durable: its vref is its identity
	}
	if o.vref == "" {
		o.vref = inst.nextVRef(false)
		inst.exports[o.vref] = o
		return o.vref, nil
	}
	if _, held := inst.exports[o.vref]; !held {
		// Re-exported after the kernel dropped it: reachable again.
		delete(inst.dropped, o.vref)
		inst.exports[o.vref] = o
	}
	return o.vref, nil
}

// exportPromise returns p's vpid, allocating one (p+N) if the kernel does
// not know p yet; the vat then decides it and tells the kernel when it
// settles.
func (inst *Instance) exportPromise(p *Promise) (string, error) {
	if err := p.bind(inst); err != nil {
		return "", err
	}
	if p.vpid != "" {
		return p.vpid, nil
	}
	p.vpid = inst.nextVRef(true)
	inst.promises[p.vpid] = p
	inst.decides[p] = true
	if p.state != pending {
		inst.toResolve = append(inst.toResolve, p)
	}
	return p.vpid, nil
}

// valueOf is the codec's hook for references in a delivery: it finds the
// object, presence or promise a vref names, making presences and promises
// for new imports.
func (inst *Instance) valueOf(r marshal.Ref) (any, error) {
	if r.Promise {
		_, known := inst.promises[r.Slot]
		p := inst.promiseFor(r.Slot)
		if !known && strings.HasPrefix(r.Slot, "p-") {
			// A promise new to the vat: ask to hear how it settles.
			inst.syscall(vatproto.Syscall{Kind: vatproto.SyscallSubscribe, VPID: vatproto.VRef(r.Slot)})
		}
		return p, nil
	}
	if strings.HasPrefix(r.Slot, "o-") {
		return inst.presenceFor(r.Slot, r.Iface), nil
	}
	return inst.objectFor(r.Slot)
}

// promiseFor returns the promise a vpid names, making it if new.
func (inst *Instance) promiseFor(vpid string) *Promise {
	if p, ok := inst.promises[vpid]; ok {
		return p
	}
	p := inst.newPromise()
	p.vpid = vpid
	inst.promises[vpid] = p
	return p
}

// presenceFor returns the presence for an import, the same one while the
// vat holds it.
func (inst *Instance) presenceFor(vref, iface string) *Presence {
	if w, ok := inst.imports[vref]; ok {
		if p := w.Value(); p != nil {
			return p
		}
	}
	p := &Presence{vref: vref, iface: iface, inst: inst}
	inst.imports[vref] = weak.Make(p)
	return p
}

// objectFor returns the vat's own object a vref names.
func (inst *Instance) objectFor(vref string) (*Object, error) {
	if o, ok := inst.exports[vref]; ok {
		return o, nil
	}
	if w, ok := inst.dropped[vref]; ok {
		if o := w.Value(); o != nil {
			return o, nil
		}
	}
	if strings.HasPrefix(vref, "o+d") {
		return inst.durableFor(vref)
	}
	return nil, fmt.Errorf("vat: no object %s here: an ephemeral object of an earlier incarnation, "+
		"or one this vat never exported", vref)
}

// parseDurable splits "o+dK/I" into kind id K and instance I.
func parseDurable(vref string) (kind, id uint64, ok bool) {
	rest, found := strings.CutPrefix(vref, "o+d")
	if !found {
		return 0, 0, false
	}
	ks, is, found := strings.Cut(rest, "/")
	if !found {
		return 0, 0, false
	}
	k, err1 := strconv.ParseUint(ks, 10, 64)
	i, err2 := strconv.ParseUint(is, 10, 64)
	return k, i, err1 == nil && err2 == nil
}
