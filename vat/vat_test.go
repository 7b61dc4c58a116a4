package vat_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/kernel"
	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/vat"
)

// world is a driver with Go vats from reg.
func world(t *testing.T, reg *vat.Registry) *kt.Driver {
	d := kt.New(t)
	d.UseRegistry(reg)
	return d
}

func cluster(bootstrap string, bundles map[string]string) kernel.ClusterConfig {
	cfg := kernel.ClusterConfig{Bootstrap: bootstrap, Vats: map[string]kernel.VatConfig{}}
	for name, b := range bundles {
		cfg.Vats[name] = kernel.VatConfig{Bundle: b}
	}
	return cfg
}

func rec(v any) map[string]any { return v.(map[string]any) }

func TestRoundTripWithAwait(t *testing.T) {
	reg := vat.NewRegistry()
	reg.MustRegister("alice", func(vc *vat.Context) (any, error) {
		return vat.Far("alice", vat.Methods{
			"bootstrap": func(c *vat.Call) (any, error) {
				bob := rec(c.Arg(0))["bob"]
				reply, err := vat.E(bob).Send("hello", "alice").Await()
				if err != nil {
					return nil, err
				}
				return "bob said: " + reply.(string), nil
			},
		}), nil
	})
	reg.MustRegister("bob", func(vc *vat.Context) (any, error) {
		return vat.Far("bob", vat.Methods{
			"hello": func(c *vat.Call) (any, error) { return fmt.Sprintf("hi %v", c.Arg(0)), nil },
		}), nil
	})
	d := world(t, reg)
	_, boot := d.LaunchGo(cluster("alice", map[string]string{"alice": "alice", "bob": "bob"}))
	v, err := marshal.Decode(d.ResultValue(boot))
	require.NoError(t, err)
	require.Equal(t, "bob said: hi alice", v)
}

// The "" entry answers any method without one of its own.
func TestCatchAllMethod(t *testing.T) {
	reg := vat.NewRegistry()
	reg.MustRegister("proxy", func(vc *vat.Context) (any, error) {
		return vat.Far("proxy", vat.Methods{
			"known": func(c *vat.Call) (any, error) { return "known", nil },
			"":      func(c *vat.Call) (any, error) { return "caught " + c.Method, nil },
		}), nil
	})
	reg.MustRegister("strict", func(vc *vat.Context) (any, error) {
		return vat.Far("strict", vat.Methods{"bootstrap": func(c *vat.Call) (any, error) { return nil, nil }}), nil
	})
	d := world(t, reg)
	res, _ := d.LaunchGo(cluster("strict", map[string]string{"strict": "strict", "proxy": "proxy"}))
	p1 := d.Call(res.Roots["proxy"], "known")
	p2 := d.Call(res.Roots["proxy"], "anything")
	p3 := d.Call(res.Roots["strict"], "anything")
	d.RunUntilQuiescent(0)
	require.Equal(t, "known", d.Value(p1))
	require.Equal(t, "caught anything", d.Value(p2))
	require.ErrorContains(t, d.ResultErr(p3), `has no method "anything"`)
}
