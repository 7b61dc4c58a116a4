package kernel

import "github.com/ocapgo/kernel-actors/remote/wire"

// Lapsed refs: an object ref this kernel once gave a peer (ro-N, below
// the remote's next_object), whose c-list entry has since gone, and that
// no gone ref (remote_gone.go) covers. A peer that follows the protocol
// names one after a host's export it could not order: our host hands
// the peer's host a ref outside any message (ExportToRemote), the peer
// applies our next message, drops and retires the ref, and we take both
// at their word (remote_sent.go cannot see that the peer's host has not
// yet taken the ref up); only then does its host call ImportFromRemote,
// and the peer's kernel, which no longer has an entry, makes a new
// presence of the ref, and sends through it. It also follows a gone
// ref forgotten once the peer applied our retireImports, if the peer's
// host takes up an old copy of the ref afterwards. Refused as a forgery,
// such a message broke the link.
//
// Why it is not a forgery: refs of ours are allocated in order per peer
// from next_object, each to be handed to that peer (krefToRRef: in a
// message, or to our host for the peer's), so every ro-N below the
// counter is a ref this kernel gave that peer, and one at or past it is
// one it never gave. Only the second is a forgery (the peer claims what
// it was never handed), and it is still refused with nothing changed.
//
// Why an orphan, not the object: the entry went, and with it the record
// of what the ref named; the object may be gone too, or alive and
// exported to the peer again under another ref. Mapping the old ref back
// to it would let a peer regain, by naming an old number, what it gave
// up, after the kernel counted it released. So a lapsed ref gets what a
// message naming a deleted object gets anywhere in the kernel: an orphan
// (an object with no owner) stands in for it, a send to it splats
// [KERNEL:OBJECT_DELETED] when its turn comes, and as an argument or a
// resolution value the receiver gets the orphan, through which every
// send splats the same way. It carries no authority: it reaches nothing.
// The peer's host hears the code; our host, whose export it was, can
// export the object again (a fresh ref), and the log says why.
//
// Why a c-list entry, not a gone row: the peer holds a presence of the
// ref (its host imported it) and will drop and retire it as any import,
// so the stand-in is entered in the peer's c-list as an import of the
// orphan, exactly what the peer believes it holds. The entry keeps the
// orphan while the peer reaches it, makes the same ref in later messages
// the same orphan (identity), is counted by the auditor with every other
// entry (below next_object, checkRemoteCounters), is persisted in the
// unit, goes with the peer's retireExports (and the orphan once nothing
// else names it, gc.go, with a retireImports to the peer as for any
// orphan it imports), is released on give-up (giveUpRemoteLocked) and
// deleted with the remote (deleteRemoteLocked), and is undone with the
// unit if the message is refused for another reason. A gone row has a
// window (until the peer applies our retireImports) because there the
// peer forgets the ref on its own; here nothing would end that window
// but the peer's own GC, which the c-list already follows.
//
// What it costs: a peer that breaks the protocol can make us keep one
// orphan per ref it was ever given, while it says it holds them, which
// is what it could make us keep legitimately by not dropping them. Old
// promise refs are not covered: a promise ref reaches a peer only in a
// message, which remote_retired.go orders, and is still refused.

// lapsedRef maps remote's object ref r (in this kernel's frame, a "-"
// object ref), which neither the c-list, the retired refs nor the gone
// refs hold, to a new orphan entered in the c-list under it, if this
// kernel once allocated it for the peer. ok is false for a ref it never
// allocated: the caller refuses it as a forgery.
func (k *Kernel) lapsedRef(remote RemoteID, ref string, r wire.Ref) (KRef, bool) {
	row := k.mustRemote(remote)
	// INVARIANT: only a ref this kernel allocated for the peer (N below
	// next_object) passes; one it never allocated is a forgery.
	if r.Plus || r.Promise || r.N >= row.NextObject {
		return "", false
	}
	orphan := k.newObject("")
	// INVARIANT 10: the entry is the peer's reachable import of the
	// orphan, which keeps it while the peer holds the ref; nothing else
	// names it yet.
	k.addCListEntry(VatID(remote), orphan, VRef(ref), true)
	k.log.Info().Str("remote", string(remote)).Str("ref", ref).Str("standIn", string(orphan)).
		Msg("the peer named an object ref it was given and had retired (a host's export taken up late?): an orphan stands in, and sends to it splat OBJECT_DELETED")
	return orphan, true
}
