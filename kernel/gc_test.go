package kernel_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/kernel"
	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/persistence"
)

func permutations(xs []string) [][]string {
	if len(xs) <= 1 {
		return [][]string{append([]string(nil), xs...)}
	}
	var out [][]string
	for i := range xs {
		rest := append(append([]string(nil), xs[:i]...), xs[i+1:]...)
		for _, p := range permutations(rest) {
			out = append(out, append([]string{xs[i]}, p...))
		}
	}
	return out
}

// One object imported by three vats that drop and then retire it in every
// order: it is freed only after the last importer lets go, the exporter
// hears dropExports (after the last drop) before retireExports (after the
// last retire), and the auditor is green after every crank (the driver runs
// it). The promises used along the way leave no rows.
func TestGCThreeImportersEveryOrder(t *testing.T) {
	importers := []string{"bob", "carol", "dave"}
	for _, order := range permutations(importers) {
		t.Run(fmt.Sprint(order), func(t *testing.T) {
			d := kt.New(t)
			res := d.Launch("alice", append([]string{"alice"}, importers...)...)
			alice := d.Vat("alice")
			var thing kernel.VRef
			alice.OnMethod["give"] = func(c *kt.Call) error {
				thing = c.NewExport(false)
				for i := range importers {
					c.Subscribe(c.Send(c.Slot(i), "hold", thing))
				}
				c.Fulfill(c.Result(), kt.Undefined)
				return nil
			}
			held := map[string]kernel.VRef{}
			for _, name := range importers {
				d.Vat(name).OnMethod["hold"] = func(c *kt.Call) error {
					held[name] = c.Slot(0)
					c.Fulfill(c.Result(), kt.Undefined)
					return nil
				}
			}
			d.Send(res.Roots["alice"], "give", res.Roots["bob"], res.Roots["carol"], res.Roots["dave"])
			d.RunUntilQuiescent(0)
			ko, ok := d.Store.KRefOf(string(res.VatIDs["alice"]), string(thing))
			require.True(t, ok)
			o, _ := d.Store.Object(ko)
			require.Equal(t, persistence.ObjectRow{Owner: string(res.VatIDs["alice"]), Reachable: 3, Recognizable: 3}, o)

			gcSeen := func() []kernel.DeliveryKind {
				var kinds []kernel.DeliveryKind
				for _, dv := range alice.Deliveries {
					if dv.Kind == kernel.DeliverDropExports || dv.Kind == kernel.DeliverRetireExports {
						require.Equal(t, []kernel.VRef{thing}, dv.VRefs)
						kinds = append(kinds, dv.Kind)
					}
				}
				return kinds
			}
			// Each importer, asked to bring out its dead, drops the import.
			for i, name := range order {
				d.Vat(name).Next = append(d.Vat(name).Next, func(c *kt.Call) error {
					require.Equal(t, kernel.DeliverBringOutYourDead, c.Delivery.Kind)
					c.GC(kernel.SyscallDropImports, held[name])
					return nil
				})
				_, err := d.K.ScheduleReap(d.Ctx, res.VatIDs[name])
				require.NoError(t, err)
				d.RunUntilQuiescent(0)
				o, ok := d.Store.Object(ko)
				require.True(t, ok, "the object lives while anyone can recognize it")
				require.Equal(t, int64(2-i), o.Reachable)
				require.Equal(t, int64(3), o.Recognizable)
				if i < 2 {
					require.Empty(t, gcSeen(), "no GC news for the exporter while anyone can reach it")
				} else {
					require.Equal(t, []kernel.DeliveryKind{kernel.DeliverDropExports}, gcSeen())
				}
			}
			for i, name := range order {
				d.Vat(name).Next = append(d.Vat(name).Next, func(c *kt.Call) error {
					c.GC(kernel.SyscallRetireImports, held[name])
					return nil
				})
				_, err := d.K.ScheduleReap(d.Ctx, res.VatIDs[name])
				require.NoError(t, err)
				d.RunUntilQuiescent(0)
				_, exists := d.Store.Object(ko)
				require.Equal(t, i < 2, exists, "freed only after the last retire")
			}
			require.Equal(t, []kernel.DeliveryKind{kernel.DeliverDropExports, kernel.DeliverRetireExports}, gcSeen())
			_, stillExported := d.Store.KRefOf(string(res.VatIDs["alice"]), string(thing))
			require.False(t, stillExported)
			require.Equal(t, 0, d.Store.PromiseCount(), "every settled promise is gone")
		})
	}
}

