package kernel

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ocapgo/kernel-actors/remote/wire"
)

// Introductions (docs/remote.md, "Introductions"): anyone who learns an
// OCAP URL may redeem it, including a kernel the issuer has never met.
// The redeemer knows the issuer from the URL (its key and address), so
// RedeemURL adds the issuer as a remote on its own. The issuer learns of
// the redeemer from the redeem itself: the transport authenticated the
// sender's key (mutual TLS), and the redeem names where the sender
// listens (wire.Message.Reply). IntroduceRemote is the issuer's half:
// it makes the sender a remote and applies the redeem, in one unit.
//
// A stranger gets exactly that one thing. The rules, each checked before
// the unit starts, so a refusal changes nothing and leaves no trace in
// the store:
//
//   - the message is the first of the link (seq 1, known 0): the
//     redeemer's new remote's first message, and nothing else can come
//     from a kernel that does not know us yet;
//   - it is a redeem, with a reply address, of an oid the sturdy-ref
//     table holds now: a stranger who holds no live URL creates nothing
//     (the store is not anyone's to fill by guessing). Such a redeem is
//     answered with a stateless refusal (RedeemRefused, sent by the
//     transport; remote_refusal.go), never with a link: a link is state;
//   - the reply address is neither this kernel's own nor that of a
//     remote it has: a peer that shows up at a known peer's address with
//     another key is a changed key, which is refused as before (a
//     remote's key never changes; the host may introduce it again);
//   - fewer than the limit (RemoteConfig.MaxIntroduced in the runtime)
//     remotes were introduced this way before.
//
// Every remote introduced this way is marked in the meta table
// (metaIntroducedPrefix + its id, the peer id as the value), which is
// what the limit counts: introductions made, not remotes alive, so a
// stream of strangers given up on one after another cannot cycle
// through the limit. A remote the host adds (AddRemote) is not counted.

// metaIntroducedPrefix marks a remote the kernel added because a
// stranger redeemed one of its URLs: metaIntroducedPrefix+"rN" -> peer id.
const metaIntroducedPrefix = "ocap.introduced."

// DefaultMaxIntroduced is the limit a runtime uses when its
// configuration sets none: how many remotes a kernel adds from
// redemptions by kernels it never met.
const DefaultMaxIntroduced = 64

// ErrIntroductionRefused is returned (wrapped, with the reason) by
// IntroduceRemote when the first message of a peer this kernel does not
// know may not introduce it. Nothing was changed. It never reaches a
// vat or a promise.
var ErrIntroductionRefused = errors.New("kernel: introduction refused")

// Introduced counts the remotes this kernel added by introduction
// (IntroduceRemote), which the limit is checked against.
func (k *Kernel) Introduced() int {
	n := 0
	for _, key := range k.st.MetaKeys() {
		if strings.HasPrefix(key, metaIntroducedPrefix) {
			n++
		}
	}
	return n
}

// IntroduceRemote applies message seq (encoded as the sender's outbox
// holds it) of peerID, a peer this kernel has no remote for, whose key
// the transport authenticated: if the message is a redeem that may
// introduce the peer (see the rules above), the peer becomes a remote,
// reached at the redeem's reply address and pinned to peerID, and the
// redeem is applied as ApplyRemote applies it (the answer goes to the
// new remote's outbox, Applied becomes 1), all in one unit. limit is
// how many introduced remotes the kernel may have; a negative limit
// refuses every introduction. Any refusal is ErrIntroductionRefused
// wrapping the reason (ErrOcapURLUnknown for an oid the table does not
// hold and ErrIntroductionLimit past the limit, each inside a
// *RedeemRefused whose Refusal the transport sends back; ErrRemoteProtocol for a malformed message, ErrBadConfig for a
// malformed peer id), with nothing changed. One unit of work.
func (k *Kernel) IntroduceRemote(ctx context.Context, peerID string, seq uint64, encoded string, limit int) (RemoteID, []Output, error) {
	msg, err := k.checkIntroduction(peerID, seq, encoded, limit)
	if err != nil {
		return "", nil, fmt.Errorf("%w: %w", ErrIntroductionRefused, err)
	}
	var id RemoteID
	out, err := k.hostUnit(ctx, func() error {
		id = k.remoteForPeerLocked(peerID, msg.Reply)
		// As ApplyRemote's unit: the redeem and Applied commit together.
		// A result that is not a fresh promise of the peer's fails here,
		// and the abort takes the new remote with it.
		if err := k.applyRemoteLocked(id, msg); err != nil {
			return fmt.Errorf("%w: message %d from a new peer: %w", ErrIntroductionRefused, seq, err)
		}
		row := k.mustRemote(id)
		// The remote is new, so its committed Applied is 0: the ack of
		// this message waits for the unit's flush (RemoteAckable).
		k.noteApplied(id, row.Applied)
		row.Applied = seq
		k.st.PutRemote(string(id), row)
		// INVARIANT: every introduced remote is marked in the unit that
		// adds it, so the limit counts it from that commit on.
		k.st.SetMeta(metaIntroducedPrefix+string(id), peerID)
		return nil
	})
	if err != nil {
		return "", nil, err
	}
	k.log.Info().Str("remote", string(id)).Str("peer", shortPeer(peerID)).Str("address", msg.Reply).
		Msg("a kernel this one never met redeemed one of its OCAP URLs: introduced as a remote")
	return id, out, nil
}

