package kernel

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/remote/wire"
)

// Refusals (docs/remote.md, "Introductions"). A stranger's redeem of an
// oid the issuer does not hold, or past its introduction limit, makes no
// link: the issuer keeps no state for anyone who guesses. It answers
// such a redeem with a wire.Refusal instead, which is not a message (no
// seq, no outbox, no ack, no retry) and costs the issuer nothing but the
// frame. The redeemer's half is ApplyRefusal: it forgets the link the
// peer never took up, so the redemption settles at once and a later one
// starts a fresh link at seq 1, instead of waiting behind the refused
// redeem until the host gives up.
//
// The issuer decides who gets one in checkIntroduction, where the rules
// are: only a redeem that passes every rule of an introduction but "the
// oid is live" (or the limit) is refused this way (RedeemRefused);
// anything else from a stranger stays dropped, unanswered.
//
// The redeemer honours a refusal only where it cannot undo anything the
// peer did: the remote has never taken up the link. It acked nothing
// (Acked 0), we applied nothing of it (Applied 0), and its outbox still
// starts with the refused redeem (seq 1, the same oid). Such a peer
// knows nothing of this kernel that a later link could contradict:
// whatever this kernel wrote for it never reached a kernel that took it,
// so deleting the remote loses nothing the peer holds.

// ErrRefusalIgnored is returned (wrapped, with the reason) by
// ApplyRefusal for a refusal the kernel does not honour: the peer took
// up the link, the refusal names another redeem, or work for the remote
// is still queued. Nothing was changed.
var ErrRefusalIgnored = errors.New("kernel: refusal ignored")

// RedeemRefused is what IntroduceRemote's error wraps (within
// ErrIntroductionRefused) for a stranger's redeem that deserves a
// refusal: Refusal is the answer the transport sends the stranger's
// authenticated key, and Err the reason (ErrOcapURLUnknown, or
// ErrIntroductionLimit), which errors.Is sees through it.
type RedeemRefused struct {
	Refusal wire.Refusal
	// Reply is the address the redeem named (wire.Message.Reply): the
	// redeemer's word, which the transport dials with the redeemer's
	// authenticated key pinned, so only that key's holder reads it.
	Reply string
	Err   error
}

func (e *RedeemRefused) Error() string { return e.Err.Error() }

// Unwrap is the reason.
func (e *RedeemRefused) Unwrap() error { return e.Err }

// ErrIntroductionLimit: the kernel has introduced as many strangers as
// its limit allows (MaxIntroduced).
var ErrIntroductionLimit = errors.New("kernel: introduction limit")

// refused is the RedeemRefused of msg, the first message of a stranger.
func refused(msg wire.Message, reason wire.RefusalReason, err error) *RedeemRefused {
	return &RedeemRefused{Refusal: wire.Refusal{Seq: 1, OID: msg.OID, Reason: reason}, Reply: msg.Reply, Err: err}
}

// refusalRejection is what a refusal's reason settles the remote's
// promises with. An unknown oid is OCAP_URL_UNKNOWN, as the issuer's
// notify would have said had it known us. A limit is PEER_UNREACHABLE:
// the URL may well be good, but the issuer will not take a link with
// this kernel now, which is what that code tells a host (this peer does
// not answer us; try again later, or through a peer it knows), and
// OCAP_URL_UNKNOWN would say the URL is dead, which is not known.
func refusalRejection(reason wire.RefusalReason) *Error {
	if reason == wire.RefusedLimit {
		return ErrPeerUnreachable
	}
	return ErrOcapURLUnknown
}

// ApplyRefusal applies a refusal (its encoding, wire.Refusal) that
// remote's authenticated key sent: if remote never took up the link
// (above) and the refusal names its first outbox message, a redeem of
// that oid, then in one unit the redemption's promise and every other
// promise remote decides (sends pipelined behind the redeem) are
// rejected with the reason's code (OCAP_URL_UNKNOWN, or PEER_UNREACHABLE
// for the issuer's limit; the peer's word, ByKernel false, as its notify
// would be), the objects it owns are orphaned, what it holds of ours is
// released, and the remote is deleted with all its rows: a later
// redemption of the same issuer adds it again, as a new remote whose
// link starts at seq 1. A refusal it does not honour is
// ErrRefusalIgnored wrapping why, and changes nothing; a malformed one
// is ErrRemoteProtocol. One unit of work.
func (k *Kernel) ApplyRefusal(ctx context.Context, remote RemoteID, encoded string) ([]Output, error) {
	row, ok := k.st.Remote(string(remote))
	if !ok {
		return nil, ErrUnknownRemote
	}
	r, err := wire.DecodeRefusal(encoded)
	if err != nil {
		return nil, fmt.Errorf("%w: refusal from %s: %w", ErrRemoteProtocol, remote, err)
	}
	if err := k.checkRefusal(remote, row, r); err != nil {
		return nil, fmt.Errorf("%w: from %s: %w", ErrRefusalIgnored, remote, err)
	}
	out, err := k.hostUnit(ctx, func() error {
		k.deleteRemoteLocked(remote, refusalRejection(r.Reason))
		return nil
	})
	if err != nil {
		return nil, err
	}
	k.log.Info().Str("remote", string(remote)).Str("peer", shortPeer(row.PeerID)).Str("reason", string(r.Reason)).
		Msg("the peer kernel refused our redemption and never took up the link: the remote is forgotten")
	return out, nil
}

