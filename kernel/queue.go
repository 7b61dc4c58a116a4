package kernel

import (
	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/persistence"
)

// The run queue holds sends and notifies in FIFO order; a queued item holds
// a reference to every kref it names, dropped when the item is delivered or
// splats (as MetaMask ocap-kernel does).

// enqueueSend accepts a message to target, counting its references, and
// puts it where E-order needs it (invariant 13, docs/invariants.md): a
// message to an unresolved promise goes straight onto that promise's own
// queue; any other goes on the run queue's tail. This is the kernel's
// acceptance step (SwingSet's acceptance queue, #5252, done at the
// syscall): the run queue holds only sends to objects and to settled
// promises, and resolving a promise moves its queue, in order, to the run
// queue's tail in the same unit. So every message sent on one reference
// joins one FIFO in the order it was sent, whether the promise resolves
// before, between or after the sends.
func (k *Kernel) enqueueSend(target KRef, methargs marshal.CapData, result KRef) {
	k.incRef(target, true)
	if result != "" {
		k.incRef(result, true)
	}
	methargs = methargs.Clone()
	k.incSlots(methargs.Slots)
	m := persistence.Message{
		Methargs: persistence.Data{Body: methargs.Body, Slots: methargs.Slots},
		Result:   string(result),
	}
	if target.IsPromise() {
		// A promise a peer kernel decides is not waited on here: the send
		// goes on the run queue and from there to the peer, which queues
		// it on its own promise (pipelining, remote_route.go).
		if p := k.mustPromise(target); p.State == persistence.PromiseUnresolved && !isRemoteEndpoint(p.Decider) {
			// INVARIANT 13: later sends on target either join this queue
			// behind m or, once target settles, the run queue behind
			// everything this queue held.
			k.queueOnPromise(target, m)
			return
		}
	}
	k.st.Enqueue(persistence.QueueItem{Kind: persistence.QueueSend, Target: string(target), Message: m})
}

// enqueueNotify queues a notification of kpid's settlement to vat.
func (k *Kernel) enqueueNotify(vat VatID, kpid KRef) {
	k.incRef(kpid, true)
	k.st.Enqueue(persistence.QueueItem{Kind: persistence.QueueNotify, Vat: string(vat), KPID: string(kpid)})
}

// dropSendRefs drops the references a dequeued send held.
func (k *Kernel) dropSendRefs(target KRef, m persistence.Message) {
	k.decRef(target, true)
	if m.Result != "" {
		k.decRef(KRef(m.Result), true)
	}
	k.decSlots(m.Methargs.Slots)
}

// queueOnPromise appends a message to an unresolved promise's queue. The
// message keeps the references it was accepted with, including the one to
// the promise itself; resolve moves it to the run queue without changing
// them (a lateral move).
func (k *Kernel) queueOnPromise(kpid KRef, m persistence.Message) {
	p := k.mustPromise(kpid)
	k.st.PutQueuedMessage(string(kpid), p.QueueTail, m)
	p.QueueTail++
	k.st.PutPromise(string(kpid), p)
}
