package vat_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/vat"
)

// A handler awaiting a reply lets other deliveries to its vat run
// meanwhile, and resumes with the value in the crank that delivers it; an
// awaited rejection comes back as the error.
func TestAwaitYieldsToOtherDeliveries(t *testing.T) {
	var log []string
	var pending []func(any)
	reg := vat.NewRegistry()
	reg.MustRegister("alice", func(vc *vat.Context) (any, error) {
		var bob any
		return vat.Far("alice", vat.Methods{
			"bootstrap": func(c *vat.Call) (any, error) { bob = vatsArg(c, "bob"); return nil, nil },
			"ask": func(c *vat.Call) (any, error) {
				log = append(log, "ask: waiting for bob")
				v, err := vat.E(bob).Send("slow").Await()
				if err != nil {
					log = append(log, "ask: rejected: "+err.Error())
					return nil, err
				}
				log = append(log, "ask: resumed with "+v.(string))
				return "alice got " + v.(string), nil
			},
			"ping": func(c *vat.Call) (any, error) { log = append(log, "ping"); return "pong", nil },
			"askFail": func(c *vat.Call) (any, error) {
				_, err := vat.E(bob).Send("fail").Await()
				if err == nil {
					return nil, errors.New("fail did not fail")
				}
				var me *marshal.Error
				if !errors.As(err, &me) {
					return nil, errors.New("the rejection is not a marshal.Error")
				}
				return nil, err
			},
		}), nil
	})
	reg.MustRegister("bob", func(vc *vat.Context) (any, error) {
		return vat.Far("bob", vat.Methods{
			"slow": func(c *vat.Call) (any, error) {
				p, resolve, _ := c.NewPromise()
				pending = append(pending, resolve)
				return p, nil
			},
			"release": func(c *vat.Call) (any, error) { pending[0](c.Arg(0)); pending = pending[1:]; return nil, nil },
			"fail": func(c *vat.Call) (any, error) {
				return nil, errors.New("bob gave up")
			},
		}), nil
	})
	d := world(t, reg)
	res, _ := d.LaunchGo(cluster("alice", map[string]string{"alice": "alice", "bob": "bob"}))

	ask := d.Call(res.Roots["alice"], "ask")
	d.RunUntilQuiescent(0)
	ping := d.Call(res.Roots["alice"], "ping")
	d.RunUntilQuiescent(0)
	require.Equal(t, []string{"ask: waiting for bob", "ping"}, log, "ping ran while ask was waiting")
	require.Equal(t, "pong", d.Value(ping))
	_, done := d.Result(ask)
	require.False(t, done)

	d.Call(res.Roots["bob"], "release", "the answer")
	cranks := d.RunUntilQuiescent(0)
	require.Equal(t, "alice got the answer", d.Value(ask))
	require.Equal(t, []string{"ask: waiting for bob", "ping", "ask: resumed with the answer"}, log)
	// ask resumed, and settled its result, in the crank that told alice.
	var resumedIn kernel.CrankResult
	for _, r := range cranks {
		for _, o := range r.Released {
			if o.KPID == ask {
				resumedIn = r
			}
		}
	}
	require.Equal(t, kernel.WorkNotify, resumedIn.Work)
	require.Equal(t, res.VatIDs["alice"], resumedIn.Vat)

	// An awaited rejection is the error.
	log = nil
	bobFails := d.Call(res.Roots["alice"], "askFail")
	d.RunUntilQuiescent(0)
	err := d.ResultErr(bobFails)
	require.ErrorContains(t, err, "bob gave up")
}
