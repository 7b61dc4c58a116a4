package main

import (
	"fmt"

	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/vat"
)

// registry holds the example's one vat bundle.
func registry() *vat.Registry {
	reg := vat.NewRegistry()
	reg.MustRegister("bank", bank, vat.About{Summary: "a bank whose ledger survives kill -9", Methods: []string{"deposit(amount)", "statement()"}})
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
