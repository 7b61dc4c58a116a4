package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ocapgo/kernel-actors/demos"
)

// demoRemoteSummary is demo remote's line in demo --list.
const demoRemoteSummary = "three kernels in three processes: a bank, two clients, the bank killed with SIGKILL and restarted"

// runDemoRemote is `demo remote`: three kernels, each a process of its
// own (this binary started again), a bank on one and its clients on the
// others, the bank's kernel killed with SIGKILL while deposits are in
// flight and started again over its database. The story tells what was
// sent, acknowledged and held before and after, and checks it: the demo
// fails (exit 1) if a deposit was lost or doubled.
func runDemoRemote(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "demo remote", "[--deposits N] [--deadline D] [--dir DIR]", `
Runs three kernels in three processes on loopback: a bank on one, alice
and bob on the others, each holding a presence of the bank's root.
They deposit, first one by one, then in a burst; in the middle of the
burst the bank's kernel is killed with SIGKILL, and more deposits are
sent while it is down. The bank restarts over its database (the same
key, a new port), its clients follow it, and every deposit is answered.
The story ends with what the bank holds, set against what was sent and
acknowledged; it fails if anything was lost or doubled. Every process
it starts is killed when it ends, at the deadline, or at Ctrl-C.`)
	// Twelve each: two one by one, a burst of five, five while the bank is
	// down, enough that the kill lands with deposits in flight both ways.
	deposits := fs.Int("deposits", 12, "deposits each client sends (at least 3)")
	// The story takes seconds; the deadline is for a machine so loaded, or a
	// kernel so stuck, that the user should hear why rather than wait.
	deadline := fs.Duration("deadline", 2*time.Minute, "give up after this long, killing every process")
	keep := fs.String("dir", "", "keep the kernels' databases in this directory (default: a temporary one, removed)")
	if _, err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	// Three at least: the story needs deposits before, during and after the
	// kill.
	if *deposits < 3 {
		return usageErr("--deposits %d: want 3 or more", *deposits)
	}
	if *deadline <= 0 {
		return usageErr("--deadline %v: want a positive duration", *deadline)
	}
	ctx, cancel := context.WithTimeout(ctx, *deadline)
	defer cancel()
	// The kernels' files live on disk (the bank must survive SIGKILL) but
	// in a temporary directory unless the user wants to inspect them.
	dir := *keep
	if dir == "" {
		tmp, err := os.MkdirTemp("", "kernel-actors-demo-remote-*")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	s := &remoteStory{n: demos.Options{Out: e.stdout}.Narrator(), e: e, dir: dir, per: *deposits}
	// INVARIANT: every child is killed on the way out, whatever the way
	// (the story's end, an error, the deadline, Ctrl-C).
	defer s.peers.killAll()
	err := s.run(ctx)
	// An error at the deadline is the deadline's: saying so tells the user
	// what to change.
	if ctx.Err() != nil && err != nil {
		return fmt.Errorf("the demo did not finish within --deadline %v: %w", *deadline, err)
	}
	return err
}

// remoteStory is demo remote's state: the three kernels and what was
// sent.
type remoteStory struct {
	n     demos.Narrator
	e     *env
	dir   string
	per   int // deposits per client
	peers peerSet

	bank    *demoKernel
	clients []*demoKernel
	// amounts is every deposit sent, by client.
	amounts map[string][]int64
}

// demoKernel is one kernel of the story, from the parent's side.
type demoKernel struct {
	name     string
	proc     *peerProc
	hello    peerLine
	remote   string // the client's remote id for the bank
	presence string // the client's presence of the bank
}

// start starts one kernel process on its file in the story's directory
// and reads its first line (where it listens, its peer id, whether it
// resumed).
func (s *remoteStory) start(ctx context.Context, name, vatName string) (*demoKernel, error) {
	p, err := s.peers.start(ctx, name, s.e.stderr, "kernel", "--vat", vatName, "--db", filepath.Join(s.dir, name+".db"))
	if err != nil {
		return nil, err
	}
	hello, err := p.read(ctx)
	if err != nil {
		return nil, err
	}
	return &demoKernel{name: name, proc: p, hello: hello}, nil
}

