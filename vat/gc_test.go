package vat_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/vat"
)

// A presence vat code no longer holds is dropped and retired at the next
// bring-out-your-dead, and the exporter then hears dropExports and
// retireExports; one kept in baggage is not dropped. The driver audits
// every crank.
func TestGCReleasesForgottenPresences(t *testing.T) {
	var held any
	reg := vat.NewRegistry()
	reg.MustRegister("alice", func(vc *vat.Context) (any, error) {
		var bob any
		return vat.Far("alice", vat.Methods{
			"bootstrap": func(c *vat.Call) (any, error) { bob = vatsArg(c, "bob"); return nil, nil },
			"fetch": func(c *vat.Call) (any, error) {
				v, err := vat.E(bob).Send("make", c.Arg(0)).Await()
				held = v
				return nil, err
			},
			"keepInBaggage": func(c *vat.Call) (any, error) { return nil, vc.Baggage.Set("kept", held) },
			"forget":        func(c *vat.Call) (any, error) { held = nil; return nil, nil },
		}), nil
	})
	reg.MustRegister("bob", func(vc *vat.Context) (any, error) {
		return vat.Far("bob", vat.Methods{
			"make": func(c *vat.Call) (any, error) { return vat.Far(c.Arg(0).(string), nil), nil },
		}), nil
	})
	d := world(t, reg)
	res, _ := d.LaunchGo(cluster("alice", map[string]string{"alice": "alice", "bob": "bob"}))
	alice, bob := res.VatIDs["alice"], res.VatIDs["bob"]
	reap := func() []kernel.WorkKind {
		_, err := d.K.ScheduleReap(d.Ctx, alice)
		require.NoError(t, err)
		var works []kernel.WorkKind
		for _, r := range d.RunUntilQuiescent(0) {
			works = append(works, r.Work)
		}
		return works
	}
	bobExports := func() int { return len(d.Store.CListKRefs(string(bob))) } // root + live exports

	d.Call(res.Roots["alice"], "fetch", "thing")
	d.RunUntilQuiescent(0)
	require.NotNil(t, held)
	require.Equal(t, 2, bobExports())

	require.Equal(t, []kernel.WorkKind{kernel.WorkBringOutYourDead}, reap(), "a held presence is not dropped")
	require.Equal(t, 2, bobExports())

	d.Call(res.Roots["alice"], "forget")
	d.RunUntilQuiescent(0)
	require.Equal(t, []kernel.WorkKind{kernel.WorkBringOutYourDead, kernel.WorkDropExports, kernel.WorkRetireExports}, reap(),
		"the forgotten presence is dropped and retired, and bob told")
	require.Equal(t, 1, bobExports(), "bob exports only his root now")
	require.Equal(t, 2, d.Store.ObjectCount(), "only the two roots remain")

	// A presence kept in baggage stays imported though no Go value holds it.
	d.Call(res.Roots["alice"], "fetch", "keepsake")
	d.RunUntilQuiescent(0)
	d.Call(res.Roots["alice"], "keepInBaggage")
	d.Call(res.Roots["alice"], "forget")
	d.RunUntilQuiescent(0)
	require.Equal(t, []kernel.WorkKind{kernel.WorkBringOutYourDead}, reap())
	require.Equal(t, 2, bobExports(), "the keepsake stays exported")
}
