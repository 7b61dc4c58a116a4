// Code generated from examples/bank by go generate ./internal/demos. DO NOT EDIT.

// Package bank is examples/bank (its files but main.go) as a package, for
// the binary's demo command. Edit the example, then run go generate.
package bank

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/demos"
	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/vat"
)

// From examples/bank/run.go.

// Demo returns the bank demo: its bundles and its story.
func Demo() demos.Demo {
	return demos.Demo{
		Name:     "bank",
		Summary:  "a mint and its purses: payments between owners, and a cheater's three failed attempts",
		Register: register,
		Run:      Run,
		// The story starts from an empty kernel: resuming an old one (its
		// own last run's purses, or another program's vats) would muddle it.
		Fresh: true,
	}
}

// The opening balances, and what Alice pays Bob.
const (
	aliceOpens   = 100
	bobOpens     = 0
	malloryOpens = 5
	payment      = 10
	// forgedClaim is what Mallory's fake purse claims to hold.
	forgedClaim = 1_000_000
)

// Run launches the four vats on a fresh kernel and tells the story. It
// fails if the story does not go as told (a cheat that works, money made or
// lost), so running it is also a check.
func Run(ctx context.Context, opts demos.Options) error {
	return demos.WithKernel(ctx, Demo(), opts, func(k *actors.Kernel) error {
		h := &host{ctx: ctx, k: k, n: opts.Narrator()}
		return h.tell()
	})
}

// host drives the story from outside the kernel, as an embedding program
// would: every step is a QueueMessage, and every line it says is what was
// sent or what came back.
type host struct {
	ctx context.Context
	k   *actors.Kernel
	n   demos.Narrator
	// roots are the vats' root objects, by bundle name.
	roots map[string]kernel.KRef
}

func (h *host) tell() error {
	h.n.Section("bank: a mint and its purses")
	h.n.Say("Vats: bank/mint issues money; bank/alice and bank/bob are honest owners; bank/mallory cheats.")
	h.n.Say("A purse is an object of the mint's vat. The mint keeps every purse's balance in a private")
	h.n.Say("table keyed by the purse objects it made: a purse's money is what that table says, never")
	h.n.Say("what an object says about itself.")
	res, err := h.k.LaunchSubcluster(h.ctx, kernel.ClusterConfig{Bootstrap: "mint", Vats: map[string]kernel.VatConfig{
		"mint": {Bundle: bundleMint}, "alice": {Bundle: bundleAlice}, "bob": {Bundle: bundleBob}, "mallory": {Bundle: bundleMallory},
	}})
	if err != nil {
		return fmt.Errorf("bank: launch: %w", err)
	}
	h.roots = map[string]kernel.KRef{}
	for name, ref := range res.Roots {
		h.roots["bank/"+name] = ref
	}
	h.n.Say("Launched subcluster %s; bootstrap: %v.", res.SubclusterID, res.BootstrapResult)

	if err := h.issue(); err != nil {
		return err
	}
	before, err := h.totalSupply()
	if err != nil {
		return err
	}
	if err := h.pay(); err != nil {
		return err
	}
	if err := h.cheat(); err != nil {
		return err
	}
	return h.settle(before)
}

// issue has the host, holding the mint, make each owner's purse and hand
// it over. The host then lets go of the purse: the owner holds it now.
func (h *host) issue() error {
	h.n.Section("The mint issues purses")
	h.n.Say("The host holds the mint's root object: it alone can mint, by asking for a purse with money in it.")
	for _, o := range []struct {
		vat    string
		amount int64
	}{{bundleAlice, aliceOpens}, {bundleBob, bobOpens}, {bundleMallory, malloryOpens}} {
		v, err := h.send(fmt.Sprintf("%s: makePurse(%d)", bundleMint, o.amount), h.roots[bundleMint], "makePurse", o.amount)
		if err != nil {
			return err
		}
		purse, ok := v.(kernel.KRef)
		if !ok {
			return fmt.Errorf("bank: makePurse returned %v, not a purse", v)
		}
		h.n.Say("  → a purse")
		if _, err := h.send(o.vat+": takePurse(purse)", h.roots[o.vat], "takePurse", purse); err != nil {
			return err
		}
		if err := h.k.Release(h.ctx, purse); err != nil {
			return fmt.Errorf("bank: release a purse: %w", err)
		}
	}
	return nil
}

// pay has Alice pay Bob through a payment purse.
func (h *host) pay() error {
	h.n.Section(fmt.Sprintf("Alice pays Bob %d", payment))
	if _, err := h.send(fmt.Sprintf("%s: pay(%s, %d)", bundleAlice, bundleBob, payment),
		h.roots[bundleAlice], "pay", h.roots[bundleBob], payment); err != nil {
		return err
	}
	for _, who := range []string{bundleAlice, bundleBob} {
		if _, err := h.balance(who); err != nil {
			return err
		}
	}
	return nil
}

