package cli

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime/pprof"
	"strings"
	"sync"
	"time"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/persistence/sqlitestore"
	"github.com/ocapgo/kernel-actors/remote/identity"
	"github.com/ocapgo/kernel-actors/remote/transport"
	"github.com/ocapgo/kernel-actors/vat"
)

// The commands that run more than one kernel (bench remote, demo remote)
// start this binary again for each kernel, with a hidden command
// (remotePeerCommand ROLE): one kernel per process, as in production, and
// as protoactor-go remote needs (it keeps process-wide state). The parent
// talks to each child over its stdin and stdout, one JSON line (a
// peerLine) each way per request; everything between the kernels goes
// over their link. A child ends when its stdin closes, so a parent that
// dies, however it dies, leaves no kernel behind.

// remotePeerCommand is the hidden command a child runs. It is not in the
// usage: nobody types it.
const remotePeerCommand = "_remote-peer"

// peerLine is one line of the parent-child conversation: a request
// (Op set) or its answer (Err set when it failed).
type peerLine struct {
	Op   string `json:"op,omitempty"`
	Err  string `json:"err,omitempty"`
	Addr string `json:"addr,omitempty"`
	Peer string `json:"peer,omitempty"`
	// Remote is a remote id; Ref a remote ref (an introduction); KRef a
	// kernel ref of the child's.
	Remote string `json:"remote,omitempty"`
	Ref    string `json:"ref,omitempty"`
	KRef   string `json:"kref,omitempty"`
	// N is how many; Amount a deposit; Who a depositor.
	N      int    `json:"n,omitempty"`
	Window int    `json:"window,omitempty"` // round trips in flight at once
	Amount int64  `json:"amount,omitempty"`
	Who    string `json:"who,omitempty"`
	// NS is how long a timed request took, in nanoseconds.
	NS int64 `json:"ns,omitempty"`
	// Value is a result, as JSON; Problems the auditor's findings.
	Value    json.RawMessage `json:"value,omitempty"`
	Problems []string        `json:"problems,omitempty"`
	// Resumed says a kernel started over an existing database.
	Resumed bool `json:"resumed,omitempty"`
	// Pending is how many messages wait in the outbox for Remote.
	Pending int `json:"pending,omitempty"`
}