// describe prints the facts of a kernel the test checks: its pid (to see
// it is gone after the kill), address and key.
func (s *remoteStory) describe(k *demoKernel) {
	s.n.Say("%-5s kernel: pid %d, at %s, peer id %s…, database %s.db", k.name, k.proc.cmd.Process.Pid, k.hello.Addr, k.hello.Peer[:12], k.name)
}

func (s *remoteStory) run(ctx context.Context) error {
	n := s.n
	s.amounts = map[string][]int64{}
	n.Section("1. Three kernels, three processes")
	var err error
	// The bank first: the clients are introduced to it, so it must be
	// listening.
	if s.bank, err = s.start(ctx, "bank", "bank"); err != nil {
		return err
	}
	s.describe(s.bank)
	for _, name := range []string{"alice", "bob"} {
		// The clients' kernels hold no bank; their own vat is the bench's pong,
		// which nobody calls.
		c, err := s.start(ctx, name, "pong")
		if err != nil {
			return err
		}
		s.describe(c)
		s.clients = append(s.clients, c)
	}
	for _, c := range s.clients {
		if err := s.introduce(ctx, c); err != nil {
			return err
		}
		n.Say("%s is introduced to the bank: it holds %s, a presence of the bank's root in %s's kernel", c.name, c.presence, c.name)
	}

	n.Section("2. Deposits, each answered before the next")
	// Two rounds answered one by one show the link at work, and give the
	// balance the kill must not lose.
	oneByOne := 2
	for i := 1; i <= oneByOne; i++ {
		for _, c := range s.clients {
			amount, err := s.deposit(ctx, c, i)
			if err != nil {
				return err
			}
			ans, err := c.proc.ask(ctx, peerLine{Op: "answers"})
			if err != nil {
				return err
			}
			var bal []int64
			json.Unmarshal(ans.Value, &bal)
			n.Say("%s → bank: deposit #%d of %d; answered: balance %d", c.name, i, amount, bal[len(bal)-1])
		}
	}
	before, err := s.statement(ctx)
	if err != nil {
		return err
	}
	n.Say("the bank's ledger: %d deposits, balance %d", before.Deposits, before.Balance)

	n.Section("3. A burst, and kill -9 in the middle of it")
	// Half of the rest in the burst, half while the bank is down.
	burstEnd := oneByOne + (s.per-oneByOne)/2
	for i := oneByOne + 1; i <= burstEnd; i++ {
		for _, c := range s.clients {
			if _, err := s.deposit(ctx, c, i); err != nil {
				return err
			}
		}
	}
	inFlight := 2 * (burstEnd - oneByOne)
	n.Say("alice and bob send deposits #%d to #%d without waiting: %d deposits in flight", oneByOne+1, burstEnd, inFlight)
	pid := s.bank.proc.cmd.Process.Pid
	// Right after the burst is handed to the clients' kernels: some deposits
	// are in the bank's outbox or inbox, some answers on the wire, some not
	// yet sent. kill waits until the process is gone.
	s.bank.proc.kill()
	n.Say("SIGKILL to the bank's kernel (pid %d): no flush, no goodbye", pid)

	n.Section("4. While the bank is down")
	for i := burstEnd + 1; i <= s.per; i++ {
		for _, c := range s.clients {
			if _, err := s.deposit(ctx, c, i); err != nil {
				return err
			}
		}
	}
	n.Say("alice and bob send deposits #%d to #%d; nobody answers", burstEnd+1, s.per)
	for _, c := range s.clients {
		// What a client's kernel still holds for the bank: the burst's
		// unacknowledged deposits and those sent since. They are durable there.
		a, err := c.proc.ask(ctx, peerLine{Op: "audit", Remote: c.remote})
		if err != nil {
			return err
		}
		n.Say("%s's outbox holds %d messages the bank has not acknowledged", c.name, a.Pending)
	}

	n.Section("5. The bank restarts")
	// The same file, so the same key (beside it) and the same state; a new
	// port, as a machine that restarts may get.
	if s.bank, err = s.start(ctx, "bank", "bank"); err != nil {
		return err
	}
	if !s.bank.hello.Resumed {
		return fmt.Errorf("the bank did not resume its database")
	}
	n.Say("the bank's kernel resumes bank.db: pid %d, now at %s, the same peer id %s… (its key is beside its database)",
		s.bank.proc.cmd.Process.Pid, s.bank.hello.Addr, s.bank.hello.Peer[:12])
	// Asked before the clients know where the bank is: what it holds now is
	// exactly what its committed cranks wrote before the kill.
	restarted, err := s.statement(ctx)
	if err != nil {
		return err
	}
	n.Say("its ledger, before anyone has reached it: %d deposits, balance %d (what it had committed when it was killed)",
		restarted.Deposits, restarted.Balance)
	for _, c := range s.clients {
		// The same peer at a new address: AddRemote updates its row, and the
		// next resend round goes there.
		if _, err := c.proc.ask(ctx, peerLine{Op: "know", Peer: s.bank.hello.Peer, Addr: s.bank.hello.Addr}); err != nil {
			return err
		}
	}
	n.Say("alice and bob are told the new address; their links resend what the bank has not acknowledged, and the bank drops what it already applied")
	answered := map[string][]int64{}
	for _, c := range s.clients {
		n.Say("waiting for %s's answers…", c.name)
		// Waits for every deposit the client sent since the start: each answer
		// settles its promise once, in the client's kernel.
		ans, err := c.proc.ask(ctx, peerLine{Op: "answers"})
		if err != nil {
			return err
		}
		var bal []int64
		if err := json.Unmarshal(ans.Value, &bal); err != nil {
			return err
		}
		answered[c.name] = bal
		n.Say("%s: %d deposits acknowledged, the last answered balance %d", c.name, len(bal), bal[len(bal)-1])
	}

	n.Section("6. What the bank holds")
	after, err := s.statement(ctx)
	if err != nil {
		return err
	}
	return s.verdict(ctx, before, restarted, after, answered)
}

