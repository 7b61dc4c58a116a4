package kernel_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/kernel"
	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/marshal"
)

// cycleWorld has bob decide promises alice subscribes to, and resolve them
// with values bob chooses; it returns the krefs of bob's promises.
func cycleWorld(t *testing.T, n int, resolve func(c *kt.Call, ps []kernel.VRef)) (*kt.Driver, []kernel.KRef) {
	d := kt.New(t)
	res := d.Launch("alice", "alice", "bob")
	bob := d.Vat("bob")
	var ps []kernel.VRef
	bob.OnMethod["make"] = func(c *kt.Call) error {
		ps = append(ps, c.Result())
		return nil
	}
	bob.OnMethod["settle"] = func(c *kt.Call) error {
		resolve(c, ps)
		c.Fulfill(c.Result(), kt.Undefined)
		return nil
	}
	d.Vat("alice").OnMethod["go"] = func(c *kt.Call) error {
		for range n {
			c.Subscribe(c.Send(c.Slot(0), "make"))
		}
		c.Fulfill(c.Result(), kt.Undefined)
		return nil
	}
	d.Send(res.Roots["alice"], "go", res.Roots["bob"])
	d.RunUntilQuiescent(0)
	var krefs []kernel.KRef
	for _, vp := range ps {
		k, ok := d.Store.KRefOf(string(res.VatIDs["bob"]), string(vp))
		require.True(t, ok)
		krefs = append(krefs, kernel.KRef(k))
	}
	d.Send(res.Roots["bob"], "settle")
	d.RunUntilQuiescent(0)
	return d, krefs
}

func promiseGone(d *kt.Driver, kp kernel.KRef) bool {
	_, ok := d.Store.Promise(string(kp))
	return !ok
}

// Settled promises that name only each other are freed once nothing
// outside names them (SwingSet and the reference kernel keep them forever),
// together with the objects their values held.
func TestSettledPromiseCyclesAreFreed(t *testing.T) {
	d, kps := cycleWorld(t, 2, func(c *kt.Call, ps []kernel.VRef) {
		obj := c.NewExport(false)
		c.Syscall(kernel.Syscall{Kind: kernel.SyscallResolve, Resolutions: []kernel.VatResolution{
			{VPID: ps[0], Data: marshal.CapData{Body: `#["&0","$1.Alleged: x"]`, Slots: []string{string(ps[1]), string(obj)}}},
			{VPID: ps[1], Data: marshal.CapData{Body: `#["&0"]`, Slots: []string{string(ps[0])}}},
		}})
	})
	require.True(t, promiseGone(d, kps[0]))
	require.True(t, promiseGone(d, kps[1]))
	// The cycle's hold on the object it named went with it: only alice's
	// import (from her notification) holds it now.
	var held []int64
	for _, s := range d.Store.ObjectKRefs() {
		if o, _ := d.Store.Object(s); o.Owner == "v2" && o.Pins == 0 {
			held = append(held, o.Reachable)
		}
	}
	require.Equal(t, []int64{1}, held)
}

// A promise that names itself is freed the same way.
func TestSelfNamingPromiseIsFreed(t *testing.T) {
	d, kps := cycleWorld(t, 1, func(c *kt.Call, ps []kernel.VRef) {
		c.Resolve(ps[0], true, marshal.CapData{Body: `#"&0"`, Slots: []string{string(ps[0])}})
	})
	require.True(t, promiseGone(d, kps[0]))
}

// Part of a component can be garbage while the rest lives: X and Y name
// each other, and X also names Z; while something outside still holds Z,
// only X and Y go.
func TestPromiseCycleKeepsWhatIsHeldFromOutside(t *testing.T) {
	d, kps := cycleWorld(t, 3, func(c *kt.Call, ps []kernel.VRef) {
		c.Syscall(kernel.Syscall{Kind: kernel.SyscallResolve, Resolutions: []kernel.VatResolution{
			{VPID: ps[0], Data: marshal.CapData{Body: `#["&0","&1"]`, Slots: []string{string(ps[1]), string(ps[2])}}},
			{VPID: ps[1], Data: marshal.CapData{Body: `#["&0"]`, Slots: []string{string(ps[0])}}},
		}})
	})
	require.True(t, promiseGone(d, kps[0]), "X: held only by Y")
	require.True(t, promiseGone(d, kps[1]), "Y: held only by X")
	require.False(t, promiseGone(d, kps[2]), "Z: still decided by bob and awaited by alice")
}

// A cycle that something lasting names from outside stays: here the
// result of a host send with an idempotency key (the record holds it) is
// fulfilled to [X], and X and Y name each other.
func TestPromiseCycleNamedFromOutsideStays(t *testing.T) {
	d := kt.New(t)
	res := d.Launch("bob", "bob")
	d.Vat("bob").OnMethod["tangle"] = func(c *kt.Call) error {
		x, y := c.NewExport(true), c.NewExport(true)
		c.Syscall(kernel.Syscall{Kind: kernel.SyscallResolve, Resolutions: []kernel.VatResolution{
			// The result first: its value exports x, whose value exports y.
			{VPID: c.Result(), Data: marshal.CapData{Body: `#["&0"]`, Slots: []string{string(x)}}},
			{VPID: x, Data: marshal.CapData{Body: `#["&0"]`, Slots: []string{string(y)}}},
			{VPID: y, Data: marshal.CapData{Body: `#["&0"]`, Slots: []string{string(x)}}},
		}})
		return nil
	}
	h, _, _, err := d.K.QueueMessageOnce(d.Ctx, "tangle-1", res.Roots["bob"], kt.Methargs("tangle"))
	require.NoError(t, err)
	d.RunUntilQuiescent(0)
	o, ok := d.K.SettledOutput(h)
	require.True(t, ok)
	x := kernel.KRef(o.Value.Slots[0])
	require.False(t, promiseGone(d, x), "X is named by the host's kept result")
	xp, _ := d.Store.Promise(string(x))
	y := kernel.KRef(xp.Value.Slots[0])
	require.False(t, promiseGone(d, y), "and Y by X")
}
