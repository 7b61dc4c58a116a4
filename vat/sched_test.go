package vat_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/vat"
)

// Every reaction a delivery triggers runs inside it: a chain of Then
// callbacks finishes before the delivery ends, and between deliveries no
// vat goroutine runs. Stopping an incarnation ends the goroutines parked
// in Await.
func TestReactionsStayInsideTheDelivery(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	var trail []int
	var neverSettles *vat.Promise
	reg := vat.NewRegistry()
	reg.MustRegister("v", func(vc *vat.Context) (any, error) {
		return vat.Far("v", vat.Methods{
			"bootstrap": func(c *vat.Call) (any, error) { return nil, nil },
			"chain": func(c *vat.Call) (any, error) {
				p, resolve, _ := c.NewPromise()
				for i := 0; i < 100; i++ {
					p = p.Then(func(v any) (any, error) {
						trail = append(trail, i)
						return v, nil
					}, nil)
				}
				resolve("start")
				return nil, nil
			},
			"hang": func(c *vat.Call) (any, error) {
				neverSettles, _, _ = c.NewPromise()
				return neverSettles.Await() // parks for good
			},
		}), nil
	})
	d := world(t, reg)
	res, _ := d.LaunchGo(cluster("v", map[string]string{"v": "v"}))
	d.Call(res.Roots["v"], "chain")
	r := d.Crank()
	require.Equal(t, kernel.WorkSend, r.Work)
	require.Len(t, trail, 100, "the whole chain ran in the delivery's crank")
	for i, step := range trail {
		require.Equal(t, i, step)
	}

	d.Call(res.Roots["v"], "hang")
	d.RunUntilQuiescent(0)
	d.Instance(res.VatIDs["v"]).Stop() // the goroutine parked in Await exits
}
