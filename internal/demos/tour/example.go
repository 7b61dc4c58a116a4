// Code generated from examples/tour by go generate ./internal/demos. DO NOT EDIT.

// Package tour is examples/tour (its files but main.go) as a package, for
// the binary's demo command. Edit the example, then run go generate.
package tour

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/demos"
	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/vat"
)

// From examples/tour/tour.go.

// Demo is the tour as the binary lists and runs it.
func Demo() demos.Demo {
	return demos.Demo{
		Name:     "tour",
		Summary:  "the first minute: a round trip, pipelining, a crash rolled back, a revocation",
		Register: Register,
		Run:      Run,
		// The tour tells a story from an empty kernel; resuming someone
		// else's (or its own last run) would only confuse it.
		Fresh: true,
	}
}

// bobBackoff is how long bob's restart waits. The default (100 ms) is
// right for a real service but would be most of the tour's running time.
const bobBackoff = 10 * time.Millisecond

// cluster is the tour's subcluster. Carol runs bob's code; only her
// failure policy differs.
func cluster() kernel.ClusterConfig {
	return kernel.ClusterConfig{Bootstrap: "alice", Vats: map[string]kernel.VatConfig{
		"alice": {Bundle: BundleAlice},
		"bob": {Bundle: BundleBob, Parameters: map[string]any{"name": "bob"},
			FailurePolicy: kernel.PolicyRestart, Restart: kernel.RestartLimits{Backoff: kernel.Duration(bobBackoff)}},
		"carol": {Bundle: BundleBob, Parameters: map[string]any{"name": "carol"}}, // terminate, the default
		"bank":  {Bundle: BundleBank},
	}}
}

// Run runs the tour on a new kernel, narrating to opts.Out, and stops the
// kernel at the end. opts.DBPath must name a new (or empty) database:
// one that holds vats is refused with demos.ErrNotFresh.
func Run(ctx context.Context, opts demos.Options) error {
	return demos.WithKernel(ctx, Demo(), opts, func(k *actors.Kernel) error {
		t := &tour{ctx: ctx, k: k, n: opts.Narrator(), where: "in memory"}
		if opts.DBPath != "" {
			t.where = "in " + opts.DBPath
		}
		for _, step := range []func() error{t.launch, t.roundTrip, t.pipelining, t.crash, t.revocation, t.balances} {
			if err := step(); err != nil {
				return err
			}
		}
		return nil
	})
}

// tour is one run of the story.
type tour struct {
	ctx   context.Context
	k     *actors.Kernel
	n     demos.Narrator
	where string // "in memory" or "in <path>", for the opening line
	res   kernel.LaunchResult
	// account is alice's account at the bank, pinned for the host by the
	// result that named it until the host releases it.
	account kernel.KRef
}

// call sends method(args...) from the host to the vat named to's root.
func (t *tour) call(to, method string, args ...any) (any, error) {
	return t.k.QueueMessage(t.ctx, t.res.Roots[to], method, args...)
}

// mustCall is call for messages the story needs to succeed: a rejection
// ends the tour with an error naming the step.
func (t *tour) mustCall(to, method string, args ...any) (any, error) {
	v, err := t.call(to, method, args...)
	if err != nil {
		return nil, fmt.Errorf("tour: %s.%s: %w", to, method, err)
	}
	return v, nil
}

func (t *tour) launch() error {
	t.n.Say("kernel-actors tour, %s.", t.where)
	t.n.Say("A vat is a single-threaded group of objects. Vats share nothing: an object")
	t.n.Say("reaches another only through a reference the kernel handed it, and only by")
	t.n.Say("sending it a message. The kernel routes every message and delivers one at a")
	t.n.Say("time; each delivery is a crank, committed as one transaction.")

	t.n.Section("1. Launch")
	res, err := t.k.LaunchSubcluster(t.ctx, cluster())
	if err != nil {
		return fmt.Errorf("tour: launch: %w", err)
	}
	t.res = res
	t.n.Say("The host launched a subcluster of four vats:")
	t.n.Say("  alice  the bootstrap vat: handed every vat's root object at launch")
	t.n.Say("  bob    holds a reference to his bank account (failure policy: restart)")
	t.n.Say("  carol  bob's code under her own name (failure policy: terminate, the default)")
	t.n.Say("  bank   accounts as durable objects, balances in its baggage (its durable map)")
	t.n.Say("alice's bootstrap introduced bob and carol to the bank: %q", res.BootstrapResult)
	return nil
}

