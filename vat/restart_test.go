package vat_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/vat"
)

// providerVat is a vat with a durable counter (kept in baggage), an
// ephemeral object, and a count of its builds and bootstraps in baggage.
// Without redefine, an incarnation after the first forgets to re-define
// its kind.
func providerVat(redefine *bool) vat.BuildFunc {
	return func(vc *vat.Context) (any, error) {
		builds, _ := vc.Baggage.Get("builds")
		n, _ := marshal.Int(orZero(builds))
		if err := vc.Baggage.Set("builds", n+1); err != nil {
			return nil, err
		}
		if vc.Incarnation > 0 && !*redefine {
			return vat.Far("provider", vat.Methods{}), nil
		}
		kind, err := vc.DefineKind("counter", vat.Methods{
			"incr": func(c *vat.Call) (any, error) {
				v, _ := c.State().Get("count")
				n, _ := marshal.Int(v)
				if err := c.State().Set("count", n+1); err != nil {
					return nil, err
				}
				return n + 1, nil
			},
		})
		if err != nil {
			return nil, err
		}
		counter, ok := vc.Baggage.Get("counter")
		if !ok {
			if counter, err = kind.New(map[string]any{"count": 0}); err != nil {
				return nil, err
			}
			if err := vc.Baggage.Set("counter", counter); err != nil {
				return nil, err
			}
		}
		return vat.Far("provider", vat.Methods{
			"getCounter": func(c *vat.Call) (any, error) { return counter, nil },
			"getEphemeral": func(c *vat.Call) (any, error) {
				return vat.Far("ephemeral", vat.Methods{
					"increment": func(c *vat.Call) (any, error) { return 999, nil },
				}), nil
			},
			"remember": func(c *vat.Call) (any, error) { return nil, vc.Baggage.Set("name", c.Arg(0)) },
			"recall":   func(c *vat.Call) (any, error) { v, _ := vc.Baggage.Get("name"); return v, nil },
			"builds":   func(c *vat.Call) (any, error) { v, _ := vc.Baggage.Get("builds"); return v, nil },
		}), nil
	}
}

func orZero(v any) any {
	if v == nil {
		return int64(0)
	}
	return v
}

// consumerVat holds the provider's durable counter and ephemeral object.
func consumerVat(vc *vat.Context) (any, error) {
	var counter, eph any
	return vat.Far("consumer", vat.Methods{
		"bootstrap": func(c *vat.Call) (any, error) {
			provider := vatsArg(c, "provider")
			var err error
			if counter, err = vat.E(provider).Send("getCounter").Await(); err != nil {
				return nil, err
			}
			if eph, err = vat.E(provider).Send("getEphemeral").Await(); err != nil {
				return nil, err
			}
			return "ready", nil
		},
		"useCounter":   func(c *vat.Call) (any, error) { return vat.E(counter).Send("incr"), nil },
		"useEphemeral": func(c *vat.Call) (any, error) { return vat.E(eph).Send("increment"), nil },
	}), nil
}

// Scenarios 10 and 11: after a restart, a durable object is reachable with
// its state, baggage persists, bootstrap does not run again, and the
// ephemeral object of the old incarnation is orphaned as the reference
// does it: the delivery to it fails, the provider is terminated, and the
// consumer's call rejects with OBJECT_DELETED while the consumer lives on.
func TestRestartKeepsDurableOrphansEphemeral(t *testing.T) {
	redefine := true
	reg := vat.NewRegistry()
	reg.MustRegister("provider", providerVat(&redefine))
	reg.MustRegister("consumer", consumerVat)
	d := world(t, reg)
	res, boot := d.LaunchGo(cluster("consumer", map[string]string{"consumer": "consumer", "provider": "provider"}))
	require.Equal(t, "ready", d.Value(boot))
	consumer, provider := res.Roots["consumer"], res.Roots["provider"]

	p := d.Call(consumer, "useCounter")
	d.RunUntilQuiescent(0)
	require.Equal(t, int64(1), d.Value(p))
	p = d.Call(consumer, "useEphemeral")
	d.RunUntilQuiescent(0)
	require.Equal(t, int64(999), d.Value(p))
	p = d.Call(provider, "remember", "kept across restarts")
	d.RunUntilQuiescent(0)

	d.Restart(res.VatIDs["provider"])

	p = d.Call(consumer, "useCounter")
	d.RunUntilQuiescent(0)
	require.Equal(t, int64(2), d.Value(p), "the durable counter kept its state and its reference")
	p = d.Call(provider, "recall")
	d.RunUntilQuiescent(0)
	require.Equal(t, "kept across restarts", d.Value(p), "baggage persists")
	p = d.Call(provider, "builds")
	d.RunUntilQuiescent(0)
	require.Equal(t, int64(2), d.Value(p), "built twice")

	p = d.Call(consumer, "useEphemeral")
	d.RunUntilQuiescent(0)
	require.True(t, kernel.Carries(d.ResultErr(p), kernel.ErrObjectDeleted), "the consumer relays the splat")
	info, _ := d.K.Vat(res.VatIDs["provider"])
	require.True(t, info.Active, "the restart abandoned the ephemeral object: the message never reached the provider (the reference terminates it here)")
	require.Equal(t, int64(1), info.Incarnation)
	info, _ = d.K.Vat(res.VatIDs["consumer"])
	require.True(t, info.Active)
	p = d.Call(consumer, "useCounter")
	d.RunUntilQuiescent(0)
	require.Equal(t, int64(3), d.Value(p), "and the provider keeps serving its durable objects")
}

