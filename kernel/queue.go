package kernel

import (
	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/persistence"
)

// The run queue holds sends and notifies in FIFO order; a queued item holds
// a reference to every kref it names, dropped when the item is delivered or
// splats (ocap-kernel semantics §2.5, §6.1).

// enqueueSend queues a message to target, counting its references.
func (k *Kernel) enqueueSend(target KRef, methargs marshal.CapData, result KRef) {
	k.incRef(target, true)
	if result != "" {
		k.incRef(result, true)
	}
	methargs = methargs.Clone()
	k.incSlots(methargs.Slots)
	k.st.Enqueue(persistence.QueueItem{
		Kind:   persistence.QueueSend,
		Target: string(target),
		Message: persistence.Message{
			Methargs: persistence.Data{Body: methargs.Body, Slots: methargs.Slots},
			Result:   string(result),
		},
	})
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
// message keeps the references it held on the run queue, including the one
// to the promise itself.
func (k *Kernel) queueOnPromise(kpid KRef, m persistence.Message) {
	p := k.mustPromise(kpid)
	k.st.PutQueuedMessage(string(kpid), p.QueueTail, m)
	p.QueueTail++
	k.st.PutPromise(string(kpid), p)
}
