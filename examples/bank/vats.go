package main

import (
	"errors"
	"fmt"

	"github.com/ocapgo/kernel-actors/demos"
	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/vat"
)

// The demo's bundle names, prefixed with its name (see package demos).
const (
	bundleMint    = "bank/mint"
	bundleAlice   = "bank/alice"
	bundleBob     = "bank/bob"
	bundleMallory = "bank/mallory"
)

// The mint's rejections. A vat error reaches the host as a
// *kernel.RejectionError carrying its message, so these are what the
// narrative and the tests look for.
const (
	msgNotAPurse  = "deposit: the source is not a purse of this mint"
	msgBadAmount  = "amount must be a whole number of at least 0"
	msgNoFundsFmt = "deposit: insufficient funds: the source holds %d, not %d"
	msgNoPurseYet = "no purse yet: call takePurse first"
)

// storyKey is where a result record carries its story (see story), for
// the host to tell (demos.Send).
const storyKey = demos.StoryKey

// register adds the demo's bundles to reg. Alice and Bob run the same
// code, an honest purse owner's, under their own names. Like
// vat.Registry.MustRegister, it panics if a name is taken.
func register(reg *vat.Registry) {
	owner := vat.About{Summary: "an honest purse owner: pays and receives through payment purses",
		Methods: []string{"takePurse(purse)", "balance()", "pay(payee, amount)", "receive(payment)"}}
	reg.MustRegister(bundleMint, buildMint, vat.About{Summary: "the mint: makes purses, and only its purses can move its money",
		Methods: []string{"bootstrap(vats, services)", "makePurse(amount)", "totalSupply()"}})
	reg.MustRegister(bundleAlice, buildOwner("alice"), owner)
	reg.MustRegister(bundleBob, buildOwner("bob"), owner)
	reg.MustRegister(bundleMallory, buildMallory, vat.About{Summary: "a cheater whose every attempt the mint rejects",
		Methods: []string{"takePurse(purse)", "balance()", "forge(claim)", "fakeAsked()", "overdraw(amount)", "mint(amount)"}})
}

// buildMint is the issuer. Its root makes purses (whoever holds the root
// can mint: that is the whole of the minting authority) and tells the
// total supply; every purse shares one method table and finds its own
// balance through call.Self.
func buildMint(vc *vat.Context) (any, error) {
	// balances is the mint's private table from the purses it made to
	// their balances: the WeakMap of the E-language mint. Only this vat's
	// code reads it, and only a *vat.Object of this vat can be a key: an
	// object of another vat arrives as a *vat.Presence. So what makes a
	// purse genuine is being in this table, never what it says of itself,
	// and the mint never has to ask a source anything.
	//
	// Unlike a WeakMap it holds its keys strongly, so a purse the rest of
	// the world has dropped keeps its (usually zero) entry. A long-lived
	// mint would make purses of a durable kind instead (vc.DefineKind),
	// whose state also survives a restart; the demo's mint lives for one
	// run.
	balances := map[*vat.Object]int64{}
	var purse vat.Methods
	makePurse := func(initial int64) *vat.Object {
		p := vat.Far("purse", purse)
		balances[p] = initial
		return p
	}
	purse = vat.Methods{
		"getBalance":     func(c *vat.Call) (any, error) { return balances[c.Self], nil },
		"makeEmptyPurse": func(c *vat.Call) (any, error) { return makePurse(0), nil },
		// deposit(amount, src) moves amount from src into this purse. Every
		// check comes before any change, so a rejected deposit changes
		// nothing (and, vat code running one task at a time, nothing can
		// run between the checks and the change).
		"deposit": func(c *vat.Call) (any, error) {
			amount, err := wholeAmount(c.Arg(0))
			if err != nil {
				return nil, err
			}
			src, _ := c.Arg(1).(*vat.Object)
			have, genuine := balances[src]
			if !genuine {
				return nil, errors.New(msgNotAPurse)
			}
			if amount > have {
				return nil, fmt.Errorf(msgNoFundsFmt, have, amount)
			}
			balances[src] -= amount
			balances[c.Self] += amount
			return balances[c.Self], nil
		},
	}
	return vat.Far("mint", vat.Methods{
		// The host drives the story, so bootstrap only opens the mint.
		"bootstrap": func(c *vat.Call) (any, error) { return "the mint is open", nil },
		"makePurse": func(c *vat.Call) (any, error) {
			amount, err := wholeAmount(c.Arg(0))
			if err != nil {
				return nil, err
			}
			return makePurse(amount), nil
		},
		"totalSupply": func(c *vat.Call) (any, error) {
			var total int64
			for _, b := range balances {
				total += b
			}
			return total, nil
		},
	}), nil
}

// wholeAmount reads an amount: a whole number, not negative (a negative
// deposit would run money backwards, out of the destination).
func wholeAmount(v any) (int64, error) {
	n, err := marshal.Int(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s, not %v", msgBadAmount, v)
	}
	return n, nil
}

