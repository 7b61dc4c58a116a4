package kernel

import (
	"fmt"
	"strings"

	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/remote/wire"
)

// Sent exports: a peer's GC message can cross, on the link, a new export
// of the same object. The peer decides to drop an object of ours (its
// presence is unreachable there) and writes dropExports, then
// retireExports; meanwhile this kernel hands it the object again, in a
// deliver's argument or a notify's value. The peer's messages were
// written before it saw the new export, but they arrive after it was
// written, so, taken at their word, they undo it: the drop clears the
// reachable flag the export set (and the peer's next send to the object,
// which it holds again, is refused as the use of a dropped import), or
// the retire deletes the entry (and the send names a ref this kernel no
// longer gave out: a forgery), or, when the export came between the drop
// and the retire, the retire is refused because the peer "still
// reaches" the object. Any of them breaks the link.
//
// So each outbox message records, for every object of ours it names
// (ro-N in this kernel's frame), its seq as the last message that handed
// the object to the peer (the remote_sent table). A GC message of the
// peer's carries Known, the last of our messages the peer had applied
// when it wrote it: a drop or retire of an object whose last export is
// later than that did not know of the export, and is ignored. It loses
// nothing: when the peer applies the export its import is reachable
// again (a retired one comes back as a new import), and if it lets go
// again it writes a new drop, which knows. A row is forgotten once a
// message of the peer's knows its seq (every later GC message then knows
// of the export too), as a retired promise ref is (remote_retired.go).
// This is SwingSet comms' check of a GC message against the last
// message that sent the object, with the acknowledgement carried in each
// message.

// noteSent records msg, about to go to remote's outbox as seq, as the
// last export of each object of this kernel's its slots name. Slots are
// in the peer's frame: an object of ours is ro+N there.
func (k *Kernel) noteSent(remote RemoteID, seq uint64, msg *wire.Message) {
	note := func(slots []string) {
		for _, s := range slots {
			if strings.HasPrefix(s, "ro+") {
				// INVARIANT: the last message that handed the peer the
				// object is known until the peer has applied it.
				k.st.PutSentRef(string(remote), wire.FlipString(s), seq)
			}
		}
	}
	if msg.Methargs != nil {
		note(msg.Methargs.Slots)
	}
	for _, r := range msg.Resolutions {
		note(r.Data.Slots)
	}
}

// noteHostExport records a host's export of ref (ExportToRemote) as an
// export of the object to remote for the crossing check. The ref reaches
// the peer outside any message, through its host (ImportFromRemote), so
// no seq of ours orders it; the check compares a GC message's Known, so
// the question is which seq no GC message that crossed the export can
// have known.
//
// The last seq sent (NextSend-1) is not it: a peer that had applied
// every message of ours when it wrote its drop (a quiet link, the usual
// case) wrote Known = NextSend-1, and its drop, though it crossed the
// export, would be taken at its word. The next seq (NextSend) is: that
// message does not exist yet when the export is made, so every message
// the peer wrote before the export has Known below it, and so has every
// one it writes before it applies that next message. So the export is
// recorded against NextSend, and the row goes, as every row does, once
// the peer's Known covers it. What it costs: a drop the peer writes
// after its host imported the ref, but before it applied our next
// message, is ignored too, and the object is kept until the peer is
// handed it again and lets go of it then, or is given up on (nothing
// breaks: it is the safe side). What it cannot see: a drop written after
// the peer applied that next message but before its host imported the
// ref; the kernel cannot tell when a host passes a ref on, and such a
// drop is taken at its word. If the object then goes, remote_gone.go
// keeps the link; if the peer retires the ref too, the host's ref names
// nothing here any more, and a send through it reaches an orphan that
// stands in for it and splats OBJECT_DELETED (remote_lapsed.go): the
// link holds, and the peer's host hears the code.
//
// Only an export onto an entry the peer already has is recorded. A new
// entry's ref is fresh (the counters only grow): no GC message can have
// named it before the export, so nothing can cross it, and a row would
// only make the peer's first drop of it, if it came before our next
// message, be ignored for nothing.
func (k *Kernel) noteHostExport(remote RemoteID, ref string) {
	// INVARIANT: a drop written before a host's export of an object the
	// peer already held is recognised as crossing it (staleDrop).
	k.st.PutSentRef(string(remote), ref, k.mustRemote(remote).NextSend)
}

// staleDrop reports whether a GC message of remote's about ref (one of
// our objects) crossed a later export of the object: forgetSent ran
// first in the unit with the message's Known, so a row left for ref is
// a message the peer had not applied when it wrote this one.
func (k *Kernel) staleDrop(remote RemoteID, ref string) bool {
	if !k.st.HasSentRefs() {
		return false
	}
	_, ok := k.st.SentRef(string(remote), ref)
	return ok
}

// forgetSent forgets remote's sent exports that the peer had applied
// (seq <= known) when it wrote the message being applied: it, and every
// message after, knows of them.
func (k *Kernel) forgetSent(remote RemoteID, known uint64) {
	if known == 0 || !k.st.HasSentRefs() {
		return
	}
	for _, ref := range k.st.SentRefs(string(remote)) {
		seq, _ := k.st.SentRef(string(remote), ref)
		if seq > known {
			break // sorted by seq
		}
		k.st.DeleteSentRef(string(remote), ref)
	}
}

// countSent is the auditor's part: each sent export is an object ref
// this kernel allocated (ro-N), from a message that was written (seq <
// NextSend) or a host's export waiting for the next one (seq =
// NextSend), of a remote that takes messages (giving up forgets them).
// A row holds no reference: while the object is exported, the c-list
// entry holds it, and a row whose entry went since (the object was
// retired) only makes a later GC message of the ref's, which the c-list
// no longer holds, ignored as it would be anyway.
func (a *auditor) countSent() {
	for _, id := range a.st.SentRemotes() {
		row, known := a.st.Remote(id)
		for _, ref := range a.st.SentRefs(id) {
			seq, _ := a.st.SentRef(id, ref)
			from := fmt.Sprintf("sent export %s %s", id, ref)
			if r, err := wire.ParseRef(ref); err != nil || r.Promise || r.Plus {
				a.problem("%s: not a ref of an object this kernel allocated", from)
			}
			switch {
			case !known:
				a.problem("%s: remote %s has no row", from, id)
			case row.State != persistence.RemoteActive:
				a.problem("%s: remote %s was given up", from, id)
			case seq == 0 || seq > row.NextSend:
				// NextSend itself is a host's export (noteHostExport).
				a.problem("%s: message %d was never written (next_send %d)", from, seq, row.NextSend)
			}
		}
	}
}