func (t *tour) roundTrip() error {
	t.n.Section("2. A message round trip")
	v, err := t.mustCall("alice", "askBob")
	if err != nil {
		return err
	}
	t.n.Say("host -> alice.askBob() -> bob.hello(\"alice\") -> back to alice -> host")
	t.n.Say("  the host got: %q", v)
	return nil
}

func (t *tour) pipelining() error {
	t.n.Section("3. Promise pipelining")
	t.n.Say("alice runs E(E(bank).openAccount(\"alice\")).deposit(50): she sends deposit(50)")
	t.n.Say("to the promise of her account, without waiting for the bank to answer.")
	v, err := t.mustCall("alice", "openAccount", 50)
	if err != nil {
		return err
	}
	r, ok := v.(map[string]any)
	account, _ := r["account"].(kernel.KRef)
	if !ok || account == "" {
		return fmt.Errorf("tour: alice.openAccount returned %v, not her account", v)
	}
	t.account = account
	t.n.Say("  the account promise was still unresolved when she sent deposit(50): %v", r["sentBeforeSettled"])
	t.n.Say("  The bank answers only in a later crank (its ledger numbers the account in")
	t.n.Say("  a message the bank sends itself), so deposit(50) waited: the kernel put it")
	t.n.Say("  on the unresolved promise's own queue the moment alice sent it, and moved")
	t.n.Say("  it to the run queue, in order, when the bank resolved the promise.")
	t.n.Say("  deposit(50) answered alice's balance: %v", r["balance"])
	return nil
}

func (t *tour) crash() error {
	t.n.Section("4. A crash, rolled back")
	bob := t.res.VatIDs["bob"]
	before, err := t.k.PingVat(t.ctx, bob)
	if err != nil {
		return fmt.Errorf("tour: ping bob: %w", err)
	}
	t.n.Say("The host calls bob.payday(1000). bob records the payday in his baggage,")
	t.n.Say("sends deposit(1000) to his bank account, then panics on a bug.")
	_, err = t.call("bob", "payday", 1000)
	if err == nil {
		return errors.New("tour: bob.payday succeeded; it was meant to panic")
	}
	t.n.Say("  the host got: %v", err)
	t.n.Say("  errors.Is(err, kernel.ErrInternalError): %v", errors.Is(err, kernel.ErrInternalError))

	// The calls below wait for bob's restart: a message to a vat in its
	// backoff stays queued until the new incarnation is up.
	paydays, err := t.mustCall("bob", "paydays")
	if err != nil {
		return err
	}
	balances, err := t.mustCall("bank", "balances")
	if err != nil {
		return err
	}
	t.n.Say("The kernel rolled the crank back as one transaction:")
	t.n.Say("  bob's paydays in his baggage: %v (the write is gone)", paydays)
	t.n.Say("  bob's balance at the bank: %v (deposit(1000) was never delivered)", balanceOf(balances, "bob"))

	after, err := t.k.PingVat(t.ctx, bob)
	if err != nil {
		return fmt.Errorf("tour: ping bob: %w", err)
	}
	saved, err := t.mustCall("bob", "save", 20)
	if err != nil {
		return err
	}
	t.n.Say("bob's policy is restart: after a %v backoff, the kernel restarted him", bobBackoff)
	t.n.Say("from his durable state, as a new incarnation.")
	t.n.Say("  k.PingVat(bob): incarnation %d (it was %d)", after, before)
	t.n.Say("  bob.save(20): balance %v (his account reference survived, in his baggage)", saved)

	t.n.Say("carol runs the same code under the default policy, terminate:")
	_, err = t.call("carol", "payday", 1000)
	if !errors.Is(err, kernel.ErrInternalError) {
		return fmt.Errorf("tour: carol.payday: want VAT_FATAL:INTERNAL_ERROR, got %v", err)
	}
	t.n.Say("  carol.payday(1000): %v", err)
	_, err = t.call("carol", "save", 20)
	if !errors.Is(err, kernel.ErrObjectDeleted) {
		return fmt.Errorf("tour: carol.save after her termination: want OBJECT_DELETED, got %v", err)
	}
	t.n.Say("  then carol.save(20): %v", err)
	t.n.Say("  carol's vat is gone for good, with the objects it exported (her account")
	t.n.Say("  lives on at the bank); the other vats carry on.")
	return nil
}

