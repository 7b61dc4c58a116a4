package actors_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/vat"
)

// The reference's scenarios (as MetaMask ocap-kernel does) through the
// embedding API. 1, 2, 6: kernel_test.go and launch_test.go; 3, 4:
// TestLaunchFailures; 7, 8: TestKernelRestartResumes; 11:
// TestOrphanedEphemeralObject; 21, 22: TestAbortedSendRejectsAtOnce and
// the kernel's tests.

func scenarioRegistry() *vat.Registry {
	reg := registry()
	reg.MustRegister("exporter", func(vc *vat.Context) (any, error) {
		made := map[string]*vat.Object{}
		return vat.Far("exporter", vat.Methods{
			"bootstrap": func(c *vat.Call) (any, error) { return nil, nil },
			"noop":      func(c *vat.Call) (any, error) { return "noop", nil },
			"createObject": func(c *vat.Call) (any, error) {
				name := c.Arg(0).(string)
				o := vat.Far(name, vat.Methods{"getValue": func(c *vat.Call) (any, error) { return name, nil }})
				made[name] = o
				return o, nil
			},
			"forgetObject": func(c *vat.Call) (any, error) { delete(made, c.Arg(0).(string)); return nil, nil },
			"foo": func(c *vat.Call) (any, error) {
				if c.Arg(0).(bool) {
					return nil, errors.New("error: bar")
				}
				return "bar", nil
			},
		}), nil
	})
	reg.MustRegister("importer", func(vc *vat.Context) (any, error) {
		var held any
		return vat.Far("importer", vat.Methods{
			"storeImport":  func(c *vat.Call) (any, error) { held = c.Arg(0); return nil, nil },
			"forgetImport": func(c *vat.Call) (any, error) { held = nil; return nil, nil },
			"use":          func(c *vat.Call) (any, error) { return vat.E(held).Send("getValue"), nil },
		}), nil
	})
	return reg
}

func scenarioCluster() kernel.ClusterConfig {
	return kernel.ClusterConfig{Bootstrap: "exporter", Vats: map[string]kernel.VatConfig{
		"exporter": {Bundle: "exporter"}, "importer": {Bundle: "importer"}, "bob": {Bundle: "bob"},
	}}
}

func ref(v any) kernel.KRef { return v.(kernel.KRef) }

// Scenario 5: an application error rejects the caller and the vat lives on.
func TestScenarioApplicationError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		k := start(t, actors.Config{Registry: scenarioRegistry()})
		res, err := k.LaunchSubcluster(ctx, scenarioCluster())
		require.NoError(t, err)
		var got []string
		for _, fail := range []bool{false, true, false} {
			v, err := k.QueueMessage(ctx, res.RootKref, "foo", fail)
			if err != nil {
				var re *kernel.RejectionError
				require.True(t, errors.As(err, &re))
				require.Equal(t, "error: bar", re.Message)
				got = append(got, "err")
				continue
			}
			got = append(got, v.(string))
		}
		require.Equal(t, []string{"bar", "err", "bar"}, got)
	})
}

// Scenario 12: messages to a terminated vat's objects reject with
// OBJECT_DELETED; the others carry on; the vat leaves the running set.
func TestScenarioTerminatedVat(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		k := start(t, actors.Config{Registry: scenarioRegistry()})
		res, err := k.LaunchSubcluster(ctx, scenarioCluster())
		require.NoError(t, err)
		// The importer holds bob's root, so it outlives bob as an orphan.
		_, err = k.QueueMessage(ctx, res.Roots["importer"], "storeImport", res.Roots["bob"])
		require.NoError(t, err)
		require.NoError(t, k.TerminateVat(ctx, res.VatIDs["bob"], "done with bob"))
		_, err = k.QueueMessage(ctx, res.Roots["bob"], "hello", "anyone")
		require.ErrorIs(t, err, kernel.ErrObjectDeleted)
		require.Contains(t, err.Error(), "Target object has no owner")
		_, err = k.QueueMessage(ctx, res.Roots["importer"], "use")
		require.True(t, kernel.Carries(err, kernel.ErrObjectDeleted), "relayed by the importer: %v", err)
		v, err := k.QueueMessage(ctx, res.RootKref, "noop")
		require.NoError(t, err)
		require.Equal(t, "noop", v)
		_, err = k.PingVat(ctx, res.VatIDs["bob"])
		require.ErrorIs(t, err, actors.ErrVatNotRunning)
		require.ErrorIs(t, k.TerminateVat(ctx, res.VatIDs["bob"], "again"), kernel.ErrVatNotActive)
	})
}

