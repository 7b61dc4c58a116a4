package transport

import (
	"context"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/remote/identity"
)

// Refusals on the wire (docs/remote.md, "Introductions"). An issuer
// answers a stranger's redeem of an oid it does not hold, or past its
// introduction limit, with a frame that carries only a wire.Refusal
// (kernel.RedeemRefused says which redeems get one). The frame belongs
// to no link: no seq, no ack, nothing in the store, no remote, and it
// is never sent again; a refusal that is lost is made again when the
// redeemer resends its redeem, which it does every resend round until
// it hears one. So the issuer sends at most one refusal per frame it
// received, and keeps nothing of the stranger but, for a while, where
// to reach it:
//
//   - the refusal goes where the transport sends every answer: dialled
//     to the address the redeem names (its reply, the redeemer's word)
//     with the key that authenticated the redeem pinned for it, so only
//     the holder of that key reads it; anyone else at that address
//     fails the handshake before a byte of the frame goes;
//   - that pin (and the connection protoactor-go keeps to the address)
//     lasts refusalRounds resend rounds after the last refusal sent
//     there, for the dial and the handshake to finish, and at most
//     maxRefusalPins addresses are pinned at once: a new one past that
//     evicts the oldest. An evicted or aged pin's connection is closed.
//     A stranger can make the issuer dial an address it names, but only
//     as often as it sends the issuer frames over a TLS connection of
//     its own, one connection to that address at a time, for a few
//     seconds, to at most maxRefusalPins addresses;
//   - an address already pinned for another stranger's key gets no
//     refusal until that pin goes: a connection made for one key must
//     not carry another's frame.
//
// The redeemer's half is applyRefusal: a refusal from a key that is no
// remote's is dropped; one from a remote's goes to kernel.ApplyRefusal,
// which honours it only if the peer never took up the link.

const (
	// maxRefusalPins bounds the strangers' addresses pinned at once.
	maxRefusalPins = 16
	// refusalRounds is how many resend rounds a refusal's pin and
	// connection outlive the last refusal sent there: about 5 s at the
	// default ResendEvery.
	refusalRounds = 25
	// maxPendingRefusals bounds the refusals waiting for the next Send:
	// the owner calls Send after every frame it applies, so one is the
	// usual most.
	maxPendingRefusals = 16
)

// refusalPin is the key pinned for a stranger's reply address.
type refusalPin struct {
	peer   identity.PeerID
	seq    uint64 // when it was pinned or last used, for eviction
	rounds int    // resend rounds since it was last used
}

// pendingRefusal is a refusal waiting for the next Send.
type pendingRefusal struct {
	addr string
	peer identity.PeerID
	enc  string
}

// pinRefusal pins peer for a refusal to addr, or refreshes its pin, and
// returns the addresses whose pins it evicted (to be closed). ok is
// false when addr may not carry peer's refusal now: it is a remote's
// address, or pinned for another stranger's key.
func (p *pins) pinRefusal(addr string, peer identity.PeerID) (evicted []string, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, remote := p.mu.byAddr[addr]; remote {
		return nil, false
	}
	if r, pinned := p.mu.refusals[addr]; pinned && r.peer != peer {
		return nil, false
	}
	p.mu.refusalSeq++
	p.mu.refusals[addr] = refusalPin{peer: peer, seq: p.mu.refusalSeq}
	for len(p.mu.refusals) > maxRefusalPins {
		oldest, min := "", ^uint64(0)
		for a, r := range p.mu.refusals {
			if r.seq < min {
				oldest, min = a, r.seq
			}
		}
		delete(p.mu.refusals, oldest)
		evicted = append(evicted, oldest)
	}
	return evicted, true
}

// ageRefusals counts one resend round on every refusal pin and removes
// those unused for refusalRounds, returning their addresses.
func (p *pins) ageRefusals() (aged []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for a, r := range p.mu.refusals {
		if r.rounds++; r.rounds > refusalRounds {
			delete(p.mu.refusals, a)
			aged = append(aged, a)
			continue
		}
		p.mu.refusals[a] = r
	}
	return aged
}

// queueRefusal keeps rr's refusal for the next Send, to go to the
// stranger peer at the address its redeem named.
func (p *Pump) queueRefusal(peer string, rr *kernel.RedeemRefused) {
	if len(p.refusals) >= maxPendingRefusals {
		p.log.Warn("not answering a refused redeem: too many refusals wait to be sent", "peer", identity.PeerID(peer).Short())
		return
	}
	p.refusals = append(p.refusals, pendingRefusal{addr: rr.Reply, peer: identity.PeerID(peer), enc: rr.Refusal.Encode()})
}

// sendRefusals sends the refusals queued since the last Send, each once.
func (p *Pump) sendRefusals(send func(*actor.PID, *wrapperspb.BytesValue)) {
	for _, r := range p.refusals {
		evicted, ok := p.pins.pinRefusal(r.addr, r.peer)
		p.closeEndpoints(evicted)
		if !ok {
			p.log.Warn("not answering a refused redeem: its reply address is pinned for another key (a remote's, or another stranger's)", "peer", r.peer.Short(), "address", r.addr)
			continue
		}
		// INVARIANT: one refusal per frame received, never resent: the
		// redeemer's resend of its redeem is what asks again.
		send(actor.NewPID(r.addr, linkName), encodeFrame(Frame{From: p.self, Refusal: r.enc}))
	}
	clear(p.refusals)
	p.refusals = p.refusals[:0]
}

// closeEndpoints closes protoactor-go's connections to addrs (a
// refusal's pin that went), by the path Release takes.
func (p *Pump) closeEndpoints(addrs []string) {
	if p.closeEndpoint == nil {
		return
	}
	for _, a := range addrs {
		p.closeEndpoint(a)
	}
}

// applyRefusal is Apply for a frame that carries a refusal, from the
// authenticated peer from.
func (p *Pump) applyRefusal(ctx context.Context, from string, f Frame) []kernel.Output {
	peer := identity.PeerID(from).Short()
	r, ok := p.k.RemoteByPeer(from)
	if !ok {
		// A refusal answers a redeem this kernel sent, so its sender is
		// a remote: a stranger's is noise.
		p.log.Warn("dropping a refusal from a peer that is no remote", "peer", peer)
		return nil
	}
	out, err := p.k.ApplyRefusal(ctx, r, f.Refusal)
	if err != nil {
		// ErrRefusalIgnored (the peer took up the link, another redeem)
		// or a malformed refusal: nothing changed.
		p.log.Warn("ignoring a refusal", "remote", r, "peer", peer, "err", err)
		return out
	}
	p.log.Info("the peer refused our redemption and never took up the link: its remote is forgotten", "remote", r, "peer", peer)
	// The remote is gone: nothing of it is kept here either, and its
	// address is no longer pinned.
	delete(p.sent, r)
	delete(p.acked, r)
	p.RefreshPins()
	if p.onForget != nil {
		p.onForget(r)
	}
	return out
}
