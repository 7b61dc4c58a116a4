package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/vat"
)

// The tour's bundle names. Carol runs bob's code (with her own name as a
// parameter), so that the two differ only in their failure policy.
const (
	BundleAlice = "tour/alice"
	BundleBob   = "tour/bob"
	BundleBank  = "tour/bank"
)

// Register adds the tour's vat bundles to reg: BundleAlice, BundleBob and
// BundleBank.
func Register(reg *vat.Registry) {
	reg.MustRegister(BundleAlice, buildAlice, vat.About{Summary: "greets bob, and opens an account at the bank by promise pipelining",
		Methods: []string{"bootstrap(vats, services)", "askBob()", "openAccount(amount)", "deposit(amount)"}})
	reg.MustRegister(BundleBob, buildBob, vat.About{Summary: "greets, saves at the bank, and panics on every payday (a staged bug, rolled back)",
		Methods: []string{"hello(who)", "meetBank(bank)", "payday(amount)", "paydays()", "save(amount)"}})
	reg.MustRegister(BundleBank, buildBank, vat.About{Summary: "a bank of durable accounts",
		Methods: []string{"openAccount(owner)", "nextAccountNumber()", "balances()"}})
}

// buildAlice is the bootstrap vat. Bootstrap hands her every vat's root;
// she introduces bob and carol to the bank and keeps the presences she
// needs for the host's later requests in her baggage, not in Go
// variables: bootstrap runs once, at launch, and a restarted alice (or
// one a kernel resumed from its file) starts with an empty heap but the
// same baggage.
func buildAlice(vc *vat.Context) (any, error) {
	// presence reads a presence alice keeps, naming what she lacks when
	// she has not got it yet.
	presence := func(key, missing string) (any, error) {
		p, ok := vc.Baggage.Get(key)
		if !ok {
			return nil, errors.New("alice: " + missing)
		}
		return p, nil
	}
	return vat.Far("alice", vat.Methods{
		"bootstrap": func(c *vat.Call) (any, error) {
			vats, ok := c.Arg(0).(map[string]any)
			if !ok {
				return nil, errors.New("alice: bootstrap wants the record of vats")
			}
			for _, name := range []string{"bob", "carol", "bank"} {
				if vats[name] == nil {
					return nil, fmt.Errorf("alice: the tour's cluster has vats named bob (tour/bob), carol (tour/bob) and bank (tour/bank); this config has no %s", name)
				}
			}
			for _, name := range []string{"bob", "bank"} {
				if err := vc.Baggage.Set(name, vats[name]); err != nil {
					return nil, fmt.Errorf("alice: keeping %s: %w", name, err)
				}
			}
			// Each of bob and carol opens his or her own account, so the
			// bank reference is all they need.
			for _, name := range []string{"bob", "carol"} {
				if _, err := vat.E(vats[name]).Send("meetBank", vats["bank"]).Await(); err != nil {
					return nil, fmt.Errorf("alice: introducing %s to the bank: %w", name, err)
				}
			}
			return "bob and carol have opened their accounts", nil
		},
		// askBob is the round trip: host -> alice -> bob, and back.
		"askBob": func(c *vat.Call) (any, error) {
			bob, err := presence("bob", "bootstrap has not introduced bob")
			if err != nil {
				return nil, err
			}
			return vat.E(bob).Send("hello", "alice").Await()
		},
		// openAccount is E(E(bank).openAccount("alice")).deposit(amount):
		// the deposit goes to the promise of the account before the bank
		// has answered, and the kernel holds it until the promise resolves.
		"openAccount": func(c *vat.Call) (any, error) {
			bank, err := presence("bank", "bootstrap has not introduced the bank")
			if err != nil {
				return nil, err
			}
			account := vat.E(bank).Send("openAccount", "alice")
			deposited := vat.E(account).Send("deposit", c.Arg(0))
			pending, _, _ := account.Settled()
			balance, err := deposited.Await()
			if err != nil {
				return nil, err
			}
			acct, err := account.Await()
			if err != nil {
				return nil, err
			}
			// The promise dies with the incarnation; the account it
			// resolved to can be kept.
			if err := vc.Baggage.Set("account", acct); err != nil {
				return nil, err
			}
			return map[string]any{"account": acct, "balance": balance, "sentBeforeSettled": !pending}, nil
		},
		// deposit uses alice's own reference to her account, to show that
		// a revocation holds for every holder, not just the host.
		"deposit": func(c *vat.Call) (any, error) {
			account, err := presence("account", "no account yet")
			if err != nil {
				return nil, err
			}
			return vat.E(account).Send("deposit", c.Arg(0)).Await()
		},
	}), nil
}

