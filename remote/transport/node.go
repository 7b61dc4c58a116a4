package transport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/remote/identity"
)

// Config configures a Node.
type Config struct {
	// Identity is the kernel's key (identity.LoadOrCreate). Required.
	Identity *identity.Identity
	// Host and Port are where the node listens; Port 0 picks a free port
	// (Node.Addr says which).
	Host string
	Port int
	// InsecureLoopback turns TLS off. It is refused unless Host is a
	// loopback address: plaintext is for one machine, and only on request.
	InsecureLoopback bool
	// Kernel is the kernel the node owns from Start on: nothing else may
	// call it except through Node.Do. Deliverer delivers to its vats.
	Kernel    *kernel.Kernel
	Deliverer kernel.Deliverer
	// ResendEvery is how often unacknowledged messages are sent again (a
	// lost frame, a reconnect, a peer that restarted). Zero means 200 ms.
	ResendEvery time.Duration
	// MaxIntroduced is how many peers the kernel may add because they
	// redeemed one of its URLs without being its remotes (PumpConfig).
	// Zero means kernel.DefaultMaxIntroduced; negative takes none.
	MaxIntroduced int
	// AckDelay is how long an ack with no message to ride on waits for
	// one before it goes alone: in a conversation the ack of an answer
	// rides on the next request (two frames a round trip, not three).
	// Messages are never delayed. Zero means 2 ms (at most half of
	// ResendEvery); it must be shorter than ResendEvery, or the peer would
	// resend what is only waiting for its ack.
	AckDelay time.Duration
	// Logger receives the link's events; nil discards them.
	Logger *slog.Logger
	// MaxUnread bounds the settlements kept for a Wait that has not come
	// yet (Node.Wait): beyond it the oldest is dropped. Zero means
	// DefaultMaxUnread.
	MaxUnread int
}

func (c *Config) validate() error {
	switch {
	case c.Identity == nil:
		return fmt.Errorf("%w: Config.Identity is nil", ErrRefused)
	case c.Kernel == nil || c.Deliverer == nil:
		return fmt.Errorf("%w: Config.Kernel and Config.Deliverer are required", ErrRefused)
	case c.InsecureLoopback && !isLoopback(c.Host):
		// INVARIANT: plaintext only on loopback, and only when asked.
		return fmt.Errorf("%w: Config.InsecureLoopback with Host %q: plaintext is allowed only on a loopback address", ErrRefused, c.Host)
	case c.ResendEvery < 0:
		return fmt.Errorf("%w: Config.ResendEvery %v is negative", ErrRefused, c.ResendEvery)
	case c.AckDelay < 0:
		return fmt.Errorf("%w: Config.AckDelay %v is negative", ErrRefused, c.AckDelay)
	case c.MaxUnread < 0:
		return fmt.Errorf("%w: Config.MaxUnread %d is negative", ErrRefused, c.MaxUnread)
	}
	if c.MaxUnread == 0 {
		c.MaxUnread = DefaultMaxUnread
	}
	if c.ResendEvery == 0 {
		c.ResendEvery = 200 * time.Millisecond
	}
	if c.AckDelay == 0 {
		c.AckDelay = min(defaultAckDelay, c.ResendEvery/2)
	}
	if c.AckDelay >= c.ResendEvery {
		return fmt.Errorf("%w: Config.AckDelay %v is not shorter than ResendEvery %v: the peer would resend what waits for its ack", ErrRefused, c.AckDelay, c.ResendEvery)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// defaultAckDelay is Config.AckDelay when none is set: far longer than
// the gap between an answer and the next request of a conversation on
// one machine (tens of µs), far shorter than a resend round.
const defaultAckDelay = 2 * time.Millisecond

// Node is one kernel on the network (see the package doc).
type Node struct {
	cfg  Config
	sys  *actor.ActorSystem
	rem  *remote.Remote
	pid  *actor.PID
	pump *Pump       // the protocol, called only on the link actor
	disp *Dispatcher // the link actor's goroutine

	stopOnce sync.Once

	// mu guards what host goroutines wait on: the first Output of each
	// promise until a Wait takes it (results), and who waits for which
	// (waiters).
	mu struct {
		sync.Mutex
		results *results
		waiters map[kernel.KRef][]chan kernel.Output
		err     error // the kernel failed (store error): the node stopped working
	}
}

// Start starts a node: the actor system, the remote extension (mutual TLS
// unless InsecureLoopback) and the link actor that owns the kernel.
func Start(ctx context.Context, cfg Config) (*Node, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	pump, err := NewPump(PumpConfig{Identity: cfg.Identity, Kernel: cfg.Kernel, InsecureLoopback: cfg.InsecureLoopback,
		MaxIntroduced: cfg.MaxIntroduced, Logger: cfg.Logger, HoldAcks: true})
	if err != nil {
		return nil, err
	}
	n := &Node{cfg: cfg, pump: pump}
	n.mu.results = newResults(cfg.MaxUnread)
	n.mu.waiters = map[kernel.KRef][]chan kernel.Output{}
	n.sys = actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return cfg.Logger }))
	if n.rem, err = Listen(n.sys, cfg.Host, cfg.Port, "", pump); err != nil {
		n.sys.Shutdown()
		return nil, err
	}
	// The link on a goroutine of its own (Dispatcher): it keeps the stack
	// its cranks grow.
	n.disp = NewDispatcher()
	pid, err := n.sys.Root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor {
		return &link{n: n}
	}, actor.WithDispatcher(n.disp)), linkName)
	if err != nil {
		n.disp.Stop()
		Release(ctx, n.sys, n.rem, n.pump.Peers())
		n.sys.Shutdown()
		return nil, fmt.Errorf("transport: spawn link actor: %w", err)
	}
	n.pid = pid
	// The pins come from the kernel's remotes, read on the actor.
	if err := n.Do(ctx, func(*kernel.Kernel) error { return nil }); err != nil {
		n.Stop(ctx)
		return nil, err
	}
	return n, nil
}

