package chaos

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ocapgo/kernel-actors/kernel"
	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/remote/identity"
	"github.com/ocapgo/kernel-actors/remote/transport"
)

// One kernel process of a chaos run: the test binary started again by
// the conductor, with its part in the environment. It opens (or resumes)
// its kernel on the file the conductor names, starts a transport node,
// says where it listens, and then does what its stdin says until the
// conductor closes it, or kills it.

// The environment of a kernel process.
const (
	roleEnv = "KERNEL_ACTORS_CHAOS_ROLE" // bank, c1 or c2
	dbEnv   = "KERNEL_ACTORS_CHAOS_DB"   // the kernel's database (its key file is beside it)
	hostEnv = "KERNEL_ACTORS_CHAOS_HOST" // the address to listen on
	portEnv = "KERNEL_ACTORS_CHAOS_PORT" // the port to listen on; 0 or unset: a free one
	// commitEnv is the store's commit policy for this incarnation:
	// "group" for group commit, anything else durable (each crank its
	// own transaction). Under group commit a kill loses the cranks of the
	// unflushed group, which nothing outside may have seen.
	commitEnv = "KERNEL_ACTORS_CHAOS_COMMIT"
)

// resendEvery is the nodes' resend period: short, so that a run spends
// its time on chaos rather than on waiting for a resend round.
const resendEvery = 50 * time.Millisecond

// asKernel runs this process as a kernel when the environment names its
// part, and reports whether it did: every chaos test starts with it.
func asKernel(t *testing.T) bool {
	role := os.Getenv(roleEnv)
	if role == "" {
		return false
	}
	runKernel(t, role)
	return true
}

// kernelProc is the running kernel of this process.
type kernelProc struct {
	role string
	d    *kt.Driver
	id   *identity.Identity
	node *transport.Node
	out  *lineWriter
	root kernel.KRef // the bank's root (a bank's first start only)

	audits     atomic.Int64
	maxPending atomic.Int64
	unsettled  atomic.Int64 // a client's deposits sent and not yet settled

	// A client's deposit loop: stop ends it, loopDone says it ended.
	stop     chan struct{}
	loopDone chan struct{}
	stopOnce sync.Once
	running  bool // the command loop's own: a run command started the loop
}

func runKernel(t *testing.T, role string) {
	// A kernel lives at most as long as its run; the conductor kills it
	// at the end if it has not exited.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Hour)
	defer cancel()
	db := os.Getenv(dbEnv)
	if db == "" {
		t.Fatalf("chaos: %s is not set", dbEnv)
	}
	// A file that exists is an earlier incarnation's: this one resumes
	// it. The conductor kills no kernel before its first incarnation has
	// been introduced, so such a file always holds a launched kernel.
	_, statErr := os.Stat(db)
	restarted := statErr == nil
	// The key file beside the database is the kernel's identity across
	// incarnations: its peers pinned this key, and a restarted kernel
	// that made a new one would be refused by all of them.
	id, _, err := identity.LoadOrCreate(identity.KeyPath(db), rand.Reader)
	if err != nil {
		t.Fatalf("chaos: %s: identity: %v", role, err)
	}
	var opts persistence.Options
	if os.Getenv(commitEnv) == string(persistence.Group) {
		opts.Policy = persistence.Group
	}
	p := &kernelProc{role: role, id: id, out: newLineWriter(os.Stdout),
		d: kt.NewWithOptions(t, db, opts), stop: make(chan struct{}), loopDone: make(chan struct{})}
	if err := p.open(ctx, restarted); err != nil {
		p.fatal(t, err)
	}
	// The state a kill left must be sound before the kernel runs on it.
	if err := p.audit(ctx, p.d.K); err != nil {
		p.fatal(t, err)
	}
	// The node owns the kernel from here on: every call into it goes
	// through Node.Do, on the node's actor.
	port, _ := strconv.Atoi(os.Getenv(portEnv))
	if p.node, err = p.startNode(ctx, os.Getenv(hostEnv), port); err != nil {
		p.fatal(t, err)
	}
	defer p.node.Stop(context.Background())
	if err := p.out.write(msg{Event: evReady, Addr: p.node.Addr(), Peer: string(id.ID())}); err != nil {
		p.fatal(t, err)
	}
	// A kernel ends when the conductor closes its stdin (the test
	// passes), or when it is killed (the test never ends, which is the
	// point).
	go p.watch(ctx)
	if err := p.serve(ctx, newLineReader(os.Stdin)); err != nil {
		p.fatal(t, err)
	}
}

