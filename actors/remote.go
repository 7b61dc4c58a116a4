package actors

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/remote/identity"
	"github.com/ocapgo/kernel-actors/remote/transport"
)

// The kernel as a node: with Config.Remote, the kernel actor is also the
// kernel's link to its peer kernels (docs/remote.md). protoactor-go remote
// is attached to the kernel's actor system, and the kernel actor is
// spawned under the link's name, so a peer's frame reaches it as one more
// actor message, handled between cranks like a host request:
//
//   - a frame is applied as one unit, or two (its ack, AckRemote; its
//     message, ApplyRemote); what the message queues runs in later cranks,
//     one per runCrank message, as any other work;
//   - after every message the kernel actor handles, it sends each peer
//     what the kernel lets go (transport.Pump.Send): RemoteSendable holds
//     back what a flush has not covered, so under group commit the wire
//     moves after the flush (output validity), and RemoteAckable does
//     the same for acks;
//   - an ack with no message to ride on is held for AckDelay (ackTick, a
//     timer of the kernel's Clock): the next message carries it, or it
//     goes alone, so a round trip is two frames, not three;
//   - the kernel actor runs on a goroutine of its own (dispatcher), which
//     keeps the stack its cranks grow;
//   - a timer of its own (remoteTick, every ResendEvery) starts a resend
//     round, and gives up on remotes whose outbox has waited GiveUpAfter
//     for an ack.
//
// The protocol itself is transport.Pump, the same code a transport.Node
// runs.

// RemoteConfig puts a kernel on the network (Config.Remote).
type RemoteConfig struct {
	// Host and Port are where the kernel listens for peers; Port 0 picks
	// a free port (LocalPeer says which). Host is required, and is also
	// the address peers are told unless Advertise is set.
	Host string
	Port int
	// Advertise is the host:port peers are told to reach the kernel at
	// (LocalPeer's address), when it is not the listener's own: a kernel
	// listening on 0.0.0.0, behind NAT or in a container. Empty means
	// the listener's address.
	Advertise string
	// InsecureLoopback turns TLS off. It is refused unless Host is a
	// loopback address: plaintext is for one machine, and only on request.
	InsecureLoopback bool
	// KeyPath is the kernel's key file (package identity: ed25519, PEM,
	// mode 0600), made on first start. Empty means "<DBPath>.key"; an
	// in-memory kernel (DBPath "") with no KeyPath gets a fresh key, and
	// so a new peer id, each start.
	KeyPath string
	// ResendEvery is how often unacknowledged messages are sent again (a
	// lost frame, a reconnect, a peer that restarted), and how often
	// GiveUpAfter is checked. Zero means 200 ms.
	ResendEvery time.Duration
	// GiveUpAfter gives up on a remote (kernel.GiveUpRemote) whose outbox
	// has held unacknowledged messages that long with no ack from it: its
	// pending results reject with kernel.ErrPeerUnreachable. It is
	// checked every ResendEvery, and counted from when the wait began,
	// across restarts of the kernel (the store notes its start once it
	// lasts GiveUpAfter/10). Zero means never.
	GiveUpAfter time.Duration
	// MaxIntroduced is how many peers the kernel adds on its own because
	// they redeemed one of its OCAP URLs without being its remotes (an
	// introduction: docs/remote.md). Past it, such redeems are dropped
	// with a log line. A peer the host adds (AddRemote) is not counted.
	// Zero means kernel.DefaultMaxIntroduced (64); negative takes none,
	// and then only the remotes' keys may connect.
	MaxIntroduced int
	// AckDelay is how long an ack with no message to ride on is held for
	// one before it goes alone: in a conversation the ack of an answer
	// rides on the next request, so a round trip is two frames, not
	// three. Messages are never held. Zero means DefaultAckDelay, or half
	// of ResendEvery if that is shorter; it must be shorter than
	// ResendEvery, or the peer would resend what only waits for its ack.
	AckDelay time.Duration

	// acksAlone sends every ack that moved at once, alone if no message
	// carries it (what the kernel did before acks were held): only the
	// package's tests and benchmarks set it, to compare.
	acksAlone bool
	// tapOut and tapIn, when set, see every frame the kernel sends (with
	// its target) and every frame it is handed, on the kernel actor: only
	// the package's tests and benchmarks set them, to count and follow
	// frames.
	tapOut func(to *actor.PID, f *wrapperspb.BytesValue)
	tapIn  func(f *wrapperspb.BytesValue)
	// defaultDispatcher runs the kernel actor on protoactor-go's default
	// dispatcher instead of a goroutine of its own: only the package's
	// benchmarks set it, to compare.
	defaultDispatcher bool
}

