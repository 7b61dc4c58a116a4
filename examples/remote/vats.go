package main

import (
	"fmt"

	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/vat"
)

// registry holds the example's vat bundles: the same in both kernels,
// each of which launches one.
func registry() *vat.Registry {
	reg := vat.NewRegistry()
	reg.MustRegister("bank", bank, vat.About{Summary: "a bank whose ledger survives kill -9", Methods: []string{"deposit(amount)", "statement()"}})
	reg.MustRegister("client", client, vat.About{Summary: "alice: deposits into a bank without waiting", Methods: []string{"deposit(bank, amount)", "answers()"}})
	return reg
}

// bank keeps its ledger in baggage, written in the crank that takes each
// deposit: a kernel killed and resumed holds every deposit a committed
// crank took, and none that a crash cut short.
//
//	deposit(amount) -> the new balance
//	statement() -> {balance, deposits: every amount, in the order taken}
func bank(vc *vat.Context) (any, error) {
	ledger := func() []any {
		v, _ := vc.Baggage.Get("ledger")
		l, _ := v.([]any)
		return l
	}
	balance := func() int64 {
		v, _ := vc.Baggage.Get("balance")
		n, _ := marshal.Int(v)
		return n
	}
	return vat.Far("bank", vat.Methods{
		// The subcluster's bootstrap: nothing to set up.
		"bootstrap": func(*vat.Call) (any, error) { return nil, nil },
		"deposit": func(c *vat.Call) (any, error) {
			amount, err := marshal.Int(c.Arg(0))
			// Positive amounts only: then every balance is a new one, and a doubled
			// deposit shows in the balance.
			if err != nil || amount <= 0 {
				return nil, fmt.Errorf("deposit: want a positive amount, got %v", c.Arg(0))
			}
			// Both keys in this crank: they commit together, or not at all.
			b := balance() + amount
			if err := vc.Baggage.Set("ledger", append(ledger(), amount)); err != nil {
				return nil, err
			}
			return b, vc.Baggage.Set("balance", b)
		},
		"statement": func(c *vat.Call) (any, error) {
			return map[string]any{"balance": balance(), "deposits": append([]any{}, ledger()...)}, nil
		},
	}), nil
}

// client is alice's vat. It sends each deposit to the bank (a presence
// of the bank's root, in another kernel) as it is asked, without waiting
// for the answer, and keeps the answers' promises in order. Only for this
// incarnation: alice's kernel is not the one killed.
//
//	deposit(bank, amount) -> nothing, at once
//	answers() -> every deposit's answer (the balance), in the order sent
func client(vc *vat.Context) (any, error) {
	var answers []*vat.Promise
	return vat.Far("client", vat.Methods{
		"bootstrap": func(*vat.Call) (any, error) { return nil, nil },
		"deposit": func(c *vat.Call) (any, error) {
			// One vat's sends to one reference arrive in the order sent.
			answers = append(answers, vat.E(c.Arg(0)).Send("deposit", c.Arg(1)))
			return nil, nil
		},
		"answers": func(c *vat.Call) (any, error) {
			out := make([]any, 0, len(answers))
			for i, p := range answers {
				// Meanwhile the vat takes other deliveries: each answer
				// arrives in a crank of its own.
				v, err := p.Await()
				if err != nil {
					return nil, fmt.Errorf("deposit %d: %w", i+1, err)
				}
				out = append(out, v)
			}
			return out, nil
		},
	}), nil
}