// A new incarnation that does not re-define a durable kind fails to start,
// with an error that names the kind, and the vat is terminated.
func TestRestartWithoutKindFails(t *testing.T) {
	redefine := true
	reg := vat.NewRegistry()
	reg.MustRegister("provider", providerVat(&redefine))
	reg.MustRegister("consumer", consumerVat)
	d := world(t, reg)
	res, _ := d.LaunchGo(cluster("consumer", map[string]string{"consumer": "consumer", "provider": "provider"}))
	redefine = false
	_, err := d.K.RestartVat(d.Ctx, res.VatIDs["provider"], d, "upgrade that forgot a kind")
	require.ErrorIs(t, err, kernel.ErrVatFault)
	require.ErrorContains(t, err, `durable kind "counter" was not re-defined`)
	info, _ := d.K.Vat(res.VatIDs["provider"])
	require.False(t, info.Active)
	d.AuditNow("failed restart")
}

// What baggage refuses: ephemeral objects and promises die with the
// incarnation, so they cannot be stored durably; nothing is written.
func TestBaggageRefusesEphemera(t *testing.T) {
	var errs []error
	reg := vat.NewRegistry()
	reg.MustRegister("v", func(vc *vat.Context) (any, error) {
		return vat.Far("v", vat.Methods{
			"bootstrap": func(c *vat.Call) (any, error) {
				p, _, _ := c.NewPromise()
				errs = append(errs,
					vc.Baggage.Set("far", vat.Far("x", nil)),
					vc.Baggage.Set("promise", p),
					vc.Baggage.Set("fine", map[string]any{"a": []any{1, "two"}}),
				)
				return vc.Baggage.Keys(), nil
			},
		}), nil
	})
	d := world(t, reg)
	_, boot := d.LaunchGo(cluster("v", map[string]string{"v": "v"}))
	require.ErrorContains(t, errs[0], "ephemeral (Far) object cannot be stored durably")
	require.ErrorContains(t, errs[1], "promise cannot be stored durably")
	require.NoError(t, errs[2])
	require.Equal(t, []any{"fine"}, d.Value(boot))
}

// Bootstrap runs once, at launch: a restart rebuilds the vat from its
// baggage and does not send bootstrap again.
func TestRestartDoesNotRebootstrap(t *testing.T) {
	reg := vat.NewRegistry()
	reg.MustRegister("v", func(vc *vat.Context) (any, error) {
		count := func(key string) (int64, error) {
			v, _ := vc.Baggage.Get(key)
			n, _ := marshal.Int(orZero(v))
			return n + 1, vc.Baggage.Set(key, n+1)
		}
		if _, err := count("builds"); err != nil {
			return nil, err
		}
		return vat.Far("v", vat.Methods{
			"bootstrap": func(c *vat.Call) (any, error) { return count("bootstraps") },
			"counts": func(c *vat.Call) (any, error) {
				b, _ := vc.Baggage.Get("builds")
				s, _ := vc.Baggage.Get("bootstraps")
				return []any{b, s, vc.Incarnation}, nil
			},
		}), nil
	})
	d := world(t, reg)
	res, boot := d.LaunchGo(cluster("v", map[string]string{"v": "v"}))
	require.Equal(t, int64(1), d.Value(boot))
	d.Restart(res.VatIDs["v"])
	d.Restart(res.VatIDs["v"])
	p := d.Call(res.Roots["v"], "counts")
	d.RunUntilQuiescent(0)
	require.Equal(t, []any{int64(3), int64(1), int64(2)}, d.Value(p), "three builds, one bootstrap, incarnation 2")
}

var _ = errors.New