// buildBob is bob's (and carol's) code. What they must keep across a
// restart lives in baggage: the reference to their account and how many
// paydays they have recorded.
func buildBob(vc *vat.Context) (any, error) {
	name, _ := vc.Parameters["name"].(string)
	if name == "" {
		name = "bob"
	}
	account := func() (any, error) {
		a, ok := vc.Baggage.Get("account")
		if !ok {
			return nil, fmt.Errorf("%s: no bank account yet", name)
		}
		return a, nil
	}
	return vat.Far(name, vat.Methods{
		"meetBank": func(c *vat.Call) (any, error) {
			a, err := vat.E(c.Arg(0)).Send("openAccount", name).Await()
			if err != nil {
				return nil, err
			}
			return nil, vc.Baggage.Set("account", a)
		},
		"hello": func(c *vat.Call) (any, error) {
			return fmt.Sprintf("hello %v, from %s", c.Arg(0), name), nil
		},
		// payday changes durable state, sends a message, and then hits a
		// bug. The kernel rolls the whole crank back: the baggage write
		// and the send disappear with it.
		"payday": func(c *vat.Call) (any, error) {
			a, err := account()
			if err != nil {
				return nil, err
			}
			n, _ := vc.Baggage.Get("paydays")
			paydays, _ := marshal.Int(orZero(n))
			if err := vc.Baggage.Set("paydays", paydays+1); err != nil {
				return nil, err
			}
			vat.E(a).Send("deposit", c.Arg(0))
			panic(name + ": payroll bug: the bonus table was never loaded")
		},
		"paydays": func(c *vat.Call) (any, error) {
			n, _ := vc.Baggage.Get("paydays")
			return orZero(n), nil
		},
		"save": func(c *vat.Call) (any, error) {
			a, err := account()
			if err != nil {
				return nil, err
			}
			return vat.E(a).Send("deposit", c.Arg(0)).Await()
		},
	}), nil
}

// buildBank keeps accounts as objects of a durable kind, and the balances
// in its baggage, so that both would survive a restart of the bank.
func buildBank(vc *vat.Context) (any, error) {
	balanceKey := func(owner string) string { return "balance/" + owner }
	accountKind, err := vc.DefineKind("account", vat.Methods{
		"deposit": func(c *vat.Call) (any, error) {
			amount, err := marshal.Int(c.Arg(0))
			if err != nil || amount <= 0 {
				return nil, fmt.Errorf("bank: a deposit must be a positive whole amount, not %v", c.Arg(0))
			}
			owner, _ := c.State().Get("owner")
			key := balanceKey(owner.(string))
			old, _ := vc.Baggage.Get(key)
			balance, _ := marshal.Int(orZero(old))
			balance += amount
			return balance, vc.Baggage.Set(key, balance)
		},
		"balance": func(c *vat.Call) (any, error) {
			owner, _ := c.State().Get("owner")
			b, _ := vc.Baggage.Get(balanceKey(owner.(string)))
			return orZero(b), nil
		},
	})
	if err != nil {
		return nil, err
	}
	return vat.Far("bank", vat.Methods{
		// openAccount first has the ledger assign an account number, in a
		// message the bank sends itself. That makes the answer take more
		// than one crank, which is what lets the tour show a message
		// waiting in the kernel on the unresolved promise of the account.
		"openAccount": func(c *vat.Call) (any, error) {
			owner, ok := c.Arg(0).(string)
			if !ok || owner == "" {
				return nil, errors.New("bank: openAccount wants the owner's name")
			}
			if a, ok := vc.Baggage.Get("account/" + owner); ok {
				return a, nil
			}
			number, err := vat.E(c.Self).Send("nextAccountNumber").Await()
			if err != nil {
				return nil, err
			}
			a, err := accountKind.New(map[string]any{"owner": owner, "number": number})
			if err != nil {
				return nil, err
			}
			if err := vc.Baggage.Set("account/"+owner, a); err != nil {
				return nil, err
			}
			return a, vc.Baggage.Set(balanceKey(owner), 0)
		},
		"nextAccountNumber": func(c *vat.Call) (any, error) {
			n, _ := vc.Baggage.Get("accounts")
			count, _ := marshal.Int(orZero(n))
			return count + 1, vc.Baggage.Set("accounts", count+1)
		},
		// balances reads the ledger: owner -> balance.
		"balances": func(c *vat.Call) (any, error) {
			out := map[string]any{}
			for _, key := range vc.Baggage.Keys() {
				if owner, ok := strings.CutPrefix(key, "balance/"); ok {
					out[owner], _ = vc.Baggage.Get(key)
				}
			}
			return out, nil
		},
	}), nil
}

// orZero reads an unset counter as 0.
func orZero(v any) any {
	if v == nil {
		return int64(0)
	}
	return v
}