// buildOwner is an honest owner of one purse, named name in its story.
// pay and receive are the two halves of a payment: the payer moves the
// amount into a fresh payment purse and hands that over; the payee asks
// the mint (through the payment) what it holds and deposits all of it. The
// payee trusts the mint, not the payer: a fake payment would fail the
// mint's deposit check.
func buildOwner(name string) vat.BuildFunc {
	return func(vc *vat.Context) (any, error) {
		var purse any // the presence of this owner's purse, once given
		own := name + "'s purse"
		return vat.Far("owner "+name, vat.Methods{
			"takePurse": func(c *vat.Call) (any, error) {
				purse = c.Arg(0)
				var s story
				bal, err := vat.E(purse).Send("getBalance").Await()
				if err != nil {
					return nil, err
				}
				s.add("bank/%s → %s: getBalance() → %v", name, own, bal)
				return s.record(), nil
			},
			"balance": func(c *vat.Call) (any, error) {
				if purse == nil {
					return nil, errors.New(msgNoPurseYet)
				}
				return vat.E(purse).Send("getBalance"), nil
			},
			// pay(payee, amount) pays amount to payee, another owner.
			"pay": func(c *vat.Call) (any, error) {
				payee, amount := c.Arg(0), c.Arg(1)
				var s story
				payment, err := vat.E(purse).Send("makeEmptyPurse").Await()
				if err != nil {
					return nil, err
				}
				s.add("bank/%s → %s: makeEmptyPurse() → a new empty purse, the payment", name, own)
				held, err := vat.E(payment).Send("deposit", amount, purse).Await()
				if err != nil {
					return nil, err
				}
				s.add("bank/%s → payment: deposit(%v, %s) → the payment holds %v", name, amount, own, held)
				got, err := vat.E(payee).Send("receive", payment).Await()
				if err != nil {
					return nil, err
				}
				s.add("bank/%s → payee: receive(payment)", name)
				s.addFrom(got)
				return s.record(), nil
			},
			// receive(payment) deposits all a payment purse holds.
			"receive": func(c *vat.Call) (any, error) {
				payment := c.Arg(0)
				var s story
				amount, err := vat.E(payment).Send("getBalance").Await()
				if err != nil {
					return nil, err
				}
				s.add("bank/%s → payment: getBalance() → %v", name, amount)
				held, err := vat.E(purse).Send("deposit", amount, payment).Await()
				if err != nil {
					return nil, err
				}
				s.add("bank/%s → %s: deposit(%v, payment) → %s holds %v", name, own, amount, own, held)
				return s.record(), nil
			},
		}), nil
	}
}

// buildMallory is the cheater. She holds one purse and, like every vat,
// can send only to what she was given; each of her methods is one attempt,
// whose rejection she passes straight back to the host.
func buildMallory(vc *vat.Context) (any, error) {
	var purse any
	fakeAsked := int64(0) // calls to any fake's methods, to show the mint never asks
	return vat.Far("owner mallory", vat.Methods{
		"takePurse": func(c *vat.Call) (any, error) {
			purse = c.Arg(0)
			var s story
			bal, err := vat.E(purse).Send("getBalance").Await()
			if err != nil {
				return nil, err
			}
			s.add("bank/mallory → mallory's purse: getBalance() → %v", bal)
			return s.record(), nil
		},
		"balance": func(c *vat.Call) (any, error) { return vat.E(purse).Send("getBalance"), nil },
		// forge(claim) makes an object that looks like a purse holding
		// claim and asks her real purse to take claim from it.
		"forge": func(c *vat.Call) (any, error) {
			claim := c.Arg(0)
			liar := func(*vat.Call) (any, error) { fakeAsked++; return claim, nil }
			fake := vat.Far("purse", vat.Methods{"getBalance": liar, "deposit": liar, "makeEmptyPurse": liar})
			return vat.E(purse).Send("deposit", claim, fake), nil
		},
		"fakeAsked": func(c *vat.Call) (any, error) { return fakeAsked, nil },
		// overdraw(amount) moves amount from her purse into a fresh one of
		// hers: more than she holds, or a negative amount to run the
		// deposit backwards.
		"overdraw": func(c *vat.Call) (any, error) {
			payment, err := vat.E(purse).Send("makeEmptyPurse").Await()
			if err != nil {
				return nil, err
			}
			return vat.E(payment).Send("deposit", c.Arg(0), purse), nil
		},
		// mint(amount) asks for new money. The mint's makePurse is a method
		// of the mint object, which nobody gave her, and a vat cannot name
		// an object it was not given; the nearest thing she holds is her
		// purse.
		"mint": func(c *vat.Call) (any, error) { return vat.E(purse).Send("makePurse", c.Arg(0)), nil },
	}), nil
}

// story is what a vat did while it handled one message, a line per step.
// Vat code runs inside the kernel and its only way out is its result, so
// it returns the lines (under storyKey) for the host to narrate.
type story []any

func (s *story) add(format string, args ...any) { *s = append(*s, fmt.Sprintf(format, args...)) }

// addFrom appends the story in another vat's result.
func (s *story) addFrom(result any) {
	if r, ok := result.(map[string]any); ok {
		if lines, ok := r[storyKey].([]any); ok {
			*s = append(*s, lines...)
		}
	}
}

func (s story) record() map[string]any { return map[string]any{storyKey: []any(s)} }