func (t *tour) revocation() error {
	t.n.Section("5. Revocation")
	t.n.Say("alice's openAccount also handed the host her account. The host revokes it")
	t.n.Say("with k.Revoke, and the next messages to it are refused:")
	if err := t.k.Revoke(t.ctx, t.account); err != nil {
		return fmt.Errorf("tour: revoke alice's account: %w", err)
	}
	_, err := t.k.QueueMessage(t.ctx, t.account, "deposit", 5)
	if !errors.Is(err, kernel.ErrObjectRevoked) {
		return fmt.Errorf("tour: deposit to the revoked account: want OBJECT_REVOKED, got %v", err)
	}
	t.n.Say("  from the host, account.deposit(5): %v", err)
	_, err = t.call("alice", "deposit", 5)
	if !kernel.Carries(err, kernel.ErrObjectRevoked) {
		return fmt.Errorf("tour: alice's deposit to her revoked account: want OBJECT_REVOKED, got %v", err)
	}
	var re *kernel.RejectionError
	if errors.As(err, &re) {
		// alice's method passed on the kernel's rejection: the host hears
		// it from her, so it is her word (kernel.Carries reads the code).
		t.n.Say("  from alice, through her own reference (she passes the rejection on): %s", re.Message)
	} else {
		t.n.Say("  from alice, through her own reference: %v", err)
	}
	t.n.Say("Revocation cuts the object off for every holder at once.")
	// The host is done with the account: drop the pin its result took.
	if err := t.k.Release(t.ctx, t.account); err != nil {
		return fmt.Errorf("tour: release alice's account: %w", err)
	}
	return nil
}

func (t *tour) balances() error {
	t.n.Section("6. The end")
	v, err := t.mustCall("bank", "balances")
	if err != nil {
		return err
	}
	b, _ := v.(map[string]any)
	owners := make([]string, 0, len(b))
	for owner := range b {
		owners = append(owners, owner)
	}
	slices.Sort(owners)
	parts := make([]string, 0, len(owners))
	for _, owner := range owners {
		parts = append(parts, fmt.Sprintf("%s %v", owner, b[owner]))
	}
	t.n.Say("The bank's balances: %s.", strings.Join(parts, ", "))
	st, err := t.k.Status(t.ctx)
	if err != nil {
		return fmt.Errorf("tour: status: %w", err)
	}
	events, err := t.k.VatLog(t.ctx, "")
	if err != nil {
		return fmt.Errorf("tour: vat log: %w", err)
	}
	t.n.Say("The kernel's vat log kept each supervision decision: %s.", t.describe(events))
	t.n.Say("%d cranks in all, each one transaction: all of a crank commits, or none of it.", st.Cranks)
	return nil
}

// describe tells the vat log's events by vat name ("bob failed, bob
// restarted, ..."), leaving out vat ids, which mean nothing to a reader.
func (t *tour) describe(events []persistence.VatEvent) string {
	names := make(map[kernel.VatID]string, len(t.res.VatIDs))
	for name, id := range t.res.VatIDs {
		names[id] = name
	}
	parts := make([]string, 0, len(events))
	for _, e := range events {
		parts = append(parts, names[kernel.VatID(e.Vat)]+" "+e.Event)
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// balanceOf reads one owner's balance out of the bank's balances record.
func balanceOf(balances any, owner string) any {
	b, _ := balances.(map[string]any)
	return b[owner]
}

// From examples/tour/vats.go.

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