// open launches the bank's vat on a new store, or resumes whatever the
// file holds, and gives the bank's vat its code.
func (p *kernelProc) open(ctx context.Context, restarted bool) error {
	d := p.d
	if restarted {
		out, err := d.K.Resume(ctx, d)
		if err != nil {
			return fmt.Errorf("chaos: %s: resume: %w", p.role, err)
		}
		d.Release(out)
	} else if p.role == bankName {
		res, out, err := d.K.Launch(ctx, d, kernel.ClusterConfig{Bootstrap: "bank",
			Vats: map[string]kernel.VatConfig{"bank": {Bundle: "fake"}}}, kernel.LaunchOptions{NoBootstrap: true})
		if err != nil {
			return fmt.Errorf("chaos: bank: launch: %w", err)
		}
		d.Release(out)
		p.root = res.Roots["bank"]
	}
	// A vat's code is not in the store: each incarnation gives the
	// bank's fake vat its handler again, as a real runtime loads the
	// bundle again. Its state is all in the vatstore.
	if p.role == bankName {
		d.Vat("bank").OnMethod["deposit"] = bankDeposit
	}
	return nil
}

// bankDeposit is the bank vat's deposit(client, n): it appends n to the
// client's log in its vatstore and answers with the log's new length. The
// log is written in the crank that takes the deposit, so it holds exactly
// what committed cranks took: a deposit run twice would be there twice.
func bankDeposit(c *kt.Call) error {
	args, err := marshal.Decode(c.Delivery.Message.Methargs)
	if err != nil {
		return err
	}
	list, ok := args.([]any)[1].([]any)
	if !ok || len(list) != 2 {
		return fmt.Errorf("deposit: want (client, n), got %v", args)
	}
	client, ok := list[0].(string)
	if !ok {
		return fmt.Errorf("deposit: client %v is not a string", list[0])
	}
	n, err := marshal.Int(list[1])
	if err != nil {
		return err
	}
	// The log is one vatstore key per entry and a length: a deposit costs
	// the same at the ten-thousandth as at the first (one JSON list
	// rewritten each time would not), and a doubled deposit is simply
	// two entries.
	count := 0
	if r := c.Syscall(kernel.Syscall{Kind: kernel.SyscallVatstoreGet, Key: lenKey(client)}); r.Found {
		if count, err = strconv.Atoi(r.Value); err != nil {
			return err
		}
	}
	c.Syscall(kernel.Syscall{Kind: kernel.SyscallVatstoreSet, Key: logKey(client, count), Value: strconv.FormatInt(n, 10)})
	count++
	c.Syscall(kernel.Syscall{Kind: kernel.SyscallVatstoreSet, Key: lenKey(client), Value: strconv.Itoa(count)})
	v, err := marshal.Encode(int64(count))
	if err != nil {
		return err
	}
	// The answer is the entry's place: the conductor checks that the
	// acknowledged deposit is at that place in the final log, so an
	// answer from a crank that was later lost would be caught.
	c.Fulfill(c.Result(), v)
	return nil
}

// lenKey and logKey are the bank vat's vatstore keys: a client's log
// length, and its entry i (from 0).
func lenKey(client string) string        { return "len/" + client }
func logKey(client string, i int) string { return "log/" + client + "/" + strconv.Itoa(i) }

