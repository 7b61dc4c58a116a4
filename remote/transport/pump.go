package transport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/remote/identity"
)

// Pump is the protocol side of a node, the one copy of it: it applies
// the frames peers send, sends each peer what the kernel lets go, keeps
// the TLS layer's pins in step with the kernel's remotes, and says which
// remotes have waited too long for an ack. It owns no goroutine and no
// actor: whoever owns the kernel (a Node's link actor, the actors
// runtime's kernel actor) calls it from the goroutine that calls the
// kernel, between units, so that package kernel's one-caller rule holds.
//
// Apply and Send are separate calls so that the owner decides when the
// wire may move: after the units it ran are committed, and under group
// commit after their flush (the kernel's RemoteSendable and RemoteAckable
// hold back the rest anyway, so calling Send early only sends less).
type Pump struct {
	k        *kernel.Kernel
	self     string
	insecure bool
	log      *slog.Logger
	pins     *pins
	tlsOpts  []remote.ConfigOption
	// maxIntro is PumpConfig.MaxIntroduced with its default applied.
	maxIntro int
	// sent is the highest seq sent to each remote since the last resend
	// round; acked the highest ack sent to it. Both are memory only: after
	// a restart everything unacknowledged is sent again, and the peer
	// drops what it has.
	sent, acked map[kernel.RemoteID]uint64
	// dialed is every address a frame was sent to, for Release to close
	// its endpoint: a peer given up on or moved is no longer pinned, but
	// protoactor-go's writer for its old address may still be dialling.
	dialed struct {
		sync.Mutex
		addrs map[string]bool
	}
	// holdAcks (PumpConfig.HoldAcks): Send keeps an ack that has no
	// message to ride on, and held says it did; SendAcks sends them.
	holdAcks, held bool
	// refusals wait for the next Send (refusal.go); closeEndpoint
	// closes protoactor-go's connection to an address (set by Listen);
	// onForget is PumpConfig.OnForget.
	refusals      []pendingRefusal
	closeEndpoint func(addr string)
	onForget      func(kernel.RemoteID)
}

// PumpConfig configures a Pump.
type PumpConfig struct {
	// Identity is the kernel's key. Required.
	Identity *identity.Identity
	// Kernel is the kernel the pump calls; only its owner's goroutine may
	// call the pump. Required.
	Kernel *kernel.Kernel
	// InsecureLoopback: frames come over plaintext, and their From field
	// is believed (the caller checked the address is loopback).
	InsecureLoopback bool
	// MaxIntroduced is how many peers the kernel may add because they
	// redeemed one of its URLs without being its remotes (intro.go). Zero
	// means kernel.DefaultMaxIntroduced; negative takes none, and the TLS
	// server then accepts only the remotes' keys.
	MaxIntroduced int
	// Logger receives the protocol's events; nil discards them.
	Logger *slog.Logger
	// HoldAcks: Send does not send an ack alone; it keeps it for the next
	// message to that peer to carry (HoldsAcks says one is kept), and the
	// owner calls SendAcks after a short delay of its own for those that
	// found none. A round trip is then two frames, not three: the ack of
	// an answer rides on the next request. Without it, an ack that moved
	// goes alone at once.
	HoldAcks bool
	// OnForget, if set, is called (on the owner's goroutine, within
	// Apply) with each remote the kernel deleted because the peer
	// refused our redemption and never took up the link
	// (kernel.ApplyRefusal): the owner forgets what it keeps per remote.
	OnForget func(kernel.RemoteID)
}

