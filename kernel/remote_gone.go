package kernel

import (
	"fmt"
	"slices"

	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/remote/wire"
)

// Gone objects: when an object a peer imports is retired here (its owner
// retired it, or it was an orphan nobody here reached any more), the
// crank that takes the peer's retireImport writes the peer a
// retireImports and deletes its c-list entry. The link is asynchronous:
// the peer may have written a message naming the object (a send to it,
// an argument, a resolution value) before it applied the retire, and it
// arrives after the entry went. Without the entry the ref is an unknown
// "-" ref, refused as a forgery, which breaks the link. (Between peers
// that follow the protocol the object is retired only once nothing
// reaches it, the peer's import included, so this takes a drop taken at
// its word while the peer held the object again: one that crossed a
// host's export unseen, remote_sent.go, or a third kernel's retire of an
// object both hold.)
//
// So the ref is kept apart as gone, with the seq of the retireImports,
// as a settled promise's ref is kept as retired (remote_retired.go), and
// forgotten the same way: at the first message of the peer whose Known
// covers that seq (messages arrive in the order written, so none after
// it can name the ref; refs are never reused), and when the kernel gives
// up on the peer. A ref that was never ours is still a forgery. One whose
// retire the peer had applied when it wrote the message is no longer
// gone but lapsed (remote_lapsed.go): the peer's host took up a copy of
// it late, and it gets a stand-in of its own, entered in the c-list.
//
// A message that names a gone ref gets what the object's death means
// anywhere else in the kernel. A kernel object whose owner is gone is
// kept, with no owner, as long as something names it (a terminated or
// upgraded vat's exports, abandonExports, a peer given up on): messages
// that name it are delivered with it, and a send to it splats
// [KERNEL:OBJECT_DELETED] (router.go). The gone object's own row cannot
// serve (retireObject deleted it, and nothing may count a reference to a
// deleted row), so the first message that names the ref makes an orphan
// (owner "") to stand in for it, kept in the row and counted as a
// reference by it: the same ref in later messages of the window is the
// same orphan, so identity holds. A send to it is then rejected with
// OBJECT_DELETED when its turn comes, as any send to an orphan is; as an
// argument or a value, the receiver gets the orphan, through which every
// send splats the same way. The orphan goes once nothing names it, as
// every orphan does (gc.go). This is SwingSet comms' retirement on
// acknowledgement, as for promises, applied to retired imports.

// noteGone keeps the refs of a retireImports about to go to remote as
// seq (in this kernel's frame, ro-N: objects this kernel allocated for
// the peer, whose entries the crank deletes). A ref a message already
// named while the retire was pending keeps its stand-in (deletedImport).
func (k *Kernel) noteGone(remote RemoteID, seq uint64, vrefs []VRef) {
	for _, v := range vrefs {
		r, _ := k.st.GoneRef(string(remote), string(v))
		r.Seq = seq
		// INVARIANT: a ref this kernel retired is recognised until the
		// peer has applied the retire (Known >= seq).
		k.st.PutGoneRef(string(remote), string(v), r)
	}
}

// goneRef maps a gone ref of remote, named by a message of the peer's,
// to its stand-in orphan. ok is false when ref is not gone.
func (k *Kernel) goneRef(remote RemoteID, ref string) (KRef, bool) {
	if !k.st.HasGoneRefs() {
		return "", false // nearly every unit: nothing retired anywhere
	}
	r, ok := k.st.GoneRef(string(remote), ref)
	if !ok {
		return "", false
	}
	return k.standIn(remote, ref, r), true
}

// deletedImport maps remote's ref, still in its c-list but naming an
// object retireObject deleted (its retireImport waits in the GC set), to
// the stand-in a moment later would give it: the message arrived before
// the crank that writes the retireImports, which is the same crossing
// seen a moment earlier. Its row is provisional until that crank gives
// it the retire's seq (noteGone); until then NextSend bounds the seq the
// retire will get, and forgetGone leaves the row alone.
func (k *Kernel) deletedImport(remote RemoteID, ref string) KRef {
	r, ok := k.st.GoneRef(string(remote), ref)
	if !ok {
		r.Seq = k.mustRemote(remote).NextSend
	}
	return k.standIn(remote, ref, r)
}

// standIn returns the orphan that stands in for gone row r of remote's
// ref, making it at the first use, counted as the row's reference.
func (k *Kernel) standIn(remote RemoteID, ref string, r persistence.GoneRow) KRef {
	if r.KRef == "" {
		orphan := k.newObject("")
		// INVARIANT 10: the row is a reachable reference to its orphan,
		// which keeps it (an unreachable orphan is deleted) while the
		// peer may name the ref again; the auditor counts it.
		k.incRef(orphan, true)
		r.KRef = string(orphan)
	}
	k.st.PutGoneRef(string(remote), ref, r)
	return KRef(r.KRef)
}