// runRemotePeer is the hidden command: one child kernel (or a bare
// protoactor-go endpoint) of bench remote or demo remote.
func runRemotePeer(ctx context.Context, e *env, args []string) error {
	// Flags, not the environment: the parent builds the command line, and a
	// child run by hand (to debug it) takes the same.
	fs := newFlags(e, remotePeerCommand, "ROLE", "A child process of bench remote and demo remote.")
	var c peerConfig
	fs.StringVar(&c.db, "db", "", "the kernel's database (default: in memory)")
	fs.StringVar(&c.commit, "commit", "durable", "durable or group")
	fs.StringVar(&c.profile, "cpuprofile", "", "write a CPU profile to this file")
	fs.StringVar(&c.sync, "sync", "full", "the file store's synchronous: full or normal")
	fs.StringVar(&c.vat, "vat", "pong", "the kernel's vat: pong (bench remote) or bank (demo remote)")
	pos, err := parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	// A profile of each process is the only way to see what a round trip
	// costs on each side: the parent measures, the children work.
	if c.profile != "" {
		f, err := os.Create(c.profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	p := &peerIO{in: bufio.NewScanner(e.stdin), out: json.NewEncoder(e.stdout)}
	// Lines are small, but an answer with a statement or audit problems can
	// exceed the scanner's 64 KiB default.
	p.in.Buffer(make([]byte, 64<<10), 1<<20)
	// One role a process: protoactor-go remote keeps process-wide state, so
	// the floor's endpoints and the kernels never share a process.
	switch pos[0] {
	case "bare-server":
		return bareServer(ctx, p)
	case "bare-client":
		return bareClient(ctx, p)
	case "kernel":
		return kernelPeer(ctx, p, c)
	}
	// A typo in a parent's role is a usage error, like any other command's.
	return usageErr("unknown role %q", pos[0])
}

// peerIO is a child's end of the conversation.
type peerIO struct {
	in  *bufio.Scanner
	out *json.Encoder
}

// next returns the parent's next request; false when the parent closed
// the pipe (it is done, or gone).
func (p *peerIO) next() (peerLine, bool) {
	for p.in.Scan() {
		var l peerLine
		// A line that does not parse is skipped rather than fatal: only the
		// parent writes here, and it writes only peerLines.
		if json.Unmarshal(p.in.Bytes(), &l) == nil {
			return l, true
		}
	}
	return peerLine{}, false
}

func (p *peerIO) answer(l peerLine, err error) {
	if err != nil {
		l.Err = err.Error()
	}
	p.out.Encode(l) // a parent that is gone hears nothing, and closes stdin
}

// peerConfig is a child kernel's flags.
type peerConfig struct {
	db, commit, profile, vat, sync string
}

// ---- a child kernel ----

// peerKernel is one kernel process: its store, kernel, Go vats and the
// transport node that owns the kernel.
type peerKernel struct {
	st    *persistence.Store
	node  *transport.Node
	vats  *goVats
	id    *identity.Identity
	root  kernel.KRef // the first vat's root (the pong or the bank)
	fresh bool
	sent  []kernel.KRef // the demo's deposits sent, their result promises in order
	// settled keeps the demo's settlements: Node.Wait hands each out
	// once, and "answers" asks for every deposit since the start.
	settled map[kernel.KRef]kernel.Output
}

// openPeerKernel opens the store (resuming it if db holds a kernel) and
// starts the node on a free loopback port, plaintext: the children are
// on one machine, and the parent asked for it.
func openPeerKernel(ctx context.Context, c peerConfig, reg *vat.Registry, cluster kernel.ClusterConfig) (*peerKernel, error) {
	// The store's options are the commit policy under test and the file's
	// sync level; everything else is the default, as `serve` runs it.
	opts := persistence.Options{}
	if c.commit == "group" {
		opts.Policy = persistence.Group
	}
	if c.sync == "normal" {
		opts.Synchronous = persistence.SyncNormal
	}
	p := &peerKernel{vats: newGoVats(reg), fresh: true, settled: map[kernel.KRef]kernel.Output{}}
	var err error
	if c.db == "" {
		// In memory nothing survives the process, so a fresh key a start is
		// right: nobody could resume this kernel.
		p.id, err = identity.Generate(rand.Reader)
	} else {
		// An existing file is a kernel to resume (the demo's restarted bank);
		// a missing one a kernel to launch.
		if _, serr := os.Stat(c.db); serr == nil {
			p.fresh = false
		}
		// The key beside the database: a kernel restarted over its file is
		// the same peer, which its peers have pinned.
		p.id, _, err = identity.LoadOrCreate(identity.KeyPath(c.db), rand.Reader)
	}
	if err != nil {
		return nil, err
	}
	if p.st, err = sqlitestore.Open(ctx, c.db, opts); err != nil {
		return nil, err
	}
	k, err := kernel.New(kernel.Config{Store: p.st})
	if err != nil {
		p.st.Close(ctx)
		return nil, err
	}
	p.vats.k = k
	// The vat is launched before the node starts, so no peer frame can reach
	// the kernel while its vat is half made. No bootstrap: the host talks to
	// the root directly.
	if p.fresh {
		res, _, err := k.Launch(ctx, p.vats, cluster, kernel.LaunchOptions{NoBootstrap: true})
		if err != nil {
			p.st.Close(ctx)
			return nil, err
		}
		p.root = res.Roots[cluster.Bootstrap]
	} else {
		if _, err := k.Resume(ctx, p.vats); err != nil {
			p.st.Close(ctx)
			return nil, err
		}
		// The root is found by the vat's name: krefs are stable across a resume,
		// but the parent of a restarted kernel does not tell it which.
		for _, v := range k.Vats() {
			if v.Name == cluster.Bootstrap {
				p.root = v.Root
			}
		}
	}
	// The launch (or resume) is made durable before the node starts: under
	// group commit it would otherwise wait for the first step's flush.
	if _, err := k.Flush(ctx); err != nil {
		p.st.Close(ctx)
		return nil, err
	}
	p.node, err = transport.Start(ctx, transport.Config{Identity: p.id, Host: "127.0.0.1", InsecureLoopback: true,
		// Plaintext on loopback, the only place the transport allows it: all the
		// children run on this machine. A short resend period so that the
		// demo's restarted bank is caught up quickly.
		Kernel: k, Deliverer: p.vats, ResendEvery: 100 * time.Millisecond})
	if err != nil {
		p.st.Close(ctx)
		return nil, err
	}
	return p, nil
}

// close stops the node, flushes and closes the store.
func (p *peerKernel) close(ctx context.Context) error {
	// The node first, so no step runs on the kernel while the vats stop and
	// the store closes; the last flush keeps what a group still holds.
	err := p.node.Stop(ctx)
	p.vats.stop()
	if _, ferr := p.vats.k.Flush(ctx); ferr != nil && err == nil {
		err = ferr
	}
	if cerr := p.st.Close(ctx); cerr != nil && err == nil {
		err = cerr
	}
	return err
}

// hello is the child's first line: where it is and who.
func (p *peerKernel) hello() peerLine {
	return peerLine{Addr: p.node.Addr(), Peer: string(p.id.ID()), KRef: string(p.root), Resumed: !p.fresh}
}

// common answers the requests every child kernel takes: know a peer,
// export the root to it, import a ref from it, audit. It reports false
// for an op it does not know.
func (p *peerKernel) common(ctx context.Context, l peerLine) (peerLine, error, bool) {
	var ans peerLine
	var err error
	switch l.Op {
	// Every host request goes through the node (DoOut), which owns the
	// kernel: the kernel is never called from two goroutines.
	case "know":
		// A new peer, or one that moved: the same key at a new address.
		err = p.node.DoOut(ctx, func(k *kernel.Kernel) ([]kernel.Output, error) {
			r, out, err := k.AddRemote(ctx, l.Peer, l.Addr)
			ans.Remote = string(r)
			return out, err
		})
	case "export":
		err = p.node.DoOut(ctx, func(k *kernel.Kernel) ([]kernel.Output, error) {
			ref, out, err := k.ExportToRemote(ctx, kernel.RemoteID(l.Remote), p.root)
			ans.Ref = ref
			return out, err
		})
	case "import":
		err = p.node.DoOut(ctx, func(k *kernel.Kernel) ([]kernel.Output, error) {
			kref, out, err := k.ImportFromRemote(ctx, kernel.RemoteID(l.Remote), l.Ref)
			ans.KRef = string(kref)
			return out, err
		})
	// The auditor on the node's goroutine, between steps, so it sees a state
	// no crank is halfway through. Pending tells the parent whether the
	// peer has acknowledged everything.
	case "audit":
		err = p.node.Do(ctx, func(k *kernel.Kernel) error {
			var err error
			ans.Problems, err = kernel.Audit(ctx, k.Store())
			if l.Remote != "" {
				info, rerr := k.Remote(kernel.RemoteID(l.Remote))
				if rerr != nil {
					return rerr
				}
				ans.Pending = info.Pending
			}
			return err
		})
	// Not one of the common requests: the caller tries the bench's and the
	// demo's.
	default:
		return ans, nil, false
	}
	return ans, err, true
}

// call sends method(args...) to target from the host and waits for its
// settlement, returning the decoded value.
func (p *peerKernel) call(ctx context.Context, target kernel.KRef, methargs marshal.CapData) (any, error) {
	var kp kernel.KRef
	if err := p.node.DoOut(ctx, func(k *kernel.Kernel) ([]kernel.Output, error) {
		var out []kernel.Output
		var err error
		kp, out, err = k.QueueMessage(ctx, target, methargs)
		return out, err
	}); err != nil {
		return nil, err
	}
	// The settlement is released only after the flush that covers it, so
	// what the host sees here is durable (output validity).
	o, err := p.node.Wait(ctx, kp)
	if err != nil {
		return nil, err
	}
	if err := o.Err(); err != nil {
		return nil, err
	}
	return marshal.Decode(o.Value)
}

// ---- Go vats for a bare kernel ----

// goVats runs the vats of a registry for a kernel.Kernel that a node owns
// (the node calls it from its actor only): one vat.Instance per
// incarnation, made at startVat.
type goVats struct {
	reg   *vat.Registry
	k     *kernel.Kernel
	insts map[kernel.VatID]*vat.Instance
}

func newGoVats(reg *vat.Registry) *goVats {
	return &goVats{reg: reg, insts: map[kernel.VatID]*vat.Instance{}}
}

// Deliver implements kernel.Deliverer.
func (g *goVats) Deliver(ctx context.Context, id kernel.VatID, d kernel.Delivery, sys kernel.Syscaller) error {
	// A startVat begins an incarnation: the build function runs in the new
	// instance, and an old one (a restart) is stopped so its goroutines end.
	if d.Kind == kernel.DeliverStartVat {
		info, err := g.k.Vat(id)
		if err != nil {
			return fmt.Errorf("%w: %v", kernel.ErrNoEndpoint, err)
		}
		build, err := g.reg.Lookup(info.Config.Bundle)
		if err != nil {
			return fmt.Errorf("%w: %v", kernel.ErrVatFault, err)
		}
		if old := g.insts[id]; old != nil {
			old.Stop()
		}
		inst, err := vat.New(vat.Config{Build: build, Parameters: info.Config.Parameters})
		if err != nil {
			return fmt.Errorf("%w: %v", kernel.ErrVatFault, err)
		}
		g.insts[id] = inst
	}
	inst := g.insts[id]
	if inst == nil {
		return fmt.Errorf("vat %s: %w", id, kernel.ErrNoEndpoint)
	}
	// A vat's failure is the kernel's to handle (roll back, terminate):
	// ErrVatFault says so.
	if err := inst.Deliver(d, sys); err != nil {
		return fmt.Errorf("%w: %v", kernel.ErrVatFault, err)
	}
	return nil
}

func (g *goVats) stop() {
	for _, inst := range g.insts {
		inst.Stop()
	}
}

// ---- the parent's side ----

// peerProc is a child process and its pipes, seen from the parent.
type peerProc struct {
	name  string
	cmd   *exec.Cmd
	in    io.WriteCloser
	lines chan peerLine
	stop  sync.Once
	done  chan struct{} // closed when the process has exited
	err   error         // its exit status, once done
}

// startPeer starts this binary again as a child with the hidden command.
// stderr gets the child's own stderr (its errors).
func startPeer(ctx context.Context, name string, stderr io.Writer, args ...string) (*peerProc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	// Not CommandContext: each command kills its children itself (killAll,
	// deferred, which also waits until they are gone), and the demo kills
	// one on purpose; a kill driven by ctx would race with both.
	cmd := exec.Command(exe, append([]string{remotePeerCommand}, args...)...)
	cmd.Stderr = stderr
	setPeerAttrs(cmd)
	p := &peerProc{name: name, cmd: cmd, lines: make(chan peerLine, 16), done: make(chan struct{})}
	if p.in, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	// One reader a child: lines go to a channel so that read can give up at
	// ctx's end, and Wait runs only after the last line (exec's rule for
	// StdoutPipe).
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var l peerLine
			if json.Unmarshal(sc.Bytes(), &l) == nil {
				p.lines <- l
			}
		}
		p.err = cmd.Wait()
		close(p.done)
		close(p.lines)
	}()
	return p, nil
}