// startNode starts the transport node on host:port, over mutual TLS. A
// port another process took since the last incarnation is given up for a
// free one: the conductor tells the peers whatever address the node says.
func (p *kernelProc) startNode(ctx context.Context, host string, port int) (*transport.Node, error) {
	cfg := transport.Config{Identity: p.id, Host: host, Port: port, Kernel: p.d.K, Deliverer: p.d, ResendEvery: resendEvery}
	n, err := transport.Start(ctx, cfg)
	if err != nil && port != 0 {
		cfg.Port = 0
		n, err = transport.Start(ctx, cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("chaos: %s: start node on %s: %w", p.role, host, err)
	}
	return n, nil
}

// audit runs kernel.Audit; problems are an error. It runs on the node's
// actor (through Node.Do) once the node is up.
func (p *kernelProc) audit(ctx context.Context, k *kernel.Kernel) error {
	problems, err := kernel.Audit(ctx, k.Store())
	if err != nil {
		return fmt.Errorf("chaos: %s: audit: %w", p.role, err)
	}
	p.audits.Add(1)
	if len(problems) > 0 {
		return fmt.Errorf("chaos: %s: audit found %d problems: %v", p.role, len(problems), problems)
	}
	return nil
}

// fatal tells the conductor, then fails this process's test.
func (p *kernelProc) fatal(t *testing.T, err error) {
	p.out.write(msg{Event: evProblem, Problem: err.Error()})
	t.Fatal(err)
}

// problem tells the conductor from a goroutine that cannot fail the test
// itself.
func (p *kernelProc) problem(err error) { p.out.write(msg{Event: evProblem, Problem: err.Error()}) }

// watch records the longest outbox every 100 ms (the conductor keeps the
// maximum over the run) and audits the kernel every 2 s.
func (p *kernelProc) watch(ctx context.Context) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for i := 1; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		// Pending is read on the node's actor, between its steps: the
		// outbox as the kernel has it, not as a flush left it.
		longest := 0
		err := p.node.Do(ctx, func(k *kernel.Kernel) error {
			for _, r := range k.Remotes() {
				longest = max(longest, r.Pending)
			}
			if i%20 == 0 {
				return p.audit(ctx, k)
			}
			return nil
		})
		if err != nil {
			// A failed audit, or a node that stopped working: the
			// conductor fails the run on it. At the end (ctx done) the
			// node is stopping, and a refused Do says nothing.
			if ctx.Err() == nil {
				p.problem(err)
			}
			return
		}
		// Only new highs are written: the conductor keeps the maximum
		// over all incarnations, and a line per sample would be noise.
		if int64(longest) > p.maxPending.Load() {
			p.maxPending.Store(int64(longest))
			p.out.write(msg{Event: evPending, Pending: longest})
		}
	}
}

// serve runs the conductor's commands until it closes stdin.
func (p *kernelProc) serve(ctx context.Context, in *lineReader) error {
	for {
		m, _, err := in.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := p.command(ctx, m); err != nil {
			return err
		}
	}
}

