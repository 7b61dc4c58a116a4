package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/persistence"
)

// Options configure the tour.
type Options struct {
	// DBPath keeps the state in a file; "" uses the in-memory store.
	DBPath string
}

// Run runs the tour, narrating to w.
func Run(ctx context.Context, w io.Writer, opts Options) error {
	st, err := persistence.Open(ctx, opts.DBPath, persistence.Options{})
	if err != nil {
		return err
	}
	defer st.Close(ctx)
	k, err := kernel.New(kernel.Config{Store: st})
	if err != nil {
		return err
	}
	t := &tour{ctx: ctx, w: w, k: k, st: st, results: map[kernel.KRef]kernel.Output{}}
	return t.run()
}

type tour struct {
	ctx     context.Context
	w       io.Writer
	k       *kernel.Kernel
	st      *persistence.Store
	dl      *deliverer
	names   map[kernel.VatID]string
	results map[kernel.KRef]kernel.Output
}

func (t *tour) say(format string, args ...any) { fmt.Fprintf(t.w, format+"\n", args...) }

func (t *tour) run() error {
	if len(t.st.VatIDs()) > 0 {
		return errors.New("demo: the database already holds a kernel; give a new --db path (or none)")
	}
	t.say("== kernel-actors tour ==")
	t.say("Three vats (units of objects that talk only through the kernel): alice, bob and a bank.")
	res, err := t.k.LaunchSubcluster(t.ctx, kernel.ClusterConfig{Bootstrap: "alice", Vats: map[string]kernel.VatConfig{
		"alice": {Bundle: "demo/alice"}, "bob": {Bundle: "demo/bob"}, "bank": {Bundle: "demo/bank"},
	}})
	if err != nil {
		return err
	}
	t.names = map[kernel.VatID]string{}
	t.dl = &deliverer{vats: map[kernel.VatID]*vat{}}
	for name, id := range res.VatIDs {
		t.names[id] = name
		t.dl.vats[id] = t.newVat(name)
	}
	for _, name := range []string{"alice", "bank", "bob"} {
		if err := t.k.StartVat(t.ctx, t.dl, res.VatIDs[name]); err != nil {
			return fmt.Errorf("demo: start %s: %w", name, err)
		}
	}
	t.say("Launched subcluster %s: alice=%s bob=%s bank=%s.\n", res.SubclusterID, res.VatIDs["alice"], res.VatIDs["bob"], res.VatIDs["bank"])

	t.say("1. The host asks alice to get an account through bob. Bob asks the bank for an")
	t.say("   account and, without waiting for it, sends deposit(10) to the promise of it:")
	t.say("   the kernel queues that message on the promise (pipelining).")
	p, err := t.send(res.Roots["alice"], "start", kernel.VRef(res.Roots["bob"]), kernel.VRef(res.Roots["bank"]))
	if err != nil {
		return err
	}
	if err := t.runCranks(); err != nil {
		return err
	}
	out := t.results[p]
	if out.Rejected || len(out.Value.Slots) != 1 {
		return fmt.Errorf("demo: alice's start did not return an account: %v", out.Err())
	}
	account := kernel.KRef(out.Value.Slots[0])
	t.say("   alice returned the account.\n")

	t.say("2. The host asks the account for its balance.")
	if err := t.ask(account, "balance"); err != nil {
		return err
	}

	t.say("\n3. bob crashes in the middle of a delivery, after writing to his store.")
	t.say("   The crank is rolled back, bob is terminated (his failure policy), the host")
	t.say("   hears at once, and the other vats carry on.")
	if err := t.ask(res.Roots["bob"], "crash"); err != nil {
		return err
	}
	if _, ok := t.st.VatstoreGet(string(res.VatIDs["bob"]), "half-written"); !ok {
		t.say("   bob's half-written store entry was rolled back with the crank.")
	}
	if err := t.ask(account, "balance"); err != nil {
		return err
	}
	t.say("   A later message to bob's root splats:")
	if err := t.ask(res.Roots["alice"], "pingBob"); err != nil {
		return err
	}

	t.say("\n4. The host revokes the account: messages to it are refused from now on.")
	if _, err := t.k.Revoke(t.ctx, account); err != nil {
		return err
	}
	if err := t.ask(account, "balance"); err != nil {
		return err
	}

	problems, err := kernel.Audit(t.ctx, t.st)
	if err != nil {
		return err
	}
	t.say("\n%d cranks, each its own transaction. Auditor: %s", t.k.CrankCount(), verdict(problems))
	if len(problems) > 0 {
		return fmt.Errorf("demo: the auditor found %d problems", len(problems))
	}
	return nil
}

func verdict(problems []string) string {
	if len(problems) == 0 {
		return "every reference count and table checks out."
	}
	return strings.Join(problems, "; ")
}

// send queues a host message.
func (t *tour) send(target kernel.KRef, method string, refs ...kernel.VRef) (kernel.KRef, error) {
	p, out, err := t.k.QueueMessage(t.ctx, target, methargs(method, refs...))
	if err != nil {
		return "", err
	}
	t.release(out)
	return p, nil
}

