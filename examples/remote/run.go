package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// tell runs the story: the two kernels, alice's deposits, the kill, the
// restart and the facts, told on w. It fails if a deposit was lost or
// doubled.
func tell(ctx context.Context, w, stderr io.Writer, deposits int) error {
	say := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	// Files, not memory: the bank must come back from SIGKILL with what it
	// had committed.
	dir, err := os.MkdirTemp("", "remote-example-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var procs procSet
	// Every process started is killed on the way out, however it goes.
	defer procs.killAll()
	// start runs a kernel process and reads its first line.
	start := func(role string) (*proc, line, error) {
		p, err := procs.start(ctx, role, filepath.Join(dir, role+".db"), stderr)
		if err != nil {
			return nil, line{}, err
		}
		hello, err := p.read(ctx)
		return p, hello, err
	}

	say("== Two kernels, two processes ==")
	bank, bankHello, err := start("bank")
	if err != nil {
		return err
	}
	alice, aliceHello, err := start("alice")
	if err != nil {
		return err
	}
	// The pids and addresses are facts the test checks: the killed one gone,
	// the restarted one new, on a new port.
	say("bank:  pid %d, at %s, peer id %s…", bank.pid(), bankHello.Addr, bankHello.Peer[:12])
	say("alice: pid %d, at %s, peer id %s…", alice.pid(), aliceHello.Addr, aliceHello.Peer[:12])
	// The introduction: each kernel adds the other as a remote (pinning
	// its key), the bank exports its root to alice's kernel, and alice's
	// host imports it as a presence.
	toBank, err := alice.ask(ctx, line{Op: "know", Peer: bankHello.Peer, Addr: bankHello.Addr})
	if err != nil {
		return err
	}
	toAlice, err := bank.ask(ctx, line{Op: "know", Peer: aliceHello.Peer, Addr: aliceHello.Addr})
	if err != nil {
		return err
	}
	ex, err := bank.ask(ctx, line{Op: "export", Remote: toAlice.Remote})
	if err != nil {
		return err
	}
	im, err := alice.ask(ctx, line{Op: "import", Remote: toBank.Remote, Ref: ex.Ref})
	if err != nil {
		return err
	}
	presence := im.KRef
	say("alice holds %s, a presence of the bank's root", presence)
	var sent []int64
	// deposit hands alice's kernel a deposit and does not wait for its
	// answer; sent keeps what was sent, to check the ledger against.
	deposit := func(amount int64) error {
		sent = append(sent, amount)
		_, err := alice.ask(ctx, line{Op: "deposit", KRef: presence, Amount: amount})
		return err
	}

	say("\n== Deposits, each answered before the next ==")
	// Answered one by one: the balance the kill must not lose.
	for _, amount := range []int64{1, 2} {
		if err := deposit(amount); err != nil {
			return err
		}
		a, err := alice.ask(ctx, line{Op: "answers"})
		if err != nil {
			return err
		}
		say("alice → bank: deposit(%d); answered: balance %d", amount, a.Answers[len(a.Answers)-1])
	}

	say("\n== A burst, and kill -9 in the middle of it ==")
	// Half of the rest in the burst, half while the bank is down.
	burstEnd := 2 + (deposits-2)/2
	for i := 3; i <= burstEnd; i++ {
		if err := deposit(int64(i)); err != nil {
			return err
		}
	}
	say("alice sends deposit(3) to deposit(%d) without waiting", burstEnd)
	killed := bank.pid()
	// Right after the burst: deposits are in alice's outbox, on the wire,
	// in the bank's run queue, and answers on their way back. kill waits
	// until the process is gone.
	bank.kill()
	say("SIGKILL to the bank's kernel (pid %d)", killed)
	for i := burstEnd + 1; i <= deposits; i++ {
		if err := deposit(int64(i)); err != nil {
			return err
		}
	}
	say("alice sends deposit(%d) to deposit(%d) while the bank is down", burstEnd+1, deposits)
	// Alice's kernel holds what the bank has not acknowledged, durably: it
	// waits there for as long as the bank is away.
	a, err := alice.ask(ctx, line{Op: "audit", Remote: toBank.Remote})
	if err != nil {
		return err
	}
	say("alice's outbox holds %d messages the bank has not acknowledged", a.Pending)

	say("\n== The bank restarts ==")
	bank, bankHello2, err := start("bank")
	if err != nil {
		return err
	}
	// The same file, so the same key (beside it) and the same ledger; a new
	// port.
	if !bankHello2.Resumed || bankHello2.Peer != bankHello.Peer {
		return fmt.Errorf("the bank did not resume with its key")
	}
	// Before alice knows the new address: what the bank holds now is what it
	// had committed when it was killed.
	back, err := bank.ask(ctx, line{Op: "statement"})
	if err != nil {
		return err
	}
	say("the bank resumes bank.db: pid %d, at %s, the same peer id; its ledger holds %d deposits, balance %d",
		bank.pid(), bankHello2.Addr, len(back.Deposits), back.Balance)
	// The same peer at a new address: the next resend round goes there, and
	// the bank drops what it had applied before the kill.
	if _, err := alice.ask(ctx, line{Op: "know", Peer: bankHello2.Peer, Addr: bankHello2.Addr}); err != nil {
		return err
	}
	say("alice's kernel is told the new address and resends what the bank has not acknowledged")
	answers, err := alice.ask(ctx, line{Op: "answers"})
	if err != nil {
		return err
	}
	say("alice: %d deposits answered, the last with balance %d", len(answers.Answers), answers.Answers[len(answers.Answers)-1])

	say("\n== What the bank holds ==")
	end, err := bank.ask(ctx, line{Op: "statement"})
	if err != nil {
		return err
	}
	sum := int64(0)
	for _, s := range sent {
		sum += s
	}
	say("sent %d deposits, %d answered; the ledger holds %d, in order: %v", len(sent), len(answers.Answers), len(end.Deposits), end.Deposits)
	say("balance %d; the deposits sent add up to %d", end.Balance, sum)
	// The checks that make the story a test: every deposit once, in the
	// order sent, and every answer a running total.
	switch {
	case !slices.Equal(end.Deposits, sent):
		return fmt.Errorf("lost or doubled: the ledger holds %v, alice sent %v", end.Deposits, sent)
	case end.Balance != sum || len(answers.Answers) != len(sent) || answers.Answers[len(sent)-1] != sum:
		return fmt.Errorf("the balance %d or the answers %v do not add up to %d", end.Balance, answers.Answers, sum)
	}
	// Both auditors, and alice's outbox empty: the bank acknowledged all.
	for _, p := range []*proc{bank, alice} {
		for {
			a, err := p.ask(ctx, line{Op: "audit", Remote: toBank.Remote})
			if p == bank {
				a, err = p.ask(ctx, line{Op: "audit"})
			}
			if err != nil {
				return err
			}
			if len(a.Problems) > 0 {
				return fmt.Errorf("%s's auditor: %v", p.role, a.Problems)
			}
			if a.Pending == 0 {
				break
			}
			// The last ack may be on its way: poll, within ctx.
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	say("both auditors are green, and alice's outbox is empty")
	say("\nNothing lost, nothing doubled: %d deposits, each once, in order.", len(sent))
	return nil
}

// proc is a kernel process seen from the parent.
type proc struct {
	role  string
	cmd   *exec.Cmd
	in    io.WriteCloser
	lines chan line
	once  sync.Once
	done  chan struct{}
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// read returns the process's next line.
// Through the channel, so that a kernel that never answers costs the
// story its deadline, not forever.
func (p *proc) read(ctx context.Context) (line, error) {
	select {
	case l, ok := <-p.lines:
		if !ok {
			return l, fmt.Errorf("the %s kernel exited", p.role)
		}
		if l.Err != "" {
			return l, fmt.Errorf("%s: %s", p.role, l.Err)
		}
		return l, nil
	case <-ctx.Done():
		return line{}, ctx.Err()
	}
}

// ask sends a request and returns its answer.
func (p *proc) ask(ctx context.Context, req line) (line, error) {
	b, _ := json.Marshal(req)
	if _, err := fmt.Fprintf(p.in, "%s\n", b); err != nil {
		return line{}, fmt.Errorf("%s: %w", p.role, err)
	}
	return p.read(ctx)
}

// kill sends SIGKILL and waits until the process is gone.
// Safe to call twice: the story kills the bank, and killAll kills every
// process at the end.
func (p *proc) kill() {
	p.once.Do(func() {
		p.cmd.Process.Kill()
		p.in.Close()
		go func() {
			for range p.lines { // what it wrote before dying is dropped
			}
		}()
	})
	<-p.done
}

// procSet is every process started, for the kill on the way out.
type procSet struct {
	all    []*proc
	stderr *lockedWriter // the processes' stderr, shared
}

// lockedWriter serializes the writes of the processes' stderr copiers
// (a goroutine each, unless w is a file).
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// start runs this program again as the kernel role, on database db.
func (s *procSet) start(ctx context.Context, role, db string, stderr io.Writer) (*proc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	// This program again, told its role by the environment; its stdin and
	// stdout are the parent's line pipes.
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), roleEnv+"="+role, dbEnv+"="+db)
	if s.stderr == nil {
		s.stderr = &lockedWriter{w: stderr}
	}
	cmd.Stderr = s.stderr
	p := &proc{role: role, cmd: cmd, lines: make(chan line, 8), done: make(chan struct{})}
	if p.in, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s.all = append(s.all, p)
	// One reader a process; Wait only after the last line, as exec wants.
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var l line
			if json.Unmarshal(sc.Bytes(), &l) == nil {
				p.lines <- l
			}
		}
		cmd.Wait()
		close(p.done)
		close(p.lines)
	}()
	return p, nil
}

func (s *procSet) killAll() {
	for _, p := range s.all {
		p.kill()
	}
}