// read returns the child's next line, or an error if it exits first or
// ctx ends.
func (p *peerProc) read(ctx context.Context) (peerLine, error) {
	select {
	case l, ok := <-p.lines:
		if !ok {
			if p.err == nil {
				return peerLine{}, fmt.Errorf("%s exited before answering", p.name)
			}
			return peerLine{}, fmt.Errorf("%s exited: %w", p.name, p.err)
		}
		// The child's error text is all that crosses the pipe; it names the
		// child so the user knows which kernel failed.
		if l.Err != "" {
			return l, fmt.Errorf("%s: %s", p.name, l.Err)
		}
		return l, nil
	case <-ctx.Done():
		return peerLine{}, fmt.Errorf("%s: %w", p.name, ctx.Err())
	}
}

// ask sends a request and returns its answer.
func (p *peerProc) ask(ctx context.Context, l peerLine) (peerLine, error) {
	b, _ := json.Marshal(l)
	if _, err := fmt.Fprintf(p.in, "%s\n", b); err != nil {
		return peerLine{}, fmt.Errorf("%s: %w", p.name, err)
	}
	return p.read(ctx)
}

// quit asks the child to end (its stdin closes) and waits for it, at most
// until ctx ends, when it is killed.
func (p *peerProc) quit(ctx context.Context) error {
	// Closing stdin is the child's signal to stop cleanly: it stops its
	// node, flushes and closes its store.
	p.in.Close()
	select {
	case <-p.done:
		return p.err
	case <-ctx.Done():
		p.kill()
		return ctx.Err()
	}
}