// introduce makes the bank and c each other's remotes and gives c a
// presence of the bank's root.
// The same introduction as bench remote's: the parent relays addresses,
// keys and the exported ref.
func (s *remoteStory) introduce(ctx context.Context, c *demoKernel) error {
	presence, cToBank, _, err := introduce(ctx, c.proc, s.bank.proc, c.hello, s.bank.hello)
	c.presence, c.remote = presence, cToBank
	return err
}

// deposit sends c's deposit #i without waiting for its answer. alice
// deposits i, bob 10 × i: every deposit's amount says whose it is and
// which.
func (s *remoteStory) deposit(ctx context.Context, c *demoKernel, i int) (int64, error) {
	// Distinct amounts per client make a doubled or lost deposit show in the
	// balance, not only in the ledger's count.
	amount := int64(i)
	if c.name == "bob" {
		amount *= 10
	}
	_, err := c.proc.ask(ctx, peerLine{Op: "deposit", KRef: c.presence, Who: c.name, N: i, Amount: amount})
	s.amounts[c.name] = append(s.amounts[c.name], amount)
	return amount, err
}

// statement asks the bank's kernel for its bank's statement (a host
// call in its own kernel).
func (s *remoteStory) statement(ctx context.Context) (bankStatement, error) {
	var st bankStatement
	ans, err := s.bank.proc.ask(ctx, peerLine{Op: "statement"})
	if err != nil {
		return st, err
	}
	return st, json.Unmarshal(ans.Value, &st)
}

