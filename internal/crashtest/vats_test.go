package crashtest

import (
	"fmt"

	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/vat"
)

// The vats of the crash test. A subcluster is a ledger and a relay (its
// bootstrap vat). Every version of a bundle behaves the same; the second
// exists so that UpgradeVat has somewhere to go and back.
const (
	bundleLedger   = "crash/ledger"
	bundleLedgerV2 = "crash/ledger-v2"
	bundleRelay    = "crash/relay"
	bundleRelayV2  = "crash/relay-v2"
)

// Baggage keys. The ledger counts in baggage how many times each effect
// and each launch's greeting was applied: one is right, two is a message
// delivered twice. The parent reads them from the file as well as from
// the vat, so their layout is part of the test (see ledgerState).
const (
	keyEffect     = "op."         // ledger: op.<effect id> -> times applied
	keyHello      = "hello."      // ledger: hello.<launch id> -> times greeted
	keyAccount    = "acct."       // ledger: acct.<name> -> the durable account
	keyDistinct   = "distinct"    // ledger: how many distinct effects it holds
	keyLedger     = "ledger"      // relay: its ledger's presence
	keyBoots      = "boots"       // relay: times bootstrap was delivered
	keyBootResult = "boot-result" // relay: what bootstrap returned, once done
	paramLaunch   = "launch"      // vat parameter: the launch id
)

// registry holds every bundle the schedule uses.
func registry() *vat.Registry {
	reg := vat.NewRegistry()
	reg.MustRegister(bundleLedger, ledgerVat("v1"))
	reg.MustRegister(bundleLedgerV2, ledgerVat("v2"))
	reg.MustRegister(bundleRelay, relayVat("v1"))
	reg.MustRegister(bundleRelayV2, relayVat("v2"))
	return reg
}

// otherVersion is the bundle an upgrade of a vat running bundle goes to.
func otherVersion(bundle string) string {
	switch bundle {
	case bundleLedger:
		return bundleLedgerV2
	case bundleLedgerV2:
		return bundleLedger
	case bundleRelay:
		return bundleRelayV2
	}
	return bundleRelay
}

func isLedger(bundle string) bool { return bundle == bundleLedger || bundle == bundleLedgerV2 }
func isRelay(bundle string) bool  { return bundle == bundleRelay || bundle == bundleRelayV2 }

// counter reads an integer baggage entry (0 when unset).
func counter(bag *vat.Baggage, key string) int64 {
	v, ok := bag.Get(key)
	if !ok {
		return 0
	}
	n, _ := marshal.Int(v)
	return n
}

// bump adds one to a baggage counter and returns the new count.
func bump(bag *vat.Baggage, key string) (int64, error) {
	n := counter(bag, key) + 1
	return n, bag.Set(key, n)
}

func stringArg(c *vat.Call, i int, what string) (string, error) {
	s, ok := c.Arg(i).(string)
	if !ok || s == "" {
		return "", fmt.Errorf("%s: want a string, got %v", c.Method, c.Arg(i))
	}
	return s, nil
}