// GC actions are delivered before reaps and before the run queue, by vat,
// then dropExport, retireExport, retireImport (ocap-kernel semantics §6.3).
func TestGCPriorityOrder(t *testing.T) {
	d := kt.New(t)
	res := d.Launch("alice", "alice", "bob")
	alice, bob := d.Vat("alice"), d.Vat("bob")
	// alice gives bob two objects; bob later forgets one entirely (drop +
	// retire) and the other only partly (drop).
	var x, y kernel.VRef
	alice.OnMethod["give"] = func(c *kt.Call) error {
		x, y = c.NewExport(false), c.NewExport(false)
		c.Subscribe(c.Send(c.Slot(0), "hold", x, y))
		c.Fulfill(c.Result(), kt.Undefined)
		return nil
	}
	var hx, hy kernel.VRef
	bob.OnMethod["hold"] = func(c *kt.Call) error {
		hx, hy = c.Slot(0), c.Slot(1)
		c.Fulfill(c.Result(), kt.Undefined)
		return nil
	}
	d.Send(res.Roots["alice"], "give", res.Roots["bob"])
	d.RunUntilQuiescent(0)
	bob.OnMethod["forget"] = func(c *kt.Call) error {
		c.GC(kernel.SyscallDropImports, hx, hy)
		c.GC(kernel.SyscallRetireImports, hx)
		c.Fulfill(c.Result(), kt.Undefined)
		return nil
	}
	d.Send(res.Roots["bob"], "forget")
	d.Send(res.Roots["alice"], "later") // a queued item must wait for GC
	_, err := d.K.ScheduleReap(d.Ctx, res.VatIDs["bob"])
	require.NoError(t, err)
	var works []kernel.WorkKind
	for _, r := range d.RunUntilQuiescent(0) {
		works = append(works, r.Work)
	}
	require.Equal(t, []kernel.WorkKind{
		kernel.WorkBringOutYourDead, // the reap goes before the queue
		kernel.WorkSend,             // forget: bob drops x and y, retires x
		kernel.WorkDropExports,      // GC goes before the next item...
		kernel.WorkRetireExports,    // ...dropExport before retireExport
		kernel.WorkSend,             // later
	}, works)
	var gc []string
	for _, dv := range alice.Deliveries {
		if dv.Kind == kernel.DeliverDropExports || dv.Kind == kernel.DeliverRetireExports {
			gc = append(gc, fmt.Sprint(dv.Kind, dv.VRefs))
		}
	}
	require.Equal(t, []string{fmt.Sprint(kernel.DeliverDropExports, []kernel.VRef{x, y}), fmt.Sprint(kernel.DeliverRetireExports, []kernel.VRef{x})}, gc)
}

// An exporter that retires an export (it can no longer recognize it) makes
// the kernel tell the importers to retire their imports; an importer
// holding an unreachable-but-recognizable import then gets retireImports.
func TestRetireExportsReachesImporters(t *testing.T) {
	d := kt.New(t)
	res := d.Launch("alice", "alice", "bob")
	alice, bob := d.Vat("alice"), d.Vat("bob")
	var x, hx kernel.VRef
	alice.OnMethod["give"] = func(c *kt.Call) error {
		x = c.NewExport(false)
		c.Subscribe(c.Send(c.Slot(0), "hold", x))
		c.Fulfill(c.Result(), kt.Undefined)
		return nil
	}
	bob.OnMethod["hold"] = func(c *kt.Call) error {
		hx = c.Slot(0)
		c.Fulfill(c.Result(), kt.Undefined)
		return nil
	}
	d.Send(res.Roots["alice"], "give", res.Roots["bob"])
	d.RunUntilQuiescent(0)
	bob.OnMethod["drop"] = func(c *kt.Call) error {
		c.GC(kernel.SyscallDropImports, hx)
		c.Fulfill(c.Result(), kt.Undefined)
		return nil
	}
	d.Send(res.Roots["bob"], "drop")
	d.RunUntilQuiescent(0) // alice gets dropExports
	alice.OnMethod["retire"] = func(c *kt.Call) error {
		c.GC(kernel.SyscallRetireExports, x)
		c.Fulfill(c.Result(), kt.Undefined)
		return nil
	}
	d.Send(res.Roots["alice"], "retire")
	d.RunUntilQuiescent(0)
	last := bob.Deliveries[len(bob.Deliveries)-1]
	require.Equal(t, kernel.DeliverRetireImports, last.Kind)
	require.Equal(t, []kernel.VRef{hx}, last.VRefs)
	require.Equal(t, 1, len(d.Store.CListKRefs(string(res.VatIDs["bob"]))), "bob holds only his root")
}