// kill sends SIGKILL and waits for the process to be gone. Safe to call
// more than once, and after it exited.
func (p *peerProc) kill() {
	p.stop.Do(func() {
		p.cmd.Process.Kill()
		p.in.Close()
		// What the child wrote before it died is read and dropped, so the
		// reader is never stuck on a full channel and reaches Wait.
		go func() {
			for range p.lines {
			}
		}()
	})
	<-p.done
}

// peerSet is every child a command started, so that each one is killed
// on the way out whatever path it takes (an error, a deadline, Ctrl-C).
type peerSet struct {
	mu     sync.Mutex
	procs  []*peerProc
	stderr *lockedWriter // the children's stderr, shared
}

// lockedWriter serializes the writes of the children's stderr copiers:
// each child's is a goroutine of its own (unless w is a file).
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func (s *peerSet) start(ctx context.Context, name string, stderr io.Writer, args ...string) (*peerProc, error) {
	s.mu.Lock()
	if s.stderr == nil {
		s.stderr = &lockedWriter{w: stderr}
	}
	shared := s.stderr
	s.mu.Unlock()
	p, err := startPeer(ctx, name, shared, args...)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.procs = append(s.procs, p)
	s.mu.Unlock()
	return p, nil
}

// killAll kills every child still running.
// Deferred by every command that starts children, before anything else
// can fail.
func (s *peerSet) killAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.procs {
		p.kill()
	}
}

