package transport

import (
	"context"
	"errors"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/remote/identity"
)

// Introductions on the wire (docs/remote.md, "Introductions"). Anyone
// holding an OCAP URL may redeem it, also a kernel the issuer never met,
// so the TLS server of a node that takes introductions accepts any client
// that proves it holds the key its certificate names (pins.accept), and
// the pump decides, frame by frame, what such a key may do: exactly one
// thing, introduce itself with the first message of its link, a redeem
// of a live URL that says where it listens (kernel.IntroduceRemote has
// the rules). Everything else from a key that is no remote's is dropped
// with a log line, and changes nothing. The sender of every frame stays
// the one the handshake authenticated (Apply): a stranger cannot speak
// for a remote.

// introduce handles frame f of from, a peer the kernel has no remote
// for: it lets the kernel introduce the peer if f may do that, and
// returns the outputs of the introducing unit, or drops f.
func (p *Pump) introduce(ctx context.Context, from string, f Frame) []kernel.Output {
	peer := identity.PeerID(from).Short()
	switch {
	case p.maxIntro < 0:
		p.log.Warn("dropping a frame from an unknown peer: this kernel takes no introductions", "peer", peer)
		return nil
	case f.Seq == 0:
		p.log.Warn("dropping an ack from an unknown peer: only a redeem may introduce a peer", "peer", peer)
		return nil
	case f.Ack != 0:
		// It cannot have applied messages of a link that does not exist.
		p.log.Warn("dropping a frame from an unknown peer that acks messages it was never sent", "peer", peer, "ack", f.Ack)
		return nil
	}
	r, out, err := p.k.IntroduceRemote(ctx, from, f.Seq, f.Msg, p.maxIntro)
	if err != nil {
		var rr *kernel.RedeemRefused
		if errors.As(err, &rr) {
			// The refusals a legitimate redeemer meets (a revoked URL, a
			// full issuer): answered, statelessly (refusal.go).
			p.log.Warn("refusing a redeem from an unknown peer; answering with a refusal", "peer", peer, "reason", rr.Refusal.Reason, "err", err)
			p.queueRefusal(from, rr)
			return out
		}
		p.log.Warn("dropping a frame from an unknown peer: it does not introduce it", "peer", peer, "seq", f.Seq, "err", err)
		return out
	}
	p.log.Info("introduced a peer that redeemed one of this kernel's URLs", "peer", peer, "remote", r)
	// INVARIANT: the new remote's key is pinned for its address before
	// the answer is dialled (the owner's next Send).
	p.RefreshPins()
	return out
}
