package vat_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/kernel"
	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/vat"
)

// worldWith is world over a kernel built from cfg (its Store filled in).
func worldWith(t *testing.T, reg *vat.Registry, cfg kernel.Config) *kt.Driver {
	d := kt.New(t)
	cfg.Store = d.Store
	k, err := kernel.New(cfg)
	require.NoError(t, err)
	d.K = k
	d.UseRegistry(reg)
	return d
}

// Every durable write liveslots makes for vat code is checked against the
// limits the kernel gave at startVat: over them, vat code gets an error
// wrapping ErrVatstoreLimit, nothing is written, and the vat lives (the
// kernel would have refused the raw syscall and terminated it). Reads of a
// key too long to exist answer "not found".
func TestVatstoreLimitsReturnErrors(t *testing.T) {
	const maxKey, maxValue = 64, 256
	long := strings.Repeat("k", maxKey) // with the "bg." prefix, over the limit
	big := strings.Repeat("v", maxValue)
	type check struct {
		name string
		err  error
	}
	var checks []check
	note := func(name string, err error) { checks = append(checks, check{name, err}) }
	reg := vat.NewRegistry()
	reg.MustRegister("v", func(vc *vat.Context) (any, error) {
		return vat.Far("v", vat.Methods{
			"bootstrap": func(c *vat.Call) (any, error) {
				if err := vc.Baggage.Set("k", "small"); err != nil {
					return nil, err
				}
				note("Baggage.Set of a long key", vc.Baggage.Set(long, 1))
				note("Baggage.Set of a big value", vc.Baggage.Set("k", big))
				note("Baggage.Set of a key that is not UTF-8", vc.Baggage.Set("\xff", 1))
				if vc.Baggage.Has(long) {
					return nil, errString("Has of a long key")
				}
				if _, ok := vc.Baggage.Get(long); ok {
					return nil, errString("Get of a long key")
				}
				vc.Baggage.Delete(long)

				_, err := vc.DefineKind(long, vat.Methods{})
				note("DefineKind with a long name", err)
				kind, err := vc.DefineKind("thing", vat.Methods{
					"state": func(c *vat.Call) (any, error) {
						a, _ := c.State().Get("a")
						_, hasB := c.State().Get("b")
						return []any{a, hasB}, nil
					},
					"grow": func(c *vat.Call) (any, error) {
						return nil, c.State().Set("a", big)
					},
					"name": func(c *vat.Call) (any, error) {
						return nil, c.State().Set(long, 1)
					},
				})
				if err != nil {
					return nil, err
				}
				_, err = kind.New(map[string]any{"a": int64(1), "b": big})
				note("Kind.New with a big field", err)
				obj, err := kind.New(map[string]any{"a": int64(1)})
				if err != nil {
					return nil, err
				}
				if err := vc.Baggage.Set("obj", obj); err != nil {
					return nil, err
				}
				v, _ := vc.Baggage.Get("k")
				return v, nil
			},
			"obj": func(c *vat.Call) (any, error) { v, _ := vc.Baggage.Get("obj"); return v, nil },
		}), nil
	})
	d := worldWith(t, reg, kernel.Config{MaxVatstoreKey: maxKey, MaxVatstoreValue: maxValue})
	res, boot := d.LaunchGo(cluster("v", map[string]string{"v": "v"}))
	require.Equal(t, "small", d.Value(boot), "the refused Set left the old value")
	require.Len(t, checks, 5)
	for _, c := range checks {
		require.ErrorIs(t, c.err, vat.ErrVatstoreLimit, c.name)
	}

	objP := d.Call(res.Roots["v"], "obj")
	d.RunUntilQuiescent(0)
	obj := d.ResultValue(objP)
	ko := kernel.KRef(obj.Slots[0])
	call := func(method string) kernel.KRef { return d.Call(ko, method) }
	state, grow, name := call("state"), call("grow"), call("name")
	again := call("state")
	d.RunUntilQuiescent(0)
	require.Equal(t, []any{int64(1), false}, d.Value(state), "the refused New wrote no field of its object (which took the same vref)")
	require.ErrorContains(t, d.ResultErr(grow), "over the kernel's vatstore limit")
	require.ErrorContains(t, d.ResultErr(name), "over the kernel's vatstore limit")
	require.Equal(t, []any{int64(1), false}, d.Value(again), "State.Set refused, the field unchanged")
	info, err := d.K.Vat(res.VatIDs["v"])
	require.NoError(t, err)
	require.True(t, info.Active, "the vat lives")
}

// The raw syscall stays illegal: a vat that writes past the limit without
// liveslots' check is terminated.
func TestRawVatstoreWritePastTheLimitIsIllegal(t *testing.T) {
	d := kt.New(t)
	res := d.Launch("a", "a")
	d.Vat("a").OnMethod["go"] = func(c *kt.Call) error {
		c.Syscall(kernel.Syscall{Kind: kernel.SyscallVatstoreSet, Key: "k", Value: strings.Repeat("v", kernel.DefaultMaxVatstoreValue+1)})
		return nil
	}
	d.Send(res.Roots["a"], "go")
	r := d.Crank()
	require.ErrorIs(t, r.Failure, kernel.ErrIllegalSyscall)
}

// Refusing a promise for baggage leaves no trace: the promise is not
// exported by the refused write, so settling it later is no illegal
// resolve (it was, and terminated the vat).
func TestRefusedDurableWriteExportsNothing(t *testing.T) {
	reg := vat.NewRegistry()
	reg.MustRegister("v", func(vc *vat.Context) (any, error) {
		return vat.Far("v", vat.Methods{
			"bootstrap": func(c *vat.Call) (any, error) {
				p, resolve, _ := c.NewPromise()
				if err := vc.Baggage.Set("p", p); err == nil {
					return nil, errString("a promise was stored")
				}
				if err := vc.Baggage.Set("far", []any{vat.Far("x", nil)}); err == nil {
					return nil, errString("an ephemeral object was stored")
				}
				resolve("settled")
				return p, nil
			},
		}), nil
	})
	d := world(t, reg)
	res, boot := d.LaunchGo(cluster("v", map[string]string{"v": "v"}))
	require.Equal(t, "settled", d.Value(boot))
	info, err := d.K.Vat(res.VatIDs["v"])
	require.NoError(t, err)
	require.True(t, info.Active)
}

type errString string

func (e errString) Error() string { return string(e) }