// ask sends method to target, runs the kernel until idle and says what
// came back.
func (t *tour) ask(target kernel.KRef, method string) error {
	p, err := t.send(target, method)
	if err != nil {
		return err
	}
	if err := t.runCranks(); err != nil {
		return err
	}
	out, ok := t.results[p]
	switch {
	case !ok:
		t.say("   %s() has no answer yet", method)
	case out.Rejected:
		t.say("   %s() was rejected: %v", method, out.Err())
	default:
		s, err := marshal.DecodeString(out.Value)
		if err != nil {
			s = out.Value.Body
		}
		t.say("   %s() = %s", method, s)
	}
	return nil
}

func (t *tour) release(out []kernel.Output) {
	for _, o := range out {
		if _, seen := t.results[o.KPID]; !seen {
			t.results[o.KPID] = o
		}
	}
}

// runCranks cranks until there is no work, narrating what matters.
func (t *tour) runCranks() error {
	for t.k.HasWork() {
		r, err := t.k.Crank(t.ctx, t.dl)
		if err != nil {
			return err
		}
		t.release(r.Released)
		switch {
		case r.Routed == "requeued":
			t.say("   [crank %d] a message to an unresolved promise waits on it", r.Crank)
		case strings.HasPrefix(r.Routed, "splat"):
			t.say("   [crank %d] a message went splat (%s)", r.Crank, strings.TrimPrefix(r.Routed, "splat: "))
		case r.Outcome == kernel.Aborted:
			t.say("   [crank %d] %s failed; the crank was rolled back: %v", r.Crank, t.names[r.Vat], r.Failure)
		}
		for _, v := range r.Terminated {
			t.say("   [crank %d] %s was terminated", r.Crank, t.names[v])
		}
	}
	return nil
}

// newVat builds the code of each demo vat.
func (t *tour) newVat(name string) *vat {
	v := &vat{name: name, methods: map[string]func(*call) error{}, held: map[string]kernel.VRef{},
		onNotify: map[kernel.VRef]func(*call, kernel.VatResolution){}}
	log := func(c *call, what string) {
		t.say("   [%s] %s", name, what)
	}
	switch name {
	case "alice":
		v.methods["start"] = func(c *call) error {
			log(c, "asks bob to open an account at the bank")
			v.held["bob"] = c.slot(0)
			result := c.d.Message.Result
			acct := c.send(c.slot(0), "openAccount", c.slot(1))
			c.when(acct, func(c *call, r kernel.VatResolution) {
				log(c, "got the account from bob")
				c.resolve(result, r.Rejected, r.Data)
			})
			return nil
		}
		v.methods["pingBob"] = func(c *call) error {
			result := c.d.Message.Result
			c.when(c.send(v.held["bob"], "ping"), func(c *call, r kernel.VatResolution) {
				c.resolve(result, r.Rejected, r.Data)
			})
			return nil
		}
	case "bob":
		v.methods["openAccount"] = func(c *call) error {
			result := c.d.Message.Result
			acct := c.send(c.slot(0), "makeAccount")
			log(c, "asks the bank for an account, and pipelines deposit(10) to it")
			dep := c.send(acct, "deposit10")
			c.when(acct, func(c *call, r kernel.VatResolution) {
				v.held["account"] = kernel.VRef(r.Data.Slots[0])
			})
			c.when(dep, func(c *call, r kernel.VatResolution) {
				log(c, "deposit confirmed; hands the account to alice")
				c.resolve(result, false, refValue(v.held["account"]))
			})
			return nil
		}
		v.methods["crash"] = func(c *call) error {
			c.syscall(kernel.Syscall{Kind: kernel.SyscallVatstoreSet, Key: "half-written", Value: "oops"})
			log(c, "writes to his store, then panics")
			panic("bob tripped over a bug")
		}
		v.methods["ping"] = func(c *call) error {
			c.reply(marshal.EncodeString("pong"))
			return nil
		}
	case "bank":
		v.methods["makeAccount"] = func(c *call) error {
			// The bank checks its ledger (a message to itself) before it
			// answers, so the account's promise is still unresolved when
			// bob's pipelined deposit reaches the head of the queue.
			log(c, "checks its ledger before opening an account")
			result := c.d.Message.Result
			c.when(c.send(kernel.RootVRef, "ledgerEntry"), func(c *call, r kernel.VatResolution) {
				acct := c.newVRef(false)
				c.syscall(kernel.Syscall{Kind: kernel.SyscallVatstoreSet, Key: "balance." + string(acct), Value: "0"})
				log(c, "opens the account")
				c.resolve(result, false, refValue(acct))
			})
			return nil
		}
		v.methods["ledgerEntry"] = func(c *call) error {
			c.reply(marshal.CapData{Body: `#"#undefined"`})
			return nil
		}
		v.methods["deposit10"] = func(c *call) error {
			key := "balance." + string(c.d.Target)
			bal, _ := strconv.Atoi(c.syscall(kernel.Syscall{Kind: kernel.SyscallVatstoreGet, Key: key}).Value)
			bal += 10
			c.syscall(kernel.Syscall{Kind: kernel.SyscallVatstoreSet, Key: key, Value: strconv.Itoa(bal)})
			log(c, fmt.Sprintf("deposits 10 into the account (message delivered once the promise resolved): balance %d", bal))
			c.reply(marshal.CapData{Body: `#"#undefined"`})
			return nil
		}
		v.methods["balance"] = func(c *call) error {
			r := c.syscall(kernel.Syscall{Kind: kernel.SyscallVatstoreGet, Key: "balance." + string(c.d.Target)})
			c.reply(marshal.EncodeString(r.Value))
			return nil
		}
	}
	return v
}