// Scenarios 13 and 14: revocation, and malformed krefs.
func TestScenarioRevocationAndBadKrefs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		k := start(t, actors.Config{Registry: scenarioRegistry()})
		res, err := k.LaunchSubcluster(ctx, scenarioCluster())
		require.NoError(t, err)
		obj, err := k.QueueMessage(ctx, res.RootKref, "createObject", "test-object")
		require.NoError(t, err)
		ko := ref(obj)
		// The importer holds it too (the host's result pins it as well).
		_, err = k.QueueMessage(ctx, res.Roots["importer"], "storeImport", ko)
		require.NoError(t, err)
		v, err := k.QueueMessage(ctx, ko, "getValue")
		require.NoError(t, err)
		require.Equal(t, "test-object", v)

		require.NoError(t, k.Revoke(ctx, ko))
		for i := 0; i < 5; i++ {
			_, err := k.QueueMessage(ctx, ko, "getValue")
			require.ErrorIs(t, err, kernel.ErrObjectRevoked)
			require.Contains(t, err.Error(), "Target object has been revoked")
		}
		revoked, err := k.IsRevoked(ctx, ko)
		require.NoError(t, err)
		require.True(t, revoked)
		v, err = k.QueueMessage(ctx, res.RootKref, "noop")
		require.NoError(t, err)
		require.Equal(t, "noop", v, "the exporter still answers")
		require.ErrorIs(t, k.Revoke(ctx, "kp1"), kernel.ErrPromiseNotRevocable)

		_, err = k.QueueMessage(ctx, "invalid-kref", "x")
		require.ErrorIs(t, err, kernel.ErrBadRef)
		_, err = k.QueueMessage(ctx, "", "x")
		require.ErrorIs(t, err, kernel.ErrBadRef)
		_, err = k.QueueMessage(ctx, res.RootKref, "ask", kernel.KRef("ko-bad"))
		require.ErrorIs(t, err, kernel.ErrBadRef)
		_, err = k.LaunchSubcluster(ctx, twoVats())
		require.NoError(t, err, "launching still works")
	})
}

// Scenario 20 (and 23 through the API): item 1 to vat A commits, item 2 to
// vat B makes an illegal syscall (here: resolving a promise it does not
// decide); A's effect stays, B is terminated, and B's caller is rejected
// with ILLEGAL_SYSCALL.
func TestScenarioAbortIsolation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		reg := counterRegistry()
		if err := reg.RegisterRaw("illegal", func() vat.RawVat { return illegalVat{} }); err != nil {
			t.Fatal(err)
		}
		k := start(t, actors.Config{Registry: reg})
		res, err := k.LaunchSubcluster(ctx, kernel.ClusterConfig{Bootstrap: "counter", Vats: map[string]kernel.VatConfig{
			"counter": {Bundle: "counter"}, "illegal": {Bundle: "illegal"},
		}})
		require.NoError(t, err)
		v, err := k.QueueMessage(ctx, res.RootKref, "incr")
		require.NoError(t, err)
		require.Equal(t, int64(1), v)
		_, err = k.QueueMessage(ctx, res.Roots["illegal"], "misbehave")
		require.ErrorIs(t, err, kernel.ErrIllegalSyscall)
		v, err = k.QueueMessage(ctx, res.RootKref, "incr")
		require.NoError(t, err)
		require.Equal(t, int64(2), v, "the first increment stayed committed")
		st, err := k.Status(ctx)
		require.NoError(t, err)
		for _, info := range st.Vats {
			require.Equal(t, info.Name != "illegal", info.Active, info.Name)
		}
	})
}

