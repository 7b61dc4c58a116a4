package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/demos"
	"github.com/ocapgo/kernel-actors/kernel"
)

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
