package kernel_test

import (
	"testing"

	"github.com/ocapgo/kernel-actors/kernel"
	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
)

// A unit that drops references to more krefs than maxKeptFree leaves the
// kernel with a fresh free-candidate map, so later cranks do not pay for
// its capacity; small units keep reusing theirs. (Ranging over or
// clearing a Go map costs its capacity, not its length.)
func TestFreeSetReplacedAfterBigUnit(t *testing.T) {
	d := kt.New(t)
	res := d.Launch("a", "a")
	a := d.Vat("a")
	n := 5 * kernel.MaxKeptFree
	a.OnMethod = map[string]kt.Handler{
		// flood sends its own root n fresh exports in one message; when
		// that message is delivered, the queue's references to all n go.
		"flood": func(c *kt.Call) error {
			slots := make([]kernel.VRef, n)
			for i := range slots {
				slots[i] = c.NewExport(false)
			}
			c.Send("o+0", "hold", slots...)
			c.Fulfill(c.Result(), kt.Undefined)
			return c.Err
		},
	}
	small := func() {
		d.Send(res.RootKref, "noop")
		d.RunUntilQuiescent(100)
	}
	small()
	before := kernel.FreeSetID(d.K)
	small()
	if got := kernel.FreeSetID(d.K); got != before {
		t.Fatalf("a small unit replaced the free-candidate map; want it cleared in place")
	}
	d.Send(res.RootKref, "flood")
	d.RunUntilQuiescent(100)
	if d.Store.ObjectCount() > 10 {
		t.Fatalf("the %d exports were not collected: %d objects left", n, d.Store.ObjectCount())
	}
	after := kernel.FreeSetID(d.K)
	if after == before {
		t.Fatalf("after a unit that freed %d krefs the free-candidate map is the same map; want a fresh one", n)
	}
	small()
	if got := kernel.FreeSetID(d.K); got != after {
		t.Fatalf("a small unit after the big one replaced the map again; want it reused")
	}
}
