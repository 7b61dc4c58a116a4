package kernel

import (
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/remote/wire"
)

// The outgoing half of a remote endpoint: what a crank does instead of a
// delivery when the work it picked is for a remote. Each turns the work
// into one wire message and appends it to the remote's outbox in the
// crank's unit, so the crank's commit and the message stand or fall
// together (Ken's "outputs buffered in the turn, persisted with it"), and
// the transport sends it only after the flush (RemoteSendable).
//
// None of them can fail: everything a crank routes to a remote was
// checked when it was accepted (a vat's syscall, a host request, a
// peer's message), and a peer that is down only makes the message wait.

// appendOutbox writes msg as remote's next outbox message, in the open
// unit, and returns its sequence number.
func (k *Kernel) appendOutbox(remote RemoteID, msg wire.Message) uint64 {
	row := k.mustRemote(remote)
	k.noteOutboxGrowth(remote, row.NextSend)
	seq := row.NextSend
	// What this kernel had applied of the peer's messages when it wrote
	// this one: the peer's cue to forget what it retired (retireRefs).
	msg.Known = row.Applied
	k.noteSent(remote, seq, &msg) // remote_sent.go
	// INVARIANT: the outbox is exactly Acked < seq < NextSend: the message
	// and the advanced NextSend are written in one unit, so an abort
	// leaves neither and a crash cannot separate them.
	k.st.PutOutboxMessage(string(remote), seq, msg.Encode())
	row.NextSend++
	k.st.PutRemote(string(remote), row)
	return seq
}

// prepareRemoteSend is prepareSend for a send whose target's owner is a
// remote: the target, slots and result are translated into the remote's
// space and flipped into the peer's frame, the result's authority passes
// to the remote (the peer decides it now, invariant 8), the message goes
// to the outbox, and the queue's references are released. target is the
// object the send reaches, queued the kref it was queued on.
func (k *Kernel) prepareRemoteSend(remote RemoteID, target, queued KRef, m persistence.Message) {
	msg := wire.Message{Kind: wire.KindDeliver}
	msg.Target = wire.FlipString(k.krefToRRef(remote, target))
	msg.Methargs = &wire.Data{Body: m.Methargs.Body, Slots: k.slotsToRRefs(remote, m.Methargs.Slots)}
	if m.Result != "" {
		result := KRef(m.Result)
		p := k.mustPromise(result)
		// As prepareSend: a queued result is the kernel's alone.
		if p.State != persistence.PromiseUnresolved || p.Decider != "" {
			bugf("result %s of a queued send is settled or already decided", m.Result)
		}
		k.setDecider(&p, VatID(remote))
		k.st.PutPromise(m.Result, p)
		// A promise the remote decides is not subscribed to (krefToRRef):
		// its settlement comes back as the peer's notify.
		msg.Result = wire.FlipString(k.krefToRRef(remote, result))
	}
	k.appendOutbox(remote, msg)
	// Last, as in prepareSend: the remote's imports are counted before
	// the queue's references go.
	k.dropSendRefs(queued, m)
	if m.Result != "" {
		k.forwardPromiseQueue(remote, KRef(m.Result))
	}
}

// forwardPromiseQueue sends on to remote, its new decider, the messages
// already waiting on kpid (pipelined on a send's result before the send
// was delivered): they follow the deliver that made the remote the
// decider, in the order they were queued, and later sends to kpid go the
// same way (enqueueSend, routeSend). Each may carry a result with a queue
// of its own, which follows it the same way.
func (k *Kernel) forwardPromiseQueue(remote RemoteID, kpid KRef) {
	p := k.mustPromise(kpid)
	if p.QueueHead == p.QueueTail {
		return
	}
	msgs := make([]persistence.Message, 0, p.QueueTail-p.QueueHead)
	for seq := p.QueueHead; seq < p.QueueTail; seq++ {
		m, ok := k.st.QueuedMessage(string(kpid), seq)
		if !ok {
			bugf("message %d of %s's queue missing", seq, kpid)
		}
		k.st.DeleteQueuedMessage(string(kpid), seq)
		msgs = append(msgs, m)
	}
	// INVARIANT 13: the queue is emptied in this unit and its messages
	// leave in order, behind the deliver that went before them, so no
	// later send to kpid can overtake them.
	p.QueueHead = p.QueueTail
	k.st.PutPromise(string(kpid), p)
	for _, m := range msgs {
		// A lateral move: each keeps its references until
		// prepareRemoteSend releases them as a dequeued send's.
		k.prepareRemoteSend(remote, kpid, kpid, m)
	}
}

// prepareRemoteNotify is prepareNotify for a remote subscriber: the
// settlement of kpid, with every settled promise its value leads to,
// goes to the outbox as one notify, and the promises leave the remote's
// c-list (invariant 10), as they leave a vat's.
func (k *Kernel) prepareRemoteNotify(remote RemoteID, kpid KRef) {
	k.decRef(kpid, true) // the notify item's reference
	if !k.remoteActive(string(remote)) {
		return
	}
	if _, ok := k.remoteHolds(remote, kpid); !ok {
		return // heard of it another way (an earlier notify's chain)
	}
	p := k.mustPromise(kpid)
	if p.State == persistence.PromiseUnresolved {
		bugf("notify of unresolved promise %s", kpid)
	}
	var buf [4]KRef
	targets := k.promisesToRetireFrom(kpid, p.Value, buf[:0])
	msg := wire.Message{Kind: wire.KindNotify, Resolutions: make([]wire.Resolution, 0, len(targets))}
	for i, t := range targets {
		if i > 0 {
			p = k.mustPromise(t)
		}
		msg.Resolutions = append(msg.Resolutions, wire.Resolution{
			Promise:  wire.FlipString(k.krefToRRef(remote, t)),
			Rejected: p.State == persistence.PromiseRejected,
			Data:     wire.Data{Body: p.Value.Body, Slots: k.slotsToRRefs(remote, p.Value.Slots)},
		})
	}
	// After every translation, as in prepareNotify: a later target's
	// value may name an earlier target. The peer may still name each
	// target in messages it wrote before it applies this notify, so its
	// ref is kept as retired until it knows (remote_retired.go).
	seq := k.mustRemote(remote).NextSend // the notify's, appended below
	for _, t := range targets {
		k.retireRef(remote, t, seq)
		k.deleteCListEntry(VatID(remote), t)
	}
	k.appendOutbox(remote, msg)
}

// prepareRemoteGC turns one GC group for a remote into its GC message.
// The c-list changes are applyGCDelivery's, made as for a vat; vrefs are
// the remote's refs in this kernel's frame, read before the changes.
func (k *Kernel) prepareRemoteGC(remote RemoteID, kind WorkKind, vrefs []VRef) {
	msg := wire.Message{Kind: wire.KindDropExports}
	switch kind {
	case WorkRetireExports:
		msg.Kind = wire.KindRetireExports
	case WorkRetireImports:
		msg.Kind = wire.KindRetireImports
	}
	for _, v := range vrefs {
		msg.Refs = append(msg.Refs, wire.FlipString(string(v)))
	}
	seq := k.appendOutbox(remote, msg)
	if kind == WorkRetireImports {
		// The entries are gone, but the peer may still name the refs in
		// messages it writes before it applies this one (remote_gone.go).
		k.noteGone(remote, seq, vrefs)
	}
}