// Addr is the address peers reach this node at (host:port).
func (n *Node) Addr() string { return n.sys.ProcessRegistry.Address }

// ID is the node's peer id.
func (n *Node) ID() identity.PeerID { return n.cfg.Identity.ID() }

// Stop stops the link actor and the remote extension. The kernel is the
// caller's again afterwards (flush and close its store).
// A second Stop does nothing.
func (n *Node) Stop(ctx context.Context) error {
	var err error
	// The link actor first, so no step runs while the remote goes away,
	// then the remote (its gRPC server and streams), then the system.
	n.stopOnce.Do(func() {
		if n.pid != nil {
			if werr := n.sys.Root.StopFuture(n.pid).Wait(); werr != nil {
				err = fmt.Errorf("transport: stop link actor: %w", werr)
			}
			n.disp.Stop()
		}
		if rerr := Release(ctx, n.sys, n.rem, n.pump.Peers()); rerr != nil {
			err = errors.Join(err, rerr)
		}
		n.sys.Shutdown()
	})
	return err
}

// doRequest runs fn on the link actor.
type doRequest struct {
	fn   func(*kernel.Kernel) ([]kernel.Output, error)
	done chan error
}

// Do runs fn with the kernel on the node's actor, between the link's own
// steps, then cranks and pumps. fn's outputs (a host request's) are
// released as the node's own are: Wait sees them.
func (n *Node) Do(ctx context.Context, fn func(*kernel.Kernel) error) error {
	return n.DoOut(ctx, func(k *kernel.Kernel) ([]kernel.Output, error) { return nil, fn(k) })
}