// verdict tells the facts and checks them: every deposit sent was
// acknowledged, the ledger has each once, the balance is their sum,
// every answer is a balance the bank had, and the kernels' auditors and
// outboxes are clean.
func (s *remoteStory) verdict(ctx context.Context, before, restarted, after bankStatement, answered map[string][]int64) error {
	n := s.n
	sent, acked, sum := 0, 0, int64(0)
	var problems []string
	var balances []int64
	for _, c := range s.clients {
		sent += len(s.amounts[c.name])
		acked += len(answered[c.name])
		for _, a := range s.amounts[c.name] {
			sum += a
		}
		balances = append(balances, answered[c.name]...)
		var want []string
		for i := 1; i <= len(s.amounts[c.name]); i++ {
			want = append(want, strconv.Itoa(i))
		}
		// The ledger's ids, in number order (baggage keys sort as strings).
		got := slices.Clone(after.IDs[c.name])
		slices.SortFunc(got, func(a, b string) int { x, _ := strconv.Atoi(a); y, _ := strconv.Atoi(b); return x - y })
		n.Say("%s: sent %d deposits, %d acknowledged; the ledger has %d of %s's, numbered %s",
			c.name, len(s.amounts[c.name]), len(answered[c.name]), len(got), c.name, span(got))
		if !slices.Equal(got, want) {
			problems = append(problems, fmt.Sprintf("%s's deposits in the ledger are %v, want 1 to %d once each", c.name, got, len(want)))
		}
	}
	n.Say("deposits sent: %d; acknowledged: %d; in the ledger: %d; taken twice: %d", sent, acked, after.Deposits, len(after.Duplicates))
	n.Say("balance before the kill: %d; when the bank came back: %d; now: %d; the deposits sent add up to %d",
		before.Balance, restarted.Balance, after.Balance, sum)
	// Each deposit adds a positive amount, so the balances the bank answered
	// are distinct exactly when no deposit ran twice, and the highest is the
	// last.
	slices.Sort(balances)
	distinct := len(slices.Compact(slices.Clone(balances)))
	n.Say("the %d answers are %d distinct balances, the highest %d", len(balances), distinct, balances[len(balances)-1])
	if acked != sent {
		problems = append(problems, fmt.Sprintf("%d deposits acknowledged of %d sent", acked, sent))
	}
	if int(after.Deposits) != sent || len(after.Duplicates) > 0 {
		problems = append(problems, fmt.Sprintf("the ledger holds %d deposits (%d taken twice: %v), want %d", after.Deposits, len(after.Duplicates), after.Duplicates, sent))
	}
	if after.Balance != sum {
		problems = append(problems, fmt.Sprintf("the balance is %d, want %d", after.Balance, sum))
	}
	if distinct != len(balances) || balances[len(balances)-1] != after.Balance {
		problems = append(problems, "the answers are not the balances of one deposit each")
	}
	// The auditors last, when all traffic is done: a green audit then covers
	// the whole story.
	clean, err := s.auditAll(ctx)
	if err != nil {
		return err
	}
	problems = append(problems, clean...)
	if len(problems) > 0 {
		return fmt.Errorf("something was lost or doubled: %s", strings.Join(problems, "; "))
	}
	n.Say("the auditors of the three kernels are green, and every outbox is empty")
	n.Say("")
	n.Say("Nothing lost, nothing doubled: %d deposits sent, %d acknowledged, %d in the ledger once each; balance %d = %d.",
		sent, acked, after.Deposits, after.Balance, sum)
	return nil
}

// auditAll runs the three kernels' auditors and waits (until ctx ends)
// for the clients' outboxes to empty: the last acks may still be on
// their way. It returns what is wrong.
func (s *remoteStory) auditAll(ctx context.Context) ([]string, error) {
	var problems []string
	// The bank's outbox is not checked: the clients' acks of its last
	// answers may still be on their way, and the clients' empty outboxes
	// are what says every deposit was applied.
	if a, err := s.bank.proc.ask(ctx, peerLine{Op: "audit"}); err != nil {
		return nil, err
	} else if len(a.Problems) > 0 {
		problems = append(problems, "the bank's auditor: "+strings.Join(a.Problems, "; "))
	}
	for _, c := range s.clients {
		for {
			a, err := c.proc.ask(ctx, peerLine{Op: "audit", Remote: c.remote})
			if err != nil {
				return nil, err
			}
			if len(a.Problems) > 0 {
				problems = append(problems, c.name+"'s auditor: "+strings.Join(a.Problems, "; "))
			}
			if a.Pending == 0 || len(a.Problems) > 0 {
				break
			}
			// A real process on the other side: poll, with ctx's deadline.
			select {
			case <-ctx.Done():
				return nil, fmt.Errorf("%s's outbox still holds %d messages: %w", c.name, a.Pending, ctx.Err())
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	return problems, nil
}

// span writes sorted numbers as "1 to 12", or lists them if they are
// not a run.
func span(ids []string) string {
	if len(ids) == 0 {
		return "none"
	}
	run := true
	for i, id := range ids {
		if id != strconv.Itoa(i+1) {
			run = false
		}
	}
	if run {
		return "1 to " + ids[len(ids)-1]
	}
	return strings.Join(ids, ", ")
}