// DefaultResendEvery is RemoteConfig.ResendEvery when none is set.
const DefaultResendEvery = 200 * time.Millisecond

// DefaultAckDelay is RemoteConfig.AckDelay when none is set: far longer
// than the gap between an answer and the next request of a conversation
// on one machine (tens of µs), far shorter than a resend round.
const DefaultAckDelay = 2 * time.Millisecond

// ErrRemoteInProcess is returned by Start for a kernel with Config.Remote
// when another kernel of this process already has one: protoactor-go's
// remote keeps process-wide state (it replaces gRPC's global logger at
// each start), so one process runs one remote-enabled kernel. Run each
// kernel of a test in its own process.
var ErrRemoteInProcess = errors.New("actors: another kernel of this process already has a remote")

// remoteClaimed is the one piece of process-wide state in the package,
// and it only mirrors protoactor-go remote's own (ErrRemoteInProcess): a
// kernel with a remote holds it from Start to the end of Stop.
var remoteClaimed atomic.Bool

func (c *RemoteConfig) validate() error {
	switch {
	case c.Host == "":
		return fmt.Errorf("%w: Config.Remote.Host is empty; want the address to listen on, e.g. 127.0.0.1 (or 0.0.0.0 with Advertise)", ErrConfig)
	case c.Advertise != "" && !validHostPort(c.Advertise):
		return fmt.Errorf("%w: Config.Remote.Advertise %q: want HOST:PORT with a host and a port peers can dial", ErrConfig, c.Advertise)
	case c.Port < 0 || c.Port > 65535:
		return fmt.Errorf("%w: Config.Remote.Port is %d; want 0 (any free port) to 65535", ErrConfig, c.Port)
	case c.InsecureLoopback && !isLoopbackHost(c.Host):
		// INVARIANT: plaintext only on loopback, and only when asked.
		return fmt.Errorf("%w: Config.Remote.InsecureLoopback with Host %q: plaintext is allowed only on a loopback address", ErrConfig, c.Host)
	case c.ResendEvery < 0:
		return fmt.Errorf("%w: Config.Remote.ResendEvery is %v; want a positive duration, or 0 for %v", ErrConfig, c.ResendEvery, DefaultResendEvery)
	case c.GiveUpAfter < 0:
		return fmt.Errorf("%w: Config.Remote.GiveUpAfter is %v; want a positive duration, or 0 for never", ErrConfig, c.GiveUpAfter)
	case c.AckDelay < 0:
		return fmt.Errorf("%w: Config.Remote.AckDelay is %v; want a positive duration shorter than ResendEvery, or 0 for %v", ErrConfig, c.AckDelay, DefaultAckDelay)
	}
	if c.ResendEvery == 0 {
		c.ResendEvery = DefaultResendEvery
	}
	if c.AckDelay == 0 {
		c.AckDelay = min(DefaultAckDelay, c.ResendEvery/2)
	}
	if c.AckDelay >= c.ResendEvery {
		// INVARIANT: an ack is held for less than a resend round: held
		// longer, the last message of every exchange would be sent twice.
		return fmt.Errorf("%w: Config.Remote.AckDelay %v is not shorter than ResendEvery %v: the peer would resend what only waits for its ack", ErrConfig, c.AckDelay, c.ResendEvery)
	}
	return nil
}

