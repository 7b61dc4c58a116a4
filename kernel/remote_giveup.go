package kernel

import (
	"context"
	"errors"
	"fmt"

	"github.com/ocapgo/kernel-actors/persistence"
)

// Giving up on a peer is to a remote what termination is to a vat
// (invariant 9, applied to an endpoint that is a kernel): every promise
// it decides is rejected, with PEER_UNREACHABLE, every object it owns is
// orphaned (later sends splat OBJECT_DELETED), its c-list and its outbox
// are emptied, and nothing more is taken from it. Until then a peer that
// cannot be reached costs only waiting: its messages stay in the outbox,
// and the host sees how many (RemoteInfo.Pending). When to give up is the
// host's (or its transport's) decision: the kernel has no clock.

// CodePeerUnreachable is the code of ErrPeerUnreachable.
const CodePeerUnreachable Code = "PEER_UNREACHABLE"

// ErrPeerUnreachable: the promise was decided by a peer kernel that the
// host gave up on (GiveUpRemote): its answer will never come. Like every
// code, its text names no kref, remote ref or remote id (invariant 7).
var ErrPeerUnreachable = &Error{Code: CodePeerUnreachable, Message: "The peer kernel that decides this promise is unreachable"}

// ErrRemoteGivenUp is returned for a message or an ack from a remote the
// host gave up on: it is refused, changing nothing.
var ErrRemoteGivenUp = errors.New("kernel: remote was given up")

// GiveUpRemote gives up on remote, as one unit of work: the promises it
// decides are rejected with ErrPeerUnreachable (the host hears at once of
// those it awaits), the objects it owns are orphaned, the references it
// held are released, and its outbox is dropped. It cannot be undone; a
// peer that comes back must be introduced again. Giving up twice does
// nothing the second time.
func (k *Kernel) GiveUpRemote(ctx context.Context, remote RemoteID) ([]Output, error) {
	row, ok := k.st.Remote(string(remote))
	if !ok {
		return nil, ErrUnknownRemote
	}
	if row.State == persistence.RemoteGivenUp {
		return nil, nil
	}
	k.log.Warn().Str("remote", string(remote)).Str("peer", row.PeerID).Uint64("pending", row.NextSend-1-row.Acked).Msg("giving up on a peer kernel")
	return k.hostUnit(ctx, func() error {
		k.giveUpRemoteLocked(remote)
		return nil
	})
}

func (k *Kernel) giveUpRemoteLocked(remote RemoteID) {
	ep := VatID(remote)
	row := k.mustRemote(remote)
	row.State = persistence.RemoteGivenUp
	// INVARIANT: the outbox is Acked < seq < NextSend; dropping it all
	// moves Acked to the end. Nothing in it will ever be sent.
	for seq := row.Acked + 1; seq < row.NextSend; seq++ {
		k.st.DeleteOutboxMessage(string(remote), seq)
	}
	row.Acked = row.NextSend - 1
	k.st.PutRemote(string(remote), row)
	// It will never name anything again: what it might have named goes.
	k.forgetRetired(remote, row.NextSend)
	k.forgetSent(remote, row.NextSend)
	k.forgetWaiting(remote) // its host's wait ends here
	reject := rejection(ErrPeerUnreachable)
	for _, s := range k.st.CListKRefs(string(remote)) {
		kref := KRef(s)
		e, _ := k.st.CList(string(remote), s)
		info := storedVRefInfo(VRef(e.VRef))
		switch {
		case kref.IsPromise():
			p := k.mustPromise(kref)
			k.unsubscribe(ep, kref)
			k.deleteCListEntry(ep, kref)
			// INVARIANT 8: a promise only the lost peer could settle is
			// settled by the kernel, on its behalf.
			if p.State == persistence.PromiseUnresolved && p.Decider == string(remote) {
				k.settle(kref, true, reject, "", true)
			}
		case info.export:
			// Its own objects: orphaned, as a terminated vat's exports are.
			k.orphanObject(ep, kref)
		default:
			// Our objects it held: released.
			k.deleteCListEntry(ep, kref)
		}
	}
	// After the walk, which deleted every entry: a provisional gone ref
	// is forgotten with the rest.
	k.forgetGone(remote, row.NextSend)
	// Promises it decides that it no longer held cannot exist (the
	// decider holds what it decides, the auditor checks), so the c-list
	// walk settled them all.
}

// checkRemoteTakes refuses a message or an ack from a remote that is gone.
func (k *Kernel) checkRemoteTakes(remote RemoteID, row persistence.RemoteRow) error {
	if row.State == persistence.RemoteGivenUp {
		return fmt.Errorf("%w: %s", ErrRemoteGivenUp, remote)
	}
	return nil
}
