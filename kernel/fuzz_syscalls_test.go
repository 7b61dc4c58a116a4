package kernel_test

import (
	"fmt"
	"testing"

	"github.com/ocapgo/kernel-actors/kernel"
	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/marshal"
)

// FuzzSyscalls drives a raw vat's syscalls from fuzz input against a real
// kernel with real c-lists: three vats that already share objects and
// promises, and a program of deliveries, each of whose syscalls (kind,
// vrefs, bodies) the input chooses, legal or not. Whatever the program,
// the kernel must never panic (an InvariantError is a kernel bug, and the
// driver lets it through), every crank must leave the auditor silent (the
// driver audits after each), and a vat that made an illegal syscall is the
// only one terminated for it.
func FuzzSyscalls(f *testing.F) {
	for _, seed := range [][]byte{
		{},
		{0, 0, 1, 2, 3},
		{1, 0, 0, 1, 7, 2, 0, 0},
		{2, 1, 0, 3, 1, 1, 4, 0, 5, 2},
		{0, 3, 3, 3, 3, 6, 6, 6, 9, 9},
		{1, 2, 5, 0, 2, 5, 1, 2, 5, 2, 2, 5, 3},
		{2, 8, 1, 8, 2, 8, 3, 10, 0, 11, 1},
		[]byte("garbage{{ and more garbage"),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, program []byte) {
		runSyscallProgram(t, program)
	})
}

// progReader hands out the program's bytes; past the end it gives zeros,
// so every program is a complete one.
type progReader struct {
	b []byte
	i int
}

func (r *progReader) next() int {
	if r.i >= len(r.b) {
		return 0
	}
	v := int(r.b[r.i])
	r.i++
	return v
}

func (r *progReader) done() bool { return r.i >= len(r.b) }

// fuzzBodies are the bodies a fuzzed syscall may carry: good ones for each
// slot count, and the malformed kinds validation must refuse.
var fuzzBodies = []string{
	`#undefined`,
	`#"text"`,
	`#"$0.Alleged: thing"`,
	`#["$0.Alleged: a","$1.Alleged: b"]`,
	`#"&0"`,
	`#["m",[]]`,
	`#["m",["$0.Alleged: x"]]`,
	`garbage{{`,
	`#"$5.Alleged: missing"`,
	`#{"#error":"boom","name":"Error"}`,
	``,
	`#["m"]`,
}

func runSyscallProgram(t *testing.T, program []byte) {
	d := kt.New(t)
	res := d.Launch("a", "a", "b", "c")
	names := []string{"a", "b", "c"}
	// Share some references first: each vat exports an object and a
	// promise to the next.
	for i, name := range names {
		next := names[(i+1)%len(names)]
		d.Vat(name).Next = append(d.Vat(name).Next, func(c *kt.Call) error {
			c.Send(c.Slot(0), "take", c.NewExport(false), c.NewExport(true))
			return nil
		})
		d.Send(res.Roots[name], "share", res.Roots[next])
	}
	d.RunUntilQuiescent(0)

	r := &progReader{b: program}
	for step := 0; step < 64 && !r.done(); step++ {
		name := names[r.next()%len(names)]
		v := d.Vat(name)
		info, _ := d.K.Vat(v.ID)
		if !info.Active {
			continue
		}
		n := 1 + r.next()%6
		var script []func(c *kt.Call)
		for range n {
			script = append(script, fuzzSyscall(r, d, v))
		}
		v.Next = append(v.Next, func(c *kt.Call) error {
			for _, s := range script {
				s(c)
			}
			return nil
		})
		d.Send(res.Roots[name], "go")
		before := activeVats(d)
		rs := d.RunUntilQuiescent(0)
		// A vat that made an illegal syscall is the only one terminated
		// in that crank (no vat is harmed by another's syscalls).
		for _, cr := range rs {
			for _, gone := range cr.Terminated {
				if cr.Vat != "" && gone != cr.Vat && before[gone] {
					t.Fatalf("step %d: crank %d delivered to %s but terminated %s", step, cr.Crank, cr.Vat, gone)
				}
			}
		}
	}
}

func activeVats(d *kt.Driver) map[kernel.VatID]bool {
	out := map[kernel.VatID]bool{}
	for _, v := range d.K.Vats() {
		out[v.ID] = v.Active
	}
	return out
}

// fuzzSyscall decodes one syscall for vat v from r.
func fuzzSyscall(r *progReader, d *kt.Driver, v *kt.FakeVat) func(c *kt.Call) {
	kind := r.next() % 12
	refA, refB := r.next(), r.next()
	body := fuzzBodies[r.next()%len(fuzzBodies)]
	return func(c *kt.Call) {
		ref := func(sel int) kernel.VRef { return fuzzVRef(d, v, c, sel) }
		data := marshal.CapData{Body: body, Slots: []string{string(ref(refB))}}
		if refB%3 == 0 {
			data.Slots = nil
		}
		switch kind {
		case 0:
			c.Syscall(kernel.Syscall{Kind: kernel.SyscallSend, Target: ref(refA),
				Message: kernel.VatMessage{Methargs: data, Result: c.NewExport(true)}})
		case 1:
			c.Syscall(kernel.Syscall{Kind: kernel.SyscallSend, Target: ref(refA),
				Message: kernel.VatMessage{Methargs: kt.Methargs("m"), Result: ref(refB)}})
		case 2:
			c.Subscribe(ref(refA))
		case 3:
			c.Resolve(ref(refA), refB%2 == 0, data)
		case 4:
			if c.Delivery.Message.Result != "" {
				c.Resolve(c.Delivery.Message.Result, refB%2 == 0, data)
			}
		case 5:
			c.GC(kernel.SyscallDropImports, ref(refA))
		case 6:
			c.GC(kernel.SyscallRetireImports, ref(refA))
		case 7:
			c.GC(kernel.SyscallRetireExports, ref(refA))
		case 8:
			c.GC(kernel.SyscallAbandonExports, ref(refA))
		case 9:
			c.Syscall(kernel.Syscall{Kind: kernel.SyscallVatstoreSet, Key: fmt.Sprint("k", refA), Value: body})
		case 10:
			c.Syscall(kernel.Syscall{Kind: kernel.SyscallExit, Failure: refA%2 == 0, Info: data})
		case 11:
			c.Syscall(kernel.Syscall{Kind: kernel.SyscallKind(200 + refA%50)})
		}
	}
}

// fuzzVRef picks a vref for v: one from its c-list, the delivery's own
// refs, a new export, or one that is malformed or unknown.
func fuzzVRef(d *kt.Driver, v *kt.FakeVat, c *kt.Call, sel int) kernel.VRef {
	var known []kernel.VRef
	for _, kref := range d.Store.CListKRefs(string(v.ID)) {
		if e, ok := d.Store.CList(string(v.ID), kref); ok {
			known = append(known, kernel.VRef(e.VRef))
		}
	}
	switch sel % 8 {
	case 0, 1, 2:
		if len(known) > 0 {
			return known[(sel/8)%len(known)]
		}
		return "o+0"
	case 3:
		return c.NewExport(false)
	case 4:
		return c.NewExport(true)
	case 5:
		return kernel.VRef(fmt.Sprintf("o-%d", 100+sel))
	case 6:
		return kernel.VRef(fmt.Sprintf("p-%d", 100+sel))
	}
	return []kernel.VRef{"", "x", "o+", "p+-1", "o+d1", "o+v1/2:x", "ko1", "p+99999999999999999999"}[(sel/8)%8]
}
