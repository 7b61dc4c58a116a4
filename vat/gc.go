package vat

import (
	"runtime"
	"slices"

	"github.com/ocapgo/kernel-actors/vatproto"
)

// Garbage collection across the vat boundary (SwingSet's model):
//
//   - exports: the vat holds its exported objects strongly while the
//     kernel can reach them; dropExports demotes them to weak (so local
//     code may still use and re-export them), and retireExports forgets
//     them. Durable objects live in the vatstore and are never collected.
//   - imports: presences are held weakly. At bring-out-your-dead the vat
//     runs Go's collector; an import whose presence was collected and that
//     no durable value refers to is dropped and retired.
//
// GC is the only place where Go's collector affects what the vat does, and
// it happens only at bring-out-your-dead, a crank of its own, so the rest
// of the vat's behaviour stays deterministic.

func (inst *Instance) dropExports(vrefs []vatproto.VRef) {
	for _, v := range vrefs {
		vref := string(v)
		if o, ok := inst.exports[vref]; ok && o.kind == nil && vref != string(vatproto.RootVRef) {
			delete(inst.exports, vref)
			inst.dropped[vref] = makeWeak(o)
		}
	}
}

func (inst *Instance) retireExports(vrefs []vatproto.VRef) {
	for _, v := range vrefs {
		vref := string(v)
		if w, ok := inst.dropped[vref]; ok {
			if o := w.Value(); o != nil {
				o.vref = "" // a later export gets a new vref
			}
			delete(inst.dropped, vref)
		}
		if o, ok := inst.exports[vref]; ok && o.kind == nil {
			o.vref = ""
			delete(inst.exports, vref)
		}
	}
}

func (inst *Instance) retireImports(vrefs []vatproto.VRef) {
	for _, v := range vrefs {
		vref := string(v)
		if w, ok := inst.imports[vref]; ok {
			if p := w.Value(); p != nil {
				p.retired = true
			}
			delete(inst.imports, vref)
		}
	}
}

// bringOutYourDead collects garbage and reports what the vat no longer
// holds.
func (inst *Instance) bringOutYourDead() {
	runtime.GC()
	runtime.GC() // a second cycle settles what the first one's cleanups freed
	var gone []vatproto.VRef
	for vref, w := range inst.imports {
		if w.Value() == nil {
			gone = append(gone, vatproto.VRef(vref))
		}
	}
	slices.Sort(gone)
	var drop []vatproto.VRef
	for _, vref := range gone {
		delete(inst.imports, string(vref))
		if inst.durableRC(string(vref)) == 0 {
			drop = append(drop, vref)
		}
	}
	if len(drop) > 0 {
		inst.syscall(vatproto.Syscall{Kind: vatproto.SyscallDropImports, VRefs: drop})
		inst.syscall(vatproto.Syscall{Kind: vatproto.SyscallRetireImports, VRefs: drop})
	}
	var retire []vatproto.VRef
	for vref, w := range inst.dropped {
		if w.Value() == nil {
			retire = append(retire, vatproto.VRef(vref))
		}
	}
	slices.Sort(retire)
	for _, vref := range retire {
		delete(inst.dropped, string(vref))
	}
	if len(retire) > 0 {
		inst.syscall(vatproto.Syscall{Kind: vatproto.SyscallRetireExports, VRefs: retire})
	}
}