// checkIntroduction checks the rules of an introduction (above) and
// returns the decoded redeem. It changes nothing.
func (k *Kernel) checkIntroduction(peerID string, seq uint64, encoded string, limit int) (wire.Message, error) {
	if err := checkPeerID(peerID); err != nil {
		return wire.Message{}, err
	}
	if id, ok := k.RemoteByPeer(peerID); ok {
		// The caller's mistake: a known peer's messages go to ApplyRemote.
		return wire.Message{}, fmt.Errorf("peer %s is remote %s already", shortPeer(peerID), id)
	}
	local, localAddr, ok := k.LocalPeer()
	if !ok {
		return wire.Message{}, ErrNoLocalPeer
	}
	if local == peerID {
		return wire.Message{}, fmt.Errorf("peer %s is this kernel's own id", shortPeer(peerID))
	}
	if limit < 0 {
		return wire.Message{}, errors.New("this kernel takes no introductions")
	}
	if seq != 1 {
		return wire.Message{}, fmt.Errorf("message %d: only a peer's first message may introduce it", seq)
	}
	msg, err := wire.Decode(encoded)
	if err != nil {
		return wire.Message{}, fmt.Errorf("%w: %w", ErrRemoteProtocol, err)
	}
	switch {
	case msg.Kind != wire.KindRedeem:
		return wire.Message{}, fmt.Errorf("a %s message: only a redeem may introduce a peer", msg.Kind)
	case msg.Known != 0:
		// The peer cannot have applied messages of a link that does not
		// exist yet.
		return wire.Message{}, fmt.Errorf("%w: the first message says it knows %d of ours", ErrRemoteProtocol, msg.Known)
	case msg.Reply == "":
		return wire.Message{}, errors.New("the redeem names no reply address")
	case msg.Reply == localAddr:
		return wire.Message{}, fmt.Errorf("the reply address %s is this kernel's own", msg.Reply)
	}
	if id, ok := k.remoteAt(msg.Reply); ok {
		// INVARIANT: a remote's key never changes: another key at a known
		// peer's address is not that peer (docs/remote.md, "Identity").
		return wire.Message{}, fmt.Errorf("the reply address %s is remote %s's, whose key is another: a changed key is refused", msg.Reply, id)
	}
	// Counted after the cheap checks: a stranger's garbage costs no scan.
	// The two refusals below are the only ones answered (RedeemRefused,
	// remote_refusal.go): the redeem passed every other rule, so it is a
	// well-formed first message of a kernel that holds the key it
	// authenticated with, and the answer tells it no more than silence
	// would (a live oid would have been taken).
	if n := k.Introduced(); n >= limit {
		return wire.Message{}, refused(msg, wire.RefusedLimit, fmt.Errorf("%w: the limit of %d introduced remotes is reached", ErrIntroductionLimit, limit))
	}
	if _, ok := k.st.SturdyRef(msg.OID); !ok {
		// INVARIANT: a stranger who holds no live URL creates nothing.
		return wire.Message{}, refused(msg, wire.RefusedUnknownOID, ErrOcapURLUnknown)
	}
	return msg, nil
}

// remoteAt finds a remote (given up or not) whose address is addr.
func (k *Kernel) remoteAt(addr string) (RemoteID, bool) {
	for _, id := range k.st.RemoteIDs() {
		if row, _ := k.st.Remote(id); row.Address == addr {
			return RemoteID(id), true
		}
	}
	return "", false
}

// shortPeer is how log lines name a peer id: enough to tell peers apart.
func shortPeer(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// checkIntroducedMarks is the auditor's check of the introduction marks:
// each names a remote that exists, with the peer id the mark holds.
func (a *auditor) checkIntroducedMarks() {
	for _, key := range a.st.MetaKeys() {
		id, ok := strings.CutPrefix(key, metaIntroducedPrefix)
		if !ok {
			continue
		}
		peer, _ := a.st.Meta(key)
		row, ok := a.st.Remote(id)
		switch {
		case !ok:
			a.problem("introduction mark of %s: no such remote", id)
		case row.PeerID != peer:
			a.problem("introduction mark of %s: peer %s, but the remote is %s", id, shortPeer(peer), shortPeer(row.PeerID))
		}
	}
}