// unknownOp is a child's answer to a request it does not take.
func unknownOp(op string) error {
	return fmt.Errorf("unknown request %q", strings.TrimSpace(op))
}

// kernelPeer is the "kernel" role: a kernel with the bench's pong and the
// demo's bank (the root is the one --vat names), answering the parent's
// requests until its stdin closes.
func kernelPeer(ctx context.Context, p *peerIO, c peerConfig) error {
	k, err := openPeerKernel(ctx, c, remoteVats(), remoteCluster(c.vat))
	if err != nil {
		return err
	}
	p.answer(k.hello(), nil)
	for {
		l, ok := p.next()
		if !ok {
			break
		}
		ans, err, known := k.common(ctx, l)
		if !known {
			ans, err, known = k.benchOp(ctx, l)
		}
		if !known {
			ans, err, known = k.demoOp(ctx, l)
		}
		if !known {
			err = unknownOp(l.Op)
		}
		p.answer(ans, err)
	}
	return k.close(ctx)
}

// remoteVats is the child kernels' registry: the bench's pong and the
// demo's bank.
func remoteVats() *vat.Registry {
	reg := vat.NewRegistry()
	// The children's own registry, not the binary's: a program built on
	// package cli with vats of its own still runs these two.
	reg.MustRegister("remote/pong", pongVat)
	reg.MustRegister("remote/bank", bankVat)
	return reg
}

// remoteCluster is a child kernel's one vat, named name (pong or bank).
func remoteCluster(name string) kernel.ClusterConfig {
	return kernel.ClusterConfig{Bootstrap: name, Vats: map[string]kernel.VatConfig{name: {Bundle: "remote/" + name}}}
}