// Scenario 24: the GC lifecycle with one importer, driven by reaps.
func TestScenarioGCLifecycle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		k := start(t, actors.Config{Registry: scenarioRegistry()})
		res, err := k.LaunchSubcluster(ctx, scenarioCluster())
		require.NoError(t, err)
		obj, err := k.QueueMessage(ctx, res.RootKref, "createObject", "test-object")
		require.NoError(t, err)
		ko := ref(obj)
		_, err = k.QueueMessage(ctx, res.Roots["importer"], "storeImport", ko)
		require.NoError(t, err)
		v, err := k.QueueMessage(ctx, res.Roots["importer"], "use")
		require.NoError(t, err)
		require.Equal(t, "test-object", v)

		_, err = k.QueueMessage(ctx, res.Roots["importer"], "forgetImport")
		require.NoError(t, err)
		require.NoError(t, k.ScheduleReap(ctx, res.VatIDs["importer"]))
		// The importer dropped it, but the host still holds it from the
		// result that named it.
		v, err = k.QueueMessage(ctx, ko, "getValue")
		require.NoError(t, err)
		require.Equal(t, "test-object", v)
		// The host lets go too: the exporter is told and retires it.
		require.NoError(t, k.Release(ctx, ko))
		synctest.Wait() // the drop and retire run in cranks of their own
		_, err = k.QueueMessage(ctx, ko, "getValue")
		require.ErrorIs(t, err, kernel.ErrObjectDeleted)
		require.ErrorIs(t, k.Release(ctx, ko), kernel.ErrUnknownRef, "no pin left")
	})
}

// Scenario 25: a host service called from a vat; an unknown method
// rejects; services survive a kernel restart once registered again.
func TestScenarioServices(t *testing.T) {
	ctx := context.Background()
	path := t.TempDir() + "/k.db"
	clock := vat.Methods{
		"getStuff": func(c *vat.Call) (any, error) {
			return fmt.Sprintf("%v -- %v", c.Arg(1), c.Arg(0).(*vat.Presence).Iface()), nil
		},
	}
	reg := registry()
	reg.MustRegister("user", func(vc *vat.Context) (any, error) {
		var svc any
		return vat.Far("user", vat.Methods{
			"bootstrap": func(c *vat.Call) (any, error) {
				svc = c.Arg(1).(map[string]any)["stuff"]
				return nil, vc.Baggage.Set("svc", svc)
			},
			"call": func(c *vat.Call) (any, error) {
				if svc == nil {
					svc, _ = vc.Baggage.Get("svc")
				}
				return vat.E(svc).Send(c.Arg(0).(string), vat.Far("thing", nil), "tag").Await()
			},
		}), nil
	})
	k, err := actors.Start(ctx, actors.Config{DBPath: path, Registry: reg})
	require.NoError(t, err)
	require.NoError(t, k.RegisterService(ctx, "stuff", clock))
	res, err := k.LaunchSubcluster(ctx, kernel.ClusterConfig{Bootstrap: "user", Services: []string{"stuff"},
		Vats: map[string]kernel.VatConfig{"user": {Bundle: "user"}}})
	require.NoError(t, err)
	v, err := k.QueueMessage(ctx, res.RootKref, "call", "getStuff")
	require.NoError(t, err)
	require.Equal(t, "tag -- Alleged: thing", v)
	_, err = k.QueueMessage(ctx, res.RootKref, "call", "nope")
	require.ErrorContains(t, err, `service "stuff" has no method "nope"`)
	require.NoError(t, k.Stop(ctx))

	// After a restart the service answers once registered again, here
	// through Config.Services.
	k, err = actors.Start(ctx, actors.Config{DBPath: path, Registry: reg, Services: map[string]vat.Methods{"stuff": clock}})
	require.NoError(t, err)
	defer k.Stop(ctx)
	v, err = k.QueueMessage(ctx, res.RootKref, "call", "getStuff")
	require.NoError(t, err)
	require.Equal(t, "tag -- Alleged: thing", v)
}