// A vat may not retire an import it still reaches, nor retire an export
// the kernel has not dropped: both are illegal.
func TestGCSyscallValidation(t *testing.T) {
	tests := []struct {
		name string
		call func(c *kt.Call, imp kernel.VRef)
	}{
		{"retire reachable import", func(c *kt.Call, imp kernel.VRef) { c.GC(kernel.SyscallRetireImports, imp) }},
		{"retire reachable export", func(c *kt.Call, _ kernel.VRef) { c.GC(kernel.SyscallRetireExports, kernel.RootVRef) }},
		{"drop an export", func(c *kt.Call, _ kernel.VRef) { c.GC(kernel.SyscallDropImports, kernel.RootVRef) }},
		{"drop a promise", func(c *kt.Call, _ kernel.VRef) { c.GC(kernel.SyscallDropImports, "p-1") }},
		{"drop unknown import", func(c *kt.Call, _ kernel.VRef) { c.GC(kernel.SyscallDropImports, "o-77") }},
		{"abandon an import", func(c *kt.Call, imp kernel.VRef) { c.GC(kernel.SyscallAbandonExports, imp) }},
		{"abandon the root", func(c *kt.Call, _ kernel.VRef) { c.GC(kernel.SyscallAbandonExports, kernel.RootVRef) }},
		{"use a dropped import", func(c *kt.Call, imp kernel.VRef) {
			c.GC(kernel.SyscallDropImports, imp)
			c.Send(imp, "hello")
		}},
		{"malformed vref", func(c *kt.Call, _ kernel.VRef) { c.Send("o+x", "hello") }},
		{"send with an old promise as result", func(c *kt.Call, _ kernel.VRef) {
			c.Syscall(kernel.Syscall{Kind: kernel.SyscallSend, Target: kernel.RootVRef,
				Message: kernel.VatMessage{Methargs: kt.Methargs("x"), Result: c.Result()}})
		}},
		{"resolve as non-decider", func(c *kt.Call, _ kernel.VRef) {
			p := c.Send(kernel.RootVRef, "x")
			c.Fulfill(p, kt.Undefined) // the run queue holds its authority
		}},
		{"fulfill to a promise", func(c *kt.Call, _ kernel.VRef) {
			c.Fulfill(c.Result(), kt.Ref(string(c.NewExport(true))))
		}},
		{"vatstore key too long", func(c *kt.Call, _ kernel.VRef) {
			c.Syscall(kernel.Syscall{Kind: kernel.SyscallVatstoreSet, Key: string(make([]byte, 5000)), Value: "v"})
		}},
		{"exit twice", func(c *kt.Call, _ kernel.VRef) {
			c.Exit(false)
			c.Exit(false)
		}},
		{"resolve with no resolutions", func(c *kt.Call, _ kernel.VRef) {
			c.Syscall(kernel.Syscall{Kind: kernel.SyscallResolve})
		}},
		{"resolve one promise twice in a syscall", func(c *kt.Call, _ kernel.VRef) {
			c.Syscall(kernel.Syscall{Kind: kernel.SyscallResolve, Resolutions: []kernel.VatResolution{
				{VPID: c.Result(), Data: kt.Undefined}, {VPID: c.Result(), Data: kt.Undefined}}})
		}},
		{"unknown syscall kind", func(c *kt.Call, _ kernel.VRef) {
			c.Syscall(kernel.Syscall{Kind: kernel.SyscallKind(99)})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := kt.New(t)
			res := d.Launch("alice", "alice", "bob")
			var imp kernel.VRef
			d.Vat("bob").OnMethod["hold"] = func(c *kt.Call) error {
				imp = c.Slot(0)
				c.Fulfill(c.Result(), kt.Undefined)
				return nil
			}
			d.Send(res.Roots["bob"], "hold", res.Roots["alice"])
			d.RunUntilQuiescent(0)
			d.Vat("bob").OnMethod["go"] = func(c *kt.Call) error {
				tt.call(c, imp)
				return nil
			}
			p := d.Send(res.Roots["bob"], "go")
			r := d.Crank()
			require.Equal(t, kernel.Aborted, r.Outcome)
			require.ErrorIs(t, r.Failure, kernel.ErrIllegalSyscall)
			require.ErrorIs(t, d.ResultErr(p), kernel.ErrIllegalSyscall)
		})
	}
}