// command runs one command and writes its answer.
func (p *kernelProc) command(ctx context.Context, m msg) error {
	switch m.Cmd {
	case cmdPeers:
		for _, peer := range m.Peers {
			// A new peer is added; a known one that moved gets its new
			// address (the same key: the same remote), and the node's TLS
			// pins follow it.
			err := p.node.DoOut(ctx, func(k *kernel.Kernel) ([]kernel.Output, error) {
				_, out, err := k.AddRemote(ctx, peer.Peer, peer.Addr)
				return out, err
			})
			if err != nil {
				return fmt.Errorf("chaos: %s: add remote %s at %s: %w", p.role, peer.Name, peer.Addr, err)
			}
		}
		return p.out.write(msg{Event: evOK})
	case cmdExport:
		var ref string
		err := p.node.DoOut(ctx, func(k *kernel.Kernel) ([]kernel.Output, error) {
			r, ok := k.RemoteByPeer(m.Peer)
			if !ok {
				return nil, fmt.Errorf("no remote for peer %s", m.Peer)
			}
			var out []kernel.Output
			var err error
			ref, out, err = k.ExportToRemote(ctx, r, p.root)
			return out, err
		})
		if err != nil {
			return fmt.Errorf("chaos: bank: export: %w", err)
		}
		return p.out.write(msg{Event: evRef, Ref: ref})
	case cmdImport:
		var presence kernel.KRef
		err := p.node.DoOut(ctx, func(k *kernel.Kernel) ([]kernel.Output, error) {
			r, ok := k.RemoteByPeer(m.Peer)
			if !ok {
				return nil, fmt.Errorf("no remote for peer %s", m.Peer)
			}
			var out []kernel.Output
			var err error
			presence, out, err = k.ImportFromRemote(ctx, r, m.Ref)
			return out, err
		})
		if err != nil {
			return fmt.Errorf("chaos: %s: import: %w", p.role, err)
		}
		return p.out.write(msg{Event: evPresence, Presence: string(presence)})
	case cmdRun:
		// The loop runs beside the command loop, which must stay free to
		// answer status and stop while deposits wait.
		skip := map[int64]bool{}
		for _, n := range m.Skip {
			skip[n] = true
		}
		if p.running {
			return fmt.Errorf("chaos: %s: run twice", p.role)
		}
		p.running = true
		go p.deposits(ctx, kernel.KRef(m.Presence), m.From, skip, m.Window)
		return p.out.write(msg{Event: evOK})
	case cmdStop:
		p.stopOnce.Do(func() { close(p.stop) })
		if p.running {
			<-p.loopDone // no deposit is sent after the answer
		}
		return p.out.write(msg{Event: evOK})
	case cmdStatus:
		// The conductor polls this until it drains; the total of the
		// outboxes is 0 only once every peer acknowledged everything.
		var st status
		if err := p.node.Do(ctx, func(k *kernel.Kernel) error {
			for _, r := range k.Remotes() {
				st.Pending += r.Pending
			}
			return nil
		}); err != nil {
			return err
		}
		st.Unsettled = int(p.unsettled.Load())
		return p.out.write(msg{Event: evStatus, Status: &st})
	case cmdReport:
		rep, err := p.report(ctx)
		if err != nil {
			return err
		}
		return p.out.write(msg{Event: evReport, Report: rep})
	}
	return fmt.Errorf("chaos: %s: unknown command %q", p.role, m.Cmd)
}