// checkRefusal reports why remote's refusal r may not be honoured, or
// nil. It changes nothing.
func (k *Kernel) checkRefusal(remote RemoteID, row persistence.RemoteRow, r wire.Refusal) error {
	switch {
	case row.State != persistence.RemoteActive:
		return errors.New("the remote was given up on")
	case row.Acked != 0 || row.Applied != 0:
		// INVARIANT: a peer that took up the link (acked or sent
		// anything) holds state of ours; only a link that never began is
		// forgotten.
		return fmt.Errorf("the peer took up the link (it acked %d, we applied %d of its messages)", row.Acked, row.Applied)
	case r.Seq != 1:
		return fmt.Errorf("it names message %d: only a first message is refused", r.Seq)
	case row.NextSend < 2:
		return errors.New("nothing was sent to the peer")
	}
	first, ok := k.st.OutboxMessage(string(remote), 1)
	if !ok {
		bugf("remote %s: acked 0, next_send %d, but no outbox message 1", remote, row.NextSend)
	}
	msg, err := wire.Decode(first)
	switch {
	case err != nil:
		bugf("remote %s: outbox message 1 does not decode: %v", remote, err)
	case msg.Kind != wire.KindRedeem:
		return fmt.Errorf("the first message to the peer is a %s, not a redeem", msg.Kind)
	case msg.OID != r.OID:
		// The oid is the capability: the log shows neither.
		return errors.New("it names another oid than the redeem")
	}
	// Work queued for the remote names it (a notify item, a GC action),
	// and would find no row. It runs in the next cranks; the redeemer's
	// resend of the redeem (every resend round) brings the refusal
	// again, and then the remote is quiet.
	for _, it := range k.st.QueueItems() {
		if it.Kind == persistence.QueueNotify && it.Vat == string(remote) {
			return errors.New("a notify for the remote is queued: taken at the next refusal")
		}
	}
	for _, g := range k.st.GCActions() {
		if g.Vat == string(remote) {
			return errors.New("a GC action for the remote is queued: taken at the next refusal")
		}
	}
	return nil
}

// deleteRemoteLocked deletes remote in the open unit, as
// giveUpRemoteLocked gives up on it, and then every row it has: the
// promises it decides are rejected with reject, the objects it owns
// orphaned, what it held released, its outbox, retired refs, sent
// exports, gone refs, wait note and introduction mark deleted, and its
// row. The
// caller checked that nothing queued names it (checkRefusal).
func (k *Kernel) deleteRemoteLocked(remote RemoteID, reject *Error) {
	ep := VatID(remote)
	row := k.mustRemote(remote)
	for seq := row.Acked + 1; seq < row.NextSend; seq++ {
		k.st.DeleteOutboxMessage(string(remote), seq)
	}
	k.forgetRetired(remote, row.NextSend)
	k.forgetSent(remote, row.NextSend)
	k.forgetWaiting(remote)
	if _, marked := k.st.Meta(metaIntroducedPrefix + string(remote)); marked {
		// Only a remote introduced by the peer's own redeem has one, and
		// that peer took up the link: checkRefusal let none through.
		// Deleted all the same, so no mark names a missing remote.
		k.st.DeleteMeta(metaIntroducedPrefix + string(remote))
	}
	// First the c-list, all of it, so that no settlement below can
	// queue a notify to the remote (it held every promise it was
	// subscribed to); then the promises it decided.
	var decided []KRef
	for _, s := range k.st.CListKRefs(string(remote)) {
		kref := KRef(s)
		e, _ := k.st.CList(string(remote), s)
		info := storedVRefInfo(VRef(e.VRef))
		switch {
		case kref.IsPromise():
			if p := k.mustPromise(kref); p.State == persistence.PromiseUnresolved && p.Decider == string(remote) {
				decided = append(decided, kref)
			}
			k.unsubscribe(ep, kref)
			k.deleteCListEntry(ep, kref)
		case info.export:
			k.orphanObject(ep, kref)
		default:
			k.deleteCListEntry(ep, kref)
		}
	}
	slices.Sort(decided)
	data := rejection(reject)
	for _, kpid := range decided {
		// INVARIANT 8: a promise only the forgotten peer could settle is
		// settled here, on the peer's word (its refusal), as its notify
		// would have been: ByKernel false.
		k.settle(kpid, true, data, "", false)
	}
	// Gone refs (objects of ours it held that went, remote_gone.go), as
	// at a give-up: after the walk, which deleted every entry, so a
	// provisional one goes too.
	k.forgetGone(remote, row.NextSend)
	// INVARIANT: nothing names the remote any more (the auditor's
	// checkRemoteNames: no owner, decider, subscriber, queued notify or
	// GC action), so its row can go. Its id is never reused.
	k.st.DeleteRemote(string(remote))
}