// NewPump makes the pump of a kernel, and the protoactor-go remote
// options its node listens and dials with (RemoteOptions).
func NewPump(cfg PumpConfig) (*Pump, error) {
	if cfg.Identity == nil || cfg.Kernel == nil {
		return nil, fmt.Errorf("%w: a pump needs an identity and a kernel", ErrRefused)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	p := &Pump{k: cfg.Kernel, self: string(cfg.Identity.ID()), insecure: cfg.InsecureLoopback, log: cfg.Logger,
		pins: newPins(), sent: map[kernel.RemoteID]uint64{}, acked: map[kernel.RemoteID]uint64{},
		maxIntro: cfg.MaxIntroduced, holdAcks: cfg.HoldAcks, onForget: cfg.OnForget}
	if p.maxIntro == 0 {
		p.maxIntro = kernel.DefaultMaxIntroduced
	}
	p.pins.open = p.maxIntro > 0
	if !cfg.InsecureLoopback {
		var err error
		if p.tlsOpts, err = tlsOptions(cfg.Identity, p.pins); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// RemoteOptions are the options for remote.Configure: mutual TLS with
// the pump's pins, or none over plaintext.
func (p *Pump) RemoteOptions() []remote.ConfigOption { return p.tlsOpts }

// LinkName is the actor name a node's frames are addressed to on every
// node: a peer at address is actor.NewPID(address, LinkName). The actor
// of that name hands each *wrapperspb.BytesValue it receives to Apply.
const LinkName = linkName

// Authenticated is the PeerHeader of the envelope in hand: over TLS, the
// peer id that the stream's handshake authenticated; "" when the
// envelope has no header (plaintext, or a local send).
func Authenticated(ctx actor.Context) string {
	h := ctx.MessageHeader()
	if h == nil {
		return ""
	}
	return h.Get(PeerHeader)
}

// Apply applies one peer frame, its ack first (AckRemote, one unit),
// then its message (ApplyRemote, one unit), and returns the outputs of
// both for the owner to release. authenticated is the PeerHeader of the
// envelope (Authenticated): over TLS it is who
// sent the frame, whatever the frame says. A frame that does not decode,
// from a peer the kernel does not know, or that the kernel refuses, is
// logged and dropped: a peer cannot break this kernel by what it sends.
// A store failure is the kernel's own, and the store reports it (Err).
func (p *Pump) Apply(ctx context.Context, v *wrapperspb.BytesValue, authenticated string) []kernel.Output {
	f, err := decodeFrame(v)
	if err != nil {
		p.log.Warn("dropping a frame that does not decode", "err", err)
		return nil
	}
	from := f.From
	if !p.insecure {
		// INVARIANT: over TLS the sender is who the handshake says.
		from = authenticated
		if from == "" || (f.From != "" && f.From != from) {
			p.log.Warn("dropping a frame whose sender is not the authenticated peer", "claimed", f.From, "authenticated", from)
			return nil
		}
	}
	if f.Refusal != "" {
		// An issuer's answer to a redeem of ours it did not take
		// (refusal.go): it belongs to no link.
		return p.applyRefusal(ctx, from, f)
	}
	r, ok := p.k.RemoteByPeer(from)
	if !ok {
		// A key the kernel does not know may only introduce itself with a
		// redeem (intro.go); anything else is dropped there.
		return p.introduce(ctx, from, f)
	}
	var released []kernel.Output
	// The ack first: it may trim the outbox the next Send would otherwise
	// resend.
	if f.Ack > 0 {
		out, err := p.k.AckRemote(ctx, r, f.Ack)
		released = append(released, out...)
		if err != nil {
			p.log.Warn("refusing an ack", "remote", r, "err", err)
		}
	}
	if f.Seq == 0 {
		return released
	}
	_, out, err := p.k.ApplyRemote(ctx, r, f.Seq, f.Msg)
	released = append(released, out...)
	switch {
	case errors.Is(err, kernel.ErrRemoteGap):
		// An earlier frame was lost: the peer resends from our ack.
	case err != nil:
		p.log.Warn("refusing a message", "remote", r, "seq", f.Seq, "err", err)
	}
	return released
}

// Send sends every remote the messages RemoteSendable allows and that
// were not sent this round, each with the current RemoteAckable ack, or
// the ack alone when it moved (with HoldAcks, that ack is kept for
// SendAcks instead); send puts one frame on the wire (the owner's
// ctx.Send).
func (p *Pump) Send(send func(target *actor.PID, frame *wrapperspb.BytesValue)) {
	p.send(send, !p.holdAcks)
}

// SendAcks is Send with every ack that moved sent, alone if no message
// carries it: the end of HoldAcks' delay. The ack is read again here, so
// it covers what was flushed since.
func (p *Pump) SendAcks(send func(target *actor.PID, frame *wrapperspb.BytesValue)) {
	p.send(send, true)
}

// HoldsAcks reports that the last Send kept an ack for SendAcks.
func (p *Pump) HoldsAcks() bool { return p.held }

// send is Send and SendAcks: acksAlone says whether an ack with no
// message to ride on goes alone now.
func (p *Pump) send(send func(*actor.PID, *wrapperspb.BytesValue), acksAlone bool) {
	p.held = false
	infos := p.k.Remotes()
	// A crank may have added a remote (a vat redeeming a URL of a kernel
	// this one never met): pin it before the dial below.
	p.pinRemotes(infos)
	p.sendRefusals(send)
	for _, info := range infos {
		if info.GivenUp {
			continue // the kernel refuses its messages and has no outbox for it
		}
		p.sendTo(send, info, acksAlone)
	}
}

// sendTo is send for one remote.
func (p *Pump) sendTo(send func(*actor.PID, *wrapperspb.BytesValue), info kernel.RemoteInfo, acksAlone bool) {
	from, to, err := p.k.RemoteSendable(info.ID)
	if err != nil {
		return
	}
	// INVARIANT: the ack is RemoteAckable's, read now: only what a unit in
	// SQLite applied, whether it goes now or rides on a later frame (a
	// held ack is read again when it goes, never kept stale or early).
	ack, _ := p.k.RemoteAckable(info.ID)
	target := actor.NewPID(info.Address, linkName)
	p.noteDialed(info.Address)
	// Within a resend round each message goes once; the round's end
	// (Resend) clears sent, and everything unacked goes again.
	if s := p.sent[info.ID]; s >= from {
		from = s + 1
	}
	// INVARIANT: a message RemoteSendable allows goes now, whatever the
	// ack: holding acks never delays a message.
	for seq := from; seq <= to; seq++ {
		msg, ok := p.k.RemoteMessage(info.ID, seq)
		if !ok {
			break
		}
		send(target, encodeFrame(Frame{From: p.self, Seq: seq, Ack: ack, Msg: msg}))
		p.sent[info.ID] = seq
		p.acked[info.ID] = ack
	}
	// Nothing to send but the ack moved: an ack alone, so the peer can
	// trim its outbox without waiting for traffic this way; or, holding
	// acks, kept for the next message or SendAcks, whichever comes first.
	if ack > p.acked[info.ID] {
		if !acksAlone {
			p.held = true
			return
		}
		send(target, encodeFrame(Frame{From: p.self, Ack: ack}))
		p.acked[info.ID] = ack
	}
}

// Resend starts a new resend round: the next Send sends everything
// unacknowledged again (a dropped connection, a peer that restarted).
// The peer drops what it has applied.
func (p *Pump) Resend() {
	clear(p.sent)
	clear(p.acked)
	// A round also ages the refusals' pins (refusal.go).
	p.closeEndpoints(p.pins.ageRefusals())
}

// RefreshPins gives the TLS layer the kernel's remotes: where each peer
// is and which key it must present. Call it after anything that may have
// added a remote or moved one, before the next Send.
func (p *Pump) RefreshPins() { p.pinRemotes(p.k.Remotes()) }

// Peers lists the addresses of the remotes the pump last pinned
// (RefreshPins) and of every address it sent a frame to: the endpoints a
// Release closes. Safe from any goroutine.
func (p *Pump) Peers() []string {
	seen := map[string]bool{}
	for _, a := range p.pins.addrs() {
		seen[a] = true
	}
	p.dialed.Lock()
	for a := range p.dialed.addrs {
		seen[a] = true
	}
	p.dialed.Unlock()
	out := make([]string, 0, len(seen))
	for a := range seen {
		out = append(out, a)
	}
	return out
}

// noteDialed records addr as one a frame went to.
func (p *Pump) noteDialed(addr string) {
	p.dialed.Lock()
	defer p.dialed.Unlock()
	if p.dialed.addrs == nil {
		p.dialed.addrs = map[string]bool{}
	}
	p.dialed.addrs[addr] = true
}