// forgetGone forgets remote's gone refs whose retireImports the peer had
// applied (seq <= known), releasing their orphans: a message written with
// that knowledge, and every later one, cannot name them. A provisional
// row (its ref still in the c-list, its retire not yet written) stays.
func (k *Kernel) forgetGone(remote RemoteID, known uint64) {
	if known == 0 || !k.st.HasGoneRefs() {
		return
	}
	for _, ref := range k.st.GoneRefs(string(remote)) {
		r, _ := k.st.GoneRef(string(remote), ref)
		if r.Seq > known {
			break // sorted by seq
		}
		if _, pending := k.st.KRefOf(string(remote), ref); pending {
			continue
		}
		k.dropGone(remote, ref)
	}
}

// dropGone forgets one gone ref of remote and releases its stand-in: the
// peer can no longer name it (forgetGone), or it retired the ref itself
// (a retireExports of a provisional row's ref, which no retireImports
// will follow), or the kernel gave up on it.
func (k *Kernel) dropGone(remote RemoteID, ref string) {
	r, ok := k.st.GoneRef(string(remote), ref)
	if !ok {
		return
	}
	k.st.DeleteGoneRef(string(remote), ref)
	if r.KRef != "" {
		k.decRef(KRef(r.KRef), true)
	}
}

// countGone is the auditor's part: each gone ref is an object ref this
// kernel allocated for the remote (ro-N, below its counter), is no longer
// in the remote's c-list (the two would name one ref twice) unless it is
// provisional (its object deleted, its retireImport pending, its seq at
// most NextSend), comes otherwise from a retireImports that was written
// (seq < NextSend, and, while it is still in the outbox, one that names
// the ref), and belongs to a remote that takes messages (giving up
// forgets them). Its stand-in, if any, counts
// one reachable reference, and is an orphan: nothing may send through it
// to an owner.
func (a *auditor) countGone() {
	for _, id := range a.st.GoneRemotes() {
		row, known := a.st.Remote(id)
		for _, ref := range a.st.GoneRefs(id) {
			r, _ := a.st.GoneRef(id, ref)
			from := fmt.Sprintf("gone ref %s %s", id, ref)
			wr, err := wire.ParseRef(ref)
			if err != nil || wr.Promise || wr.Plus {
				a.problem("%s: not a ref of an object this kernel allocated", from)
				continue
			}
			kref, inCList := a.st.KRefOf(id, ref)
			if inCList {
				// Provisional (deletedImport): the object is deleted and
				// the retireImport that will write the retire is pending.
				_, exists := a.st.Object(kref)
				pending := slices.Contains(a.st.GCActions(), persistence.GCActionKey{Vat: id, Kind: persistence.GCRetireImport, KRef: kref})
				if exists || !pending {
					a.problem("%s: still in the c-list too, and no retireImport of it is pending", from)
				}
			}
			if r.KRef != "" {
				from += "=" + r.KRef
				if !KRef(r.KRef).IsObject() {
					a.problem("%s: its stand-in is not an object", from)
				} else {
					a.ref(KRef(r.KRef), true, from)
					if o, ok := a.st.Object(r.KRef); ok && o.Owner != "" {
						a.problem("%s: its stand-in has owner %s, not none", from, o.Owner)
					}
				}
			}
			switch {
			case !known:
				a.problem("%s: remote %s has no row", from, id)
				continue
			case row.State != persistence.RemoteActive:
				a.problem("%s: remote %s was given up", from, id)
			case inCList && (r.Seq == 0 || r.Seq > row.NextSend):
				a.problem("%s: a provisional seq %d past next_send %d", from, r.Seq, row.NextSend)
			case !inCList && (r.Seq == 0 || r.Seq >= row.NextSend):
				a.problem("%s: retireImports %d was never written (next_send %d)", from, r.Seq, row.NextSend)
			}
			if wr.N >= row.NextObject {
				a.problem("%s: beyond next_object %d", from, row.NextObject)
			}
			if !inCList {
				a.checkGoneMessage(id, ref, r.Seq, from)
			}
		}
	}
}

// checkGoneMessage checks, while the retireImports that retired ref is
// still in remote's outbox, that it is one and names ref (in the peer's
// frame). An acknowledged one is trimmed, and nothing is left to check.
func (a *auditor) checkGoneMessage(remote, ref string, seq uint64, from string) {
	enc, ok := a.st.OutboxMessage(remote, seq)
	if !ok {
		return
	}
	m, err := wire.Decode(enc)
	if err != nil {
		return // checkOutbox reports it
	}
	if m.Kind != wire.KindRetireImports || !slices.Contains(m.Refs, wire.FlipString(ref)) {
		a.problem("%s: message %d is not a retireImports of it", from, seq)
	}
}