// DoOut is Do for a host request that returns outputs.
func (n *Node) DoOut(ctx context.Context, fn func(*kernel.Kernel) ([]kernel.Output, error)) error {
	req := &doRequest{fn: fn, done: make(chan error, 1)}
	n.sys.Root.Send(n.pid, req)
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Wait waits for the first Output of kpid (a promise the host awaits).
// Each Output is handed out once, to the Waits waiting for it when it is
// released or else to the first Wait after, and then forgotten: a caller
// that needs a settlement twice keeps it. One that nobody waits for is
// kept for a later Wait among the Config.MaxUnread newest; a Wait for an
// Output taken or dropped before waits until ctx ends.
func (n *Node) Wait(ctx context.Context, kpid kernel.KRef) (kernel.Output, error) {
	n.mu.Lock()
	if o, ok := n.mu.results.take(kpid); ok {
		n.mu.Unlock()
		return o, nil
	}
	if n.mu.err != nil {
		err := n.mu.err
		n.mu.Unlock()
		return kernel.Output{}, err
	}
	ch := make(chan kernel.Output, 1)
	n.mu.waiters[kpid] = append(n.mu.waiters[kpid], ch)
	n.mu.Unlock()
	select {
	case o := <-ch:
		return o, nil
	case <-ctx.Done():
		n.unwait(kpid, ch)
		return kernel.Output{}, ctx.Err()
	}
}

// unwait takes back a Wait that gave up: the Output must not go to a
// waiter that is gone (it is handed out once), so it is kept for the
// next Wait if it came meanwhile.
func (n *Node) unwait(kpid kernel.KRef, ch chan kernel.Output) {
	n.mu.Lock()
	defer n.mu.Unlock()
	ws := n.mu.waiters[kpid]
	for i, w := range ws {
		if w == ch {
			ws = append(ws[:i], ws[i+1:]...)
			break
		}
	}
	if len(ws) == 0 {
		delete(n.mu.waiters, kpid)
	} else {
		n.mu.waiters[kpid] = ws
	}
	select {
	case o := <-ch: // released between ctx's end and the lock
		n.mu.results.put(o)
	default:
	}
}

// release records outputs and wakes their waiters.
func (n *Node) release(out []kernel.Output) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, o := range out {
		// The Waits already waiting take it; otherwise it is kept for the
		// first Wait to come (results.put ignores a later Output of a
		// promise whose first is unread, as package kernel's duty 3 says).
		if ws, ok := n.mu.waiters[o.KPID]; ok {
			for _, ch := range ws {
				ch <- o
			}
			delete(n.mu.waiters, o.KPID)
			continue
		}
		n.mu.results.put(o)
	}
}

// link is the node's actor. It alone calls the kernel.
type link struct {
	n *Node
	// sent is the highest seq sent to each remote since the last resend
	// round; acked the highest ack sent to it. Both are memory only: after
	// a restart everything unacknowledged is sent again, and the peer
	// drops what it has.
	sent, acked map[kernel.RemoteID]uint64
	timer       *time.Timer // the next resendTick
	// ackTimer is the pending ackTick (armAck), nil when none is.
	ackTimer *time.Timer
	// stepQueued says a stepNow is in the mailbox (stepSoon).
	stepQueued bool
}

// stepNow is the link's message to itself to step (stepSoon).
type stepNow struct{}

// stepSoon steps once the frames and requests already in the mailbox
// are applied: a burst of them shares one step, so under group commit
// one flush (one fsync) covers them all, and one pump sends what they
// caused. The mailbox is FIFO, so the stepNow comes after what is
// queued now, and before what comes later.
func (l *link) stepSoon(ctx actor.Context) {
	if !l.stepQueued {
		l.stepQueued = true
		ctx.Send(ctx.Self(), stepNow{})
	}
}