// cheat has Mallory try three ways to get money she has no right to. Each
// must be rejected with the mint's (or the vat runtime's) reason.
func (h *host) cheat() error {
	mallory := h.roots[bundleMallory]
	h.n.Section("Mallory tries to cheat")
	h.n.Say("Mallory holds one purse, with %d in it, and nothing else from the bank.", malloryOpens)

	h.n.Say("(a) She makes her own object named \"purse\" whose getBalance() answers %d,", forgedClaim)
	h.n.Say("    and asks her purse to deposit(%d, fake).", forgedClaim)
	if err := h.mustReject(fmt.Sprintf("%s: forge(%d)", bundleMallory, forgedClaim), msgNotAPurse, mallory, "forge", forgedClaim); err != nil {
		return err
	}
	asked, err := h.send(bundleMallory+": fakeAsked()", mallory, "fakeAsked")
	if err != nil {
		return err
	}
	if asked != int64(0) {
		return fmt.Errorf("bank: the mint asked the fake purse %v times; it must not trust it with anything", asked)
	}
	h.n.Say("  → 0: the mint never asked the fake anything; it looked it up in its table and did not find it.")

	h.n.Say("(b) She asks a fresh purse of hers to take more than her purse holds, then a negative amount.")
	for _, amount := range []int64{1000, -100} {
		want := fmt.Sprintf(msgNoFundsFmt, malloryOpens, amount)
		if amount < 0 {
			want = fmt.Sprintf("%s, not %d", msgBadAmount, amount)
		}
		if err := h.mustReject(fmt.Sprintf("%s: overdraw(%d)", bundleMallory, amount), want, mallory, "overdraw", amount); err != nil {
			return err
		}
	}

	h.n.Say("(c) Minting takes the mint object, which nobody gave her, and a vat can send only to what")
	h.n.Say("    it was given. The nearest she can do is ask her purse for makePurse(%d).", forgedClaim)
	return h.mustReject(fmt.Sprintf("%s: mint(%d)", bundleMallory, forgedClaim), `has no method "makePurse"`, mallory, "mint", forgedClaim)
}

// settle tells the final balances and checks that no money was made or
// lost.
func (h *host) settle(before int64) error {
	h.n.Section("Final balances")
	want := map[string]int64{bundleAlice: aliceOpens - payment, bundleBob: bobOpens + payment, bundleMallory: malloryOpens}
	var line []string
	for _, who := range []string{bundleAlice, bundleBob, bundleMallory} {
		v, err := h.balance(who)
		if err != nil {
			return err
		}
		if v != want[who] {
			return fmt.Errorf("bank: %s holds %d, want %d", who, v, want[who])
		}
		line = append(line, fmt.Sprintf("%s %d", strings.TrimPrefix(who, "bank/"), v))
	}
	after, err := h.totalSupply()
	if err != nil {
		return err
	}
	h.n.Say("Balances: %s", strings.Join(line, ", "))
	h.n.Say("Total supply: %d before, %d after: no money was made or lost, and Mallory's cheats changed nothing.", before, after)
	if after != before {
		return fmt.Errorf("bank: the total supply went from %d to %d", before, after)
	}
	return nil
}

// send sends method(args...) to target, saying "host → what" and the
// story lines that come back. A rejection is returned as is.
func (h *host) send(what string, target kernel.KRef, method string, args ...any) (any, error) {
	return demos.Send(h.ctx, h.k, h.n, what, target, method, args...)
}

// mustReject sends, and expects the vat to reject with a message
// containing want; anything else is a broken story.
func (h *host) mustReject(what, want string, target kernel.KRef, method string, args ...any) error {
	_, err := h.send(what, target, method, args...)
	var re *kernel.RejectionError
	switch {
	case err == nil:
		return fmt.Errorf("bank: %s was accepted; it must be rejected", what)
	case !errors.As(err, &re):
		return fmt.Errorf("bank: %s: %w", what, err)
	case !strings.Contains(re.Message, want):
		return fmt.Errorf("bank: %s was rejected with %q, want %q", what, re.Message, want)
	}
	if re.Name != "" && re.Name != "Error" {
		h.n.Say("  → rejected: %s: %s", re.Name, re.Message)
	} else {
		h.n.Say("  → rejected: %s", re.Message)
	}
	return nil
}

func (h *host) balance(who string) (int64, error) {
	v, err := h.send(who+": balance()", h.roots[who], "balance")
	if err != nil {
		return 0, err
	}
	n, ok := v.(int64)
	if !ok {
		return 0, fmt.Errorf("bank: %s's balance is %v, not a number", who, v)
	}
	h.n.Say("  → %d", n)
	return n, nil
}

func (h *host) totalSupply() (int64, error) {
	v, err := h.send(bundleMint+": totalSupply()", h.roots[bundleMint], "totalSupply")
	if err != nil {
		return 0, err
	}
	n, ok := v.(int64)
	if !ok {
		return 0, fmt.Errorf("bank: the total supply is %v, not a number", v)
	}
	h.n.Say("  → %d", n)
	return n, nil
}

// From examples/bank/vats.go.

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