// validHostPort reports whether addr is host:port with both parts set
// and a port number peers can dial.
func validHostPort(addr string) bool {
	h, p, err := net.SplitHostPort(addr)
	if err != nil || h == "" {
		return false
	}
	n, err := strconv.Atoi(p)
	return err == nil && n > 0 && n <= 65535
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// remoteNode is a kernel's network side: its key, the protocol pump
// (called only on the kernel actor), and the protoactor-go remote.
type remoteNode struct {
	cfg  RemoteConfig
	id   *identity.Identity
	pump *transport.Pump
	rem  *remote.Remote
	sys  *actor.ActorSystem // the kernel's, which rem is attached to
	// addr is where peers reach the kernel (the listener's address).
	addr string
	// stopTick stops the pending remoteTick timer; ticking is false once
	// the kernel actor stops re-arming it.
	stopTick func() bool
	// stopAck stops the pending ackTick timer (armAck); nil when none is
	// pending.
	stopAck func() bool
	// wait is the give-up clock (remote_giveup.go).
	wait giveUpClock
	// disp is the kernel actor's goroutine (dispatcher): nil on
	// protoactor-go's default dispatcher.
	disp *transport.Dispatcher
}

// remoteTick is the kernel actor's resend and give-up timer message.
type remoteTick struct{}

func (*remoteTick) kernelMessage() {}

// ackTick ends the wait of the acks the pump holds (RemoteConfig.AckDelay).
type ackTick struct{}

func (*ackTick) kernelMessage() {}

// loadIdentity finds the kernel's key: KeyPath, or "<DBPath>.key", or a
// fresh one in memory.
func loadIdentity(cfg *Config) (*identity.Identity, error) {
	path := cfg.Remote.KeyPath
	if path == "" && cfg.DBPath != "" {
		path = identity.KeyPath(cfg.DBPath)
	}
	if path == "" {
		return identity.Generate(rand.Reader)
	}
	id, _, err := identity.LoadOrCreate(path, rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("actors: the kernel's key: %w", err)
	}
	return id, nil
}

// newRemoteNode makes the key and the pump of a kernel with a remote;
// listen starts the remote once the actor system exists.
func newRemoteNode(cfg *Config, k *kernel.Kernel, log *slog.Logger) (*remoteNode, error) {
	id, err := loadIdentity(cfg)
	if err != nil {
		return nil, err
	}
	n := &remoteNode{cfg: *cfg.Remote, id: id}
	// A remote the kernel deleted (the peer refused our redemption and
	// never took up the link) leaves nothing here either: OnForget runs
	// on the kernel actor, within Apply, as the clock's other uses do.
	n.pump, err = transport.NewPump(transport.PumpConfig{Identity: id, Kernel: k,
		InsecureLoopback: cfg.Remote.InsecureLoopback, MaxIntroduced: cfg.Remote.MaxIntroduced, Logger: log,
		OnForget: n.wait.forget, HoldAcks: !cfg.Remote.acksAlone})
	if err != nil {
		return nil, err
	}
	return n, nil
}

// listen attaches protoactor-go remote to sys and starts listening.
func (n *remoteNode) listen(sys *actor.ActorSystem) error {
	rem, err := transport.Listen(sys, n.cfg.Host, n.cfg.Port, n.cfg.Advertise, n.pump)
	if err != nil {
		return fmt.Errorf("actors: Config.Remote: %w", err)
	}
	n.rem, n.sys = rem, sys
	n.addr = sys.ProcessRegistry.Address
	return nil
}

// dispatcher is what the kernel actor of a kernel with a remote runs on:
// a goroutine of its own (transport.Dispatcher), as a transport.Node's
// link does, so the stack its cranks and frames grow is kept from one
// wake of its mailbox to the next; protoactor-go's default starts a new
// goroutine, with a small stack, at each. Stop it once the kernel actor
// has stopped (stopDispatcher).
func (n *remoteNode) dispatcher() []actor.PropsOption {
	if n.cfg.defaultDispatcher {
		return nil
	}
	n.disp = transport.NewDispatcher()
	return []actor.PropsOption{actor.WithDispatcher(n.disp)}
}

// stopDispatcher ends the kernel actor's goroutine, if it has one.
func (n *remoteNode) stopDispatcher() {
	if n != nil && n.disp != nil {
		n.disp.Stop()
	}
}

// release shuts the remote down (listener, streams), within ctx.
func (n *remoteNode) release(ctx context.Context) error {
	if n == nil || n.rem == nil {
		return nil
	}
	return transport.Release(ctx, n.sys, n.rem, n.pump.Peers())
}

// ---- on the kernel actor ----

// remoteStarted arms the first tick and pins the kernel's remotes.
func (ka *kernelActor) remoteStarted() {
	ka.rem.pump.RefreshPins()
	ka.rem.wait.seed(ka.k)
	ka.armRemoteTick()
}

func (ka *kernelActor) armRemoteTick() {
	self, sys := ka.actx.Self(), ka.actx.ActorSystem()
	ka.rem.stopTick = ka.cfg.Clock.AfterFunc(ka.rem.cfg.ResendEvery, func() { sys.Root.Send(self, &remoteTick{}) })
}

// remoteFrame applies a peer's frame, between cranks: its ack and its
// message are units of their own (transport.Pump.Apply), and the work
// the message queued runs in the cranks that kick starts.
func (ka *kernelActor) remoteFrame(m *wrapperspb.BytesValue) {
	if ka.broken != nil || ka.stopping() {
		return // the peer sends it again; a stopping kernel takes nothing new
	}
	if ka.rem.cfg.tapIn != nil {
		ka.rem.cfg.tapIn(m)
	}
	out := ka.rem.pump.Apply(ka.ctx, m, transport.Authenticated(ka.actx))
	// The frame's units are audited as a crank's are: a peer's message
	// that broke an invariant stops the kernel at that frame, before its
	// outputs reach anyone.
	if ka.auditing() && !ka.auditCrank() {
		return
	}
	ka.release(out)
	ka.kick()
}

// remoteTick starts a resend round and gives up on the remotes that
// waited too long, then arms the next tick.
func (ka *kernelActor) remoteTick() {
	if ka.broken != nil || ka.stopping() {
		return // no next tick: the kernel is done
	}
	ka.rem.pump.Resend()
	due := ka.overdue(ka.cfg.Clock.Now())
	for _, r := range due {
		ka.log.Warn().Str("remote", string(r)).Stringer("after", ka.rem.cfg.GiveUpAfter).Msg("no ack from a peer kernel for too long: giving up on it")
		out, err := ka.k.GiveUpRemote(ka.ctx, r)
		ka.release(out)
		if err != nil {
			ka.log.Error().Str("remote", string(r)).Err(err).Msg("giving up on a peer kernel failed")
		}
	}
	if len(due) > 0 {
		ka.rem.pump.RefreshPins()
		ka.kick() // the rejections' notifies run in cranks
	}
	ka.armRemoteTick()
}

// remoteSend puts on the wire what the kernel lets go, after the message
// in hand: every commit or flush that message made is behind it. An ack
// with no message to ride on is held (transport.PumpConfig.HoldAcks):
// the next message to that peer carries it, or ackTick sends it alone
// once AckDelay has passed.
func (ka *kernelActor) remoteSend() {
	if ka.broken != nil || ka.st.InUnit() {
		return
	}
	ka.rem.pump.Send(ka.sendFrame)
	ka.armAck()
}

// armAck starts the AckDelay timer if the pump holds an ack and none is
// pending: one timer covers every ack held until it fires, so an ack
// waits AckDelay at most, and less if it was held after the timer began.
// It is the kernel's Clock's, so a test decides when it fires.
func (ka *kernelActor) armAck() {
	if ka.rem.stopAck != nil || !ka.rem.pump.HoldsAcks() || ka.stopping() {
		return
	}
	self, sys := ka.actx.Self(), ka.actx.ActorSystem()
	ka.rem.stopAck = ka.cfg.Clock.AfterFunc(ka.rem.cfg.AckDelay, func() { sys.Root.Send(self, &ackTick{}) })
}

// ackTick sends the held acks that found no message to ride on, each
// alone. The pump reads each ack from RemoteAckable now, so it covers what
// was flushed since it was held, and never more.
func (ka *kernelActor) ackTick() {
	ka.rem.stopAck = nil
	if ka.broken != nil || ka.stopping() || ka.st.InUnit() {
		return // a stopping kernel's peer resends, and the next start acks
	}
	ka.rem.pump.SendAcks(ka.sendFrame)
}

// sendFrame sends one frame from the kernel actor.
func (ka *kernelActor) sendFrame(to *actor.PID, f *wrapperspb.BytesValue) {
	if ka.rem.cfg.tapOut != nil {
		ka.rem.cfg.tapOut(to, f)
	}
	ka.actx.Send(to, f)
}

// remoteStopped stops the timers (the kernel actor is stopping).
func (ka *kernelActor) remoteStopped() {
	if ka.rem == nil {
		return
	}
	if ka.rem.stopTick != nil {
		ka.rem.stopTick()
	}
	if ka.rem.stopAck != nil {
		ka.rem.stopAck()
		ka.rem.stopAck = nil
	}
}

// remoteSlog is where the pump logs: the host's slog, or its zerolog
// through the bridge.
func remoteSlog(cfg Config) *slog.Logger {
	if cfg.Slog != nil {
		return cfg.Slog.With("component", "remote")
	}
	return slogToZerolog(cfg.Logger.With().Str("component", "remote").Logger())
}