// bankRegistry has a bank vat in three versions: v1 and v2 keep an
// account of a durable kind (v2 also reports its version differently);
// "forgetful" forgets to re-define the kind, which an upgrade must refuse.
func bankRegistry() *vat.Registry {
	reg := vat.NewRegistry()
	build := func(version string, defineKind bool) vat.BuildFunc {
		return func(vc *vat.Context) (any, error) {
			if !defineKind {
				return vat.Far("bank", vat.Methods{"version": func(*vat.Call) (any, error) { return version, nil }}), nil
			}
			account, err := vc.DefineKind("account", vat.Methods{
				"deposit": func(c *vat.Call) (any, error) {
					bal, _ := c.State().Get("balance")
					n, _ := marshal.Int(bal)
					amount, err := marshal.Int(c.Arg(0))
					if err != nil {
						return nil, err
					}
					return n + amount, c.State().Set("balance", n+amount)
				},
			})
			if err != nil {
				return nil, err
			}
			acct, ok := vc.Baggage.Get("account")
			if !ok {
				if acct, err = account.New(map[string]any{"balance": 0}); err != nil {
					return nil, err
				}
				if err := vc.Baggage.Set("account", acct); err != nil {
					return nil, err
				}
			}
			return vat.Far("bank", vat.Methods{
				"bootstrap": func(c *vat.Call) (any, error) {
					n, _ := vc.Baggage.Get("bootstraps")
					b, _ := marshal.Int(orZero(n))
					return nil, vc.Baggage.Set("bootstraps", b+1)
				},
				"deposit": func(c *vat.Call) (any, error) { return vat.E(acct).Send("deposit", c.Arg(0)), nil },
				"version": func(*vat.Call) (any, error) { return version, nil },
				"bootstraps": func(*vat.Call) (any, error) {
					n, _ := vc.Baggage.Get("bootstraps")
					return n, nil
				},
			}), nil
		}
	}
	reg.MustRegister("bank-v1", build("v1", true))
	reg.MustRegister("bank-v2", build("v2", true))
	reg.MustRegister("bank-forgetful", build("forgetful", false))
	return reg
}

// Scenario 10 and upgrades: a restarted vat keeps its durable state, is
// not bootstrapped again and is one incarnation further on; an upgrade
// runs new code on the same state; an upgrade whose code forgets a
// durable kind, or names no bundle, fails clearly and leaves the vat as
// it was.
func TestScenarioRestartAndUpgrade(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		k := start(t, actors.Config{Registry: bankRegistry()})
		res, err := k.LaunchSubcluster(ctx, kernel.ClusterConfig{Bootstrap: "bank", Vats: map[string]kernel.VatConfig{
			"bank": {Bundle: "bank-v1"},
		}})
		require.NoError(t, err)
		bank, id := res.RootKref, res.VatIDs["bank"]
		call := func(method string, args ...any) any {
			t.Helper()
			v, err := k.QueueMessage(ctx, bank, method, args...)
			require.NoError(t, err, method)
			return v
		}
		require.Equal(t, int64(10), call("deposit", 10))

		require.NoError(t, k.RestartVat(ctx, id))
		require.Equal(t, int64(15), call("deposit", 5), "durable state kept")
		require.Equal(t, int64(1), call("bootstraps"), "no second bootstrap")
		inc, err := k.PingVat(ctx, id)
		require.NoError(t, err)
		require.Equal(t, int64(1), inc)

		err = k.UpgradeVat(ctx, id, "bank-forgetful")
		require.ErrorContains(t, err, `durable kind "account" was not re-defined`)
		require.ErrorContains(t, k.UpgradeVat(ctx, id, "bank-v9"), "bank-v9")
		require.Equal(t, "v1", call("version"), "a failed upgrade leaves the old code running")
		require.Equal(t, int64(16), call("deposit", 1))

		require.NoError(t, k.UpgradeVat(ctx, id, "bank-v2"))
		require.Equal(t, "v2", call("version"))
		require.Equal(t, int64(18), call("deposit", 2), "the new code finds the old state")
		require.Equal(t, int64(1), call("bootstraps"))
		inc, err = k.PingVat(ctx, id)
		require.NoError(t, err)
		require.Equal(t, int64(2), inc, "failed upgrades take no incarnation")
	})
}