// report audits the kernel once more and reads the bank's logs.
func (p *kernelProc) report(ctx context.Context) (*report, error) {
	rep := &report{}
	err := p.node.Do(ctx, func(k *kernel.Kernel) error {
		var err error
		if rep.Problems, err = kernel.Audit(ctx, k.Store()); err != nil {
			return err
		}
		p.audits.Add(1)
		for _, r := range k.Remotes() {
			rep.Pending += r.Pending
		}
		if p.role != bankName {
			return nil
		}
		// The logs are read from the store the crank wrote, on the
		// node's actor: what the bank took, not what it said it took.
		rep.Logs = map[string][]int64{}
		vat := string(p.d.Vat("bank").ID)
		for _, c := range []string{client1, client2} {
			v, _ := k.Store().VatstoreGet(vat, lenKey(c))
			count, _ := strconv.Atoi(v) // none yet: 0
			log := make([]int64, 0, count)
			for i := range count {
				s, ok := k.Store().VatstoreGet(vat, logKey(c, i))
				if !ok {
					return fmt.Errorf("bank: %s's log has no entry %d of %d", c, i, count)
				}
				n, err := strconv.ParseInt(s, 10, 64)
				if err != nil {
					return fmt.Errorf("bank: %s's log entry %d: %w", c, i, err)
				}
				log = append(log, n)
			}
			rep.Logs[c] = log
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("chaos: %s: report: %w", p.role, err)
	}
	rep.Audits = int(p.audits.Load())
	return rep, nil
}

// deposits is a client's traffic: deposit(client, n) to the bank for n
// from from on (skipping what the conductor knows was settled), at most
// window unsettled at a time. Each is sent with the idempotency key
// "<client>/<n>": after a restart the conductor asks again for every
// deposit it has not seen settled, and the kernel answers one that was
// queued before the kill with its first promise instead of queueing it
// twice (kernel.QueueMessageOnce).
func (p *kernelProc) deposits(ctx context.Context, presence kernel.KRef, from int64, skip map[int64]bool, window int) {
	defer close(p.loopDone)
	sem := make(chan struct{}, window)
	for n := from; ; n++ {
		if skip[n] {
			continue
		}
		select {
		case <-p.stop:
			return
		case <-ctx.Done():
			return
		case sem <- struct{}{}:
		}
		// A slot and the stop may both be ready: a deposit must not
		// follow the stop's answer, so the stop is asked again.
		select {
		case <-p.stop:
			return
		default:
		}
		methargs, err := marshal.Encode([]any{"deposit", []any{p.role, n}})
		if err != nil {
			p.problem(err)
			return
		}
		var kp kernel.KRef
		var settled *kernel.Output
		err = p.node.DoOut(ctx, func(k *kernel.Kernel) ([]kernel.Output, error) {
			var dup bool
			var out []kernel.Output
			var err error
			// INVARIANT: a deposit is queued at most once whatever the
			// kills: the key is recorded in the unit that queues it, so a
			// retry after a kill finds it exactly when the first send
			// committed. The target must be the same kref for the
			// digest to match: the conductor keeps the presence.
			kp, dup, out, err = k.QueueMessageOnce(ctx, p.role+"/"+strconv.FormatInt(n, 10), presence, methargs)
			if err == nil && dup {
				// Queued by an earlier incarnation: settled already, or
				// the kernel subscribed this host to it again.
				if o, ok := k.SettledOutput(kp); ok {
					settled = &o
				}
			}
			return out, err
		})
		if err != nil {
			p.problem(fmt.Errorf("chaos: %s: deposit %d: %w", p.role, n, err))
			return
		}
		p.unsettled.Add(1)
		go p.await(ctx, n, kp, settled, sem)
	}
}

// await waits for deposit n's settlement and tells the conductor.
func (p *kernelProc) await(ctx context.Context, n int64, kp kernel.KRef, settled *kernel.Output, sem chan struct{}) {
	defer func() {
		p.unsettled.Add(-1)
		<-sem
	}()
	// Node.Wait hears of a settlement only once the unit that applied
	// the bank's answer is in SQLite (the node releases outputs after
	// the flush): an acknowledgement is never one a kill could undo.
	var o kernel.Output
	if settled != nil {
		o = *settled
	} else {
		var err error
		if o, err = p.node.Wait(ctx, kp); err != nil {
			if ctx.Err() == nil {
				p.problem(fmt.Errorf("chaos: %s: deposit %d: wait: %w", p.role, n, err))
			}
			return
		}
	}
	if err := o.Err(); err != nil {
		p.problem(fmt.Errorf("chaos: %s: deposit %d was rejected: %w", p.role, n, err))
		return
	}
	v, err := marshal.Decode(o.Value)
	if err != nil {
		p.problem(fmt.Errorf("chaos: %s: deposit %d: answer: %w", p.role, n, err))
		return
	}
	count, err := marshal.Int(v)
	if err != nil {
		p.problem(fmt.Errorf("chaos: %s: deposit %d: answer %v: %w", p.role, n, v, err))
		return
	}
	p.out.write(msg{Event: evAcked, N: n, Count: count})
}