// Receive is the link's loop: a frame from a peer, a host request, or its
// resend timer.
func (l *link) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		l.arm(ctx)
	case *wrapperspb.BytesValue:
		// A peer's frame. Every change it makes is a unit of its own
		// (ApplyRemote, AckRemote), so a crash between frames loses
		// nothing the peer was told was applied.
		// The kernel's calls take a context for their store writes; a
		// frame has no caller to cancel it, so none is given.
		l.n.release(l.n.pump.Apply(context.Background(), m, Authenticated(ctx)))
		l.stepSoon(ctx)
	case *doRequest:
		// A host request, between the link's own steps: the kernel is
		// never called from two goroutines (package kernel's duty 1).
		out, err := m.fn(l.n.cfg.Kernel)
		l.n.release(out)
		// The request may have added a remote or moved one: the TLS layer
		// must pin what the kernel now holds before the next dial.
		l.n.pump.RefreshPins()
		m.done <- err
		l.stepSoon(ctx)
	case stepNow:
		l.stepQueued = false
		l.step(ctx)
	case ackTick:
		// The held acks found no message to ride on: they go alone.
		l.ackTimer = nil
		l.n.pump.SendAcks(func(to *actor.PID, f *wrapperspb.BytesValue) { ctx.Send(to, f) })
	case resendTick:
		// Whatever is still unacknowledged may have been lost (a dropped
		// connection, a peer that restarted): send it again. The peer
		// drops what it has applied.
		l.n.pump.Resend()
		l.step(ctx)
		l.arm(ctx)
	case *actor.Stopping:
		if l.timer != nil {
			l.timer.Stop()
		}
		if l.ackTimer != nil {
			l.ackTimer.Stop()
		}
	}
}

// resendTick is the link's own timer message.
type resendTick struct{}

// ackTick ends the wait of the acks the pump holds (Config.AckDelay).
type ackTick struct{}

// armAck schedules an ackTick if the pump holds acks and none is
// pending: one timer covers every ack held until it fires.
func (l *link) armAck(ctx actor.Context) {
	if l.ackTimer != nil || !l.n.pump.HoldsAcks() {
		return
	}
	self, sys := ctx.Self(), ctx.ActorSystem()
	l.ackTimer = time.AfterFunc(l.n.cfg.AckDelay, func() { sys.Root.Send(self, ackTick{}) })
}

// arm schedules the next resendTick. It is a timer of the link's own that
// sends to the actor's mailbox, not protoactor-go's receive timeout: in
// the pinned version that timeout's handler cancels itself from the timer
// goroutine while the mailbox resets it (the race detector reports it).
func (l *link) arm(ctx actor.Context) {
	self, sys := ctx.Self(), ctx.ActorSystem()
	l.timer = time.AfterFunc(l.n.cfg.ResendEvery, func() { sys.Root.Send(self, resendTick{}) })
}

// step cranks the kernel until it is idle and sends each peer what may go.
func (l *link) step(ctx actor.Context) {
	k := l.n.cfg.Kernel
	ctxb := context.Background()
	// Run the kernel dry first, so that what the frame or request caused
	// (a delivery, its answer, a notify for a peer) is in the outbox
	// before the pump below looks.
	for k.HasWork() {
		res, err := k.Crank(ctxb, l.n.cfg.Deliverer)
		if err != nil {
			l.fail(err)
			return
		}
		l.n.release(res.Released)
	}
	// Under group commit, flush now rather than when the group is due:
	// the link is about to be idle, and nothing it wrote may leave before
	// its flush (RemoteSendable, RemoteAckable).
	if st := k.Store(); st.Unflushed() > 0 {
		out, err := k.Flush(ctxb)
		if err != nil {
			l.fail(err)
			return
		}
		l.n.release(out)
	}
	l.n.pump.Send(func(to *actor.PID, f *wrapperspb.BytesValue) { ctx.Send(to, f) })
	l.armAck(ctx)
}

// fail records a kernel failure (the store): the node stops working, and
// waiters are told.
func (l *link) fail(err error) {
	l.n.cfg.Logger.Error("kernel failed; the node stops", "err", err)
	l.n.mu.Lock()
	defer l.n.mu.Unlock()
	if l.n.mu.err == nil {
		l.n.mu.err = fmt.Errorf("transport: kernel failed: %w", err)
	}
}

// HostPort splits an address into host and port, for configs.
func HostPort(addr string) (string, int, error) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("transport: address %q: %w", addr, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return "", 0, fmt.Errorf("transport: address %q: port: %w", addr, err)
	}
	return h, port, nil
}