// ledgerVat is the durable ledger. Methods:
//
//	apply(id) -> times id has been applied (1 unless delivered twice)
//	account(name) -> the durable account name (made on first use)
//	hello(launch) -> times the launch's bootstrap greeted this ledger
//	count() -> how many distinct effects it holds (kept as a counter,
//	    which the parent holds against the effects in the file)
//	version() -> "v1" or "v2"
//
// An account's deposit(id) applies id to the same ledger of effects, so a
// pipelined send lands where a direct one does.
func ledgerVat(version string) vat.BuildFunc {
	return func(vc *vat.Context) (any, error) {
		bag := vc.Baggage
		apply := func(c *vat.Call) (any, error) {
			id, err := stringArg(c, 0, "effect id")
			if err != nil {
				return nil, err
			}
			n, err := bump(bag, keyEffect+id)
			if err == nil && n == 1 {
				_, err = bump(bag, keyDistinct)
			}
			return n, err
		}
		account, err := vc.DefineKind("account", vat.Methods{
			"deposit": func(c *vat.Call) (any, error) {
				n, err := apply(c)
				if err != nil {
					return nil, err
				}
				st := c.State()
				total, _ := st.Get("total")
				t, _ := marshal.Int(total)
				return n, st.Set("total", t+1)
			},
		})
		if err != nil {
			return nil, err
		}
		return vat.Far("ledger", vat.Methods{
			"apply": apply,
			"account": func(c *vat.Call) (any, error) {
				name, err := stringArg(c, 0, "account name")
				if err != nil {
					return nil, err
				}
				if obj, ok := bag.Get(keyAccount + name); ok {
					return obj, nil
				}
				obj, err := account.New(map[string]any{"name": name, "total": int64(0)})
				if err != nil {
					return nil, err
				}
				return obj, bag.Set(keyAccount+name, obj)
			},
			"hello": func(c *vat.Call) (any, error) {
				launch, err := stringArg(c, 0, "launch id")
				if err != nil {
					return nil, err
				}
				return bump(bag, keyHello+launch)
			},
			"count":   func(c *vat.Call) (any, error) { return counter(bag, keyDistinct), nil },
			"version": func(c *vat.Call) (any, error) { return version, nil },
		}), nil
	}
}

// relayVat is a subcluster's bootstrap vat: it reaches ledgers for the
// host, vat to vat. Methods:
//
//	bootstrap(vats, services) -> "ready <launch>", after greeting its
//	    ledger and waiting for the answer (so a kill can cut a bootstrap
//	    between its delivery and its result)
//	relay(id) -> apply(id) on its ledger, awaited
//	pipeline(id, account) -> deposit(id) sent to the promise for the
//	    ledger's account (pipelined), returned as a promise
//	relayTo(ledger, id) -> apply(id) on another subcluster's ledger
//	report() -> {boots, bootResult, version}
func relayVat(version string) vat.BuildFunc {
	return func(vc *vat.Context) (any, error) {
		bag := vc.Baggage
		ledger := func() (*vat.Presence, error) {
			v, _ := bag.Get(keyLedger)
			p, ok := v.(*vat.Presence)
			if !ok {
				return nil, fmt.Errorf("relay: no ledger (bootstrap has not run)")
			}
			return p, nil
		}
		launch, _ := vc.Parameters[paramLaunch].(string)
		return vat.Far("relay", vat.Methods{
			"bootstrap": func(c *vat.Call) (any, error) {
				vats, _ := c.Arg(0).(map[string]any)
				l, ok := vats["ledger"].(*vat.Presence)
				if !ok {
					return nil, fmt.Errorf("bootstrap: no ledger among %v", vats)
				}
				if _, err := bump(bag, keyBoots); err != nil {
					return nil, err
				}
				if err := bag.Set(keyLedger, l); err != nil {
					return nil, err
				}
				if _, err := vat.E(l).Send("hello", launch).Await(); err != nil {
					return nil, fmt.Errorf("bootstrap: greeting the ledger: %w", err)
				}
				res := "ready " + launch
				return res, bag.Set(keyBootResult, res)
			},
			"relay": func(c *vat.Call) (any, error) {
				l, err := ledger()
				if err != nil {
					return nil, err
				}
				return vat.E(l).Send("apply", c.Arg(0)).Await()
			},
			"pipeline": func(c *vat.Call) (any, error) {
				l, err := ledger()
				if err != nil {
					return nil, err
				}
				acct := vat.E(l).Send("account", c.Arg(1))
				return vat.E(acct).Send("deposit", c.Arg(0)), nil
			},
			"relayTo": func(c *vat.Call) (any, error) {
				l, ok := c.Arg(0).(*vat.Presence)
				if !ok {
					return nil, fmt.Errorf("relayTo: want a ledger, got %v", c.Arg(0))
				}
				return vat.E(l).Send("apply", c.Arg(1)).Await()
			},
			"report": func(c *vat.Call) (any, error) {
				res, _ := bag.Get(keyBootResult)
				if res == nil {
					res = ""
				}
				return map[string]any{"boots": counter(bag, keyBoots), "bootResult": res, "version": version}, nil
			},
		}), nil
	}
}
