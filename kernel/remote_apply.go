package kernel

import (
	"context"
	"errors"
	"fmt"

	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/remote/wire"
)

// The incoming half of a remote endpoint. A peer's message is applied as
// one unit of work, like a host request (invariant 11), that also records
// the message's sequence number as the remote's Applied: the two commit
// together, so after any crash a retransmitted message is recognised and
// dropped (Ken's Done table; MetaMask ocap-kernel's receive savepoint
// with its highestReceivedSeq check). What the message asks becomes
// ordinary kernel work: a send is queued on the run queue (or on an
// unresolved promise's queue, invariant 13) and delivered by a later
// crank; a notify settles promises in the unit itself, as a vat's resolve
// syscall does.

// ApplyResult says what ApplyRemote did with a message.
type ApplyResult uint8

// ApplyRemote's results.
const (
	// Applied: the message was applied, and Applied moved to its seq.
	Applied ApplyResult = iota + 1
	// Duplicate: the message was applied before (seq <= Applied); it was
	// dropped, changing nothing. A peer resends after a reconnect.
	Duplicate
)

// ApplyRemote applies message seq of remote (its encoding, as the peer's
// outbox holds it), as one unit of work, and records seq as the highest
// applied. A duplicate is dropped without a unit. A seq past Applied + 1
// is refused (ErrRemoteGap), as is a message that breaks the protocol
// (ErrRemoteProtocol, wrapping what is wrong): nothing is applied, and
// the same message is refused again if it comes again.
func (k *Kernel) ApplyRemote(ctx context.Context, remote RemoteID, seq uint64, encoded string) (ApplyResult, []Output, error) {
	row, ok := k.st.Remote(string(remote))
	if !ok {
		return 0, nil, ErrUnknownRemote
	}
	if err := k.checkRemoteTakes(remote, row); err != nil {
		return 0, nil, err
	}
	// INVARIANT: each message of a peer is applied at most once: Applied
	// is written in the unit that applies seq, so a seq at or below it
	// was applied by a committed unit.
	if seq <= row.Applied {
		return Duplicate, nil, nil
	}
	if seq != row.Applied+1 {
		return 0, nil, fmt.Errorf("%w: message %d from %s, but %d was the last applied", ErrRemoteGap, seq, remote, row.Applied)
	}
	msg, err := wire.Decode(encoded)
	if err != nil {
		return 0, nil, fmt.Errorf("%w: message %d from %s: %w", ErrRemoteProtocol, seq, remote, err)
	}
	out, err := k.hostUnit(ctx, func() error {
		k.forgetRetired(remote, msg.Known)
		k.forgetSent(remote, msg.Known)
		k.forgetGone(remote, msg.Known)
		if err := k.applyRemoteLocked(remote, msg); err != nil {
			return fmt.Errorf("message %d from %s: %w", seq, remote, err)
		}
		row := k.mustRemote(remote)
		k.noteApplied(remote, row.Applied)
		row.Applied = seq
		k.st.PutRemote(string(remote), row)
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return Applied, out, nil
}

// applyRemoteLocked carries out one decoded message in the open unit.
func (k *Kernel) applyRemoteLocked(remote RemoteID, msg wire.Message) error {
	switch msg.Kind {
	case wire.KindDeliver:
		return k.applyRemoteDeliver(remote, msg)
	case wire.KindNotify:
		return k.applyRemoteNotify(remote, msg.Resolutions)
	case wire.KindDropExports, wire.KindRetireExports, wire.KindRetireImports:
		return k.applyRemoteGC(remote, msg.Kind, msg.Refs)
	case wire.KindRedeem:
		return k.applyRemoteRedeem(remote, msg) // remote_url.go
	}
	// Decode refuses any other kind.
	return fmt.Errorf("%w: unknown kind %q", ErrRemoteProtocol, msg.Kind)
}

// applyRemoteDeliver queues a peer's send, as syscallSend queues a vat's:
// the methargs are validated first (invariant 14: the receiver is never
// handed what it cannot decode, and a peer is held to the vats' rule),
// then the target, slots and result are translated.
func (k *Kernel) applyRemoteDeliver(remote RemoteID, msg wire.Message) error {
	methargs := marshal.CapData{Body: msg.Methargs.Body, Slots: msg.Methargs.Slots}
	if err := marshal.ValidateMessage(methargs); err != nil {
		return fmt.Errorf("%w: methargs: %w", ErrRemoteProtocol, err)
	}
	target, err := k.rrefToKRef(remote, msg.Target, rrefOpts{})
	if err != nil {
		return fmt.Errorf("target: %w", err)
	}
	if target.IsObject() {
		// A peer sends only to what it holds of ours: an object it owns
		// itself would be a message to itself through us.
		if o, ok := k.st.Object(string(target)); ok && o.Owner == string(remote) {
			return fmt.Errorf("%w: send to the peer's own object %s", ErrRemoteProtocol, msg.Target)
		}
	}
	// Slots before the result, as syscallSend does: a result that names
	// a ref already allocated by a slot of this message is refused.
	slots, err := k.rrefsToKRefs(remote, methargs.Slots)
	if err != nil {
		return err
	}
	var result KRef
	if msg.Result != "" {
		if result, err = k.rrefToKRef(remote, msg.Result, rrefOpts{result: true}); err != nil {
			return err
		}
	}
	// Acceptance, as for a vat's send: to an unresolved promise's own
	// queue or the run queue's tail (invariant 13). The crank that takes
	// it is an ordinary crank; only this unit knew the message was remote.
	k.enqueueSend(target, marshal.CapData{Body: methargs.Body, Slots: slots}, result)
	return nil
}

// applyRemoteNotify settles promises the peer decides, as syscallResolve
// settles a vat's, in the same three passes for the same reasons: check
// every resolution, translate everything, then delete the entries and
// settle. The settlement is the peer's word, not this kernel's
// (ByKernel false): a code in it is the peer's claim.
func (k *Kernel) applyRemoteNotify(remote RemoteID, rs []wire.Resolution) error {
	type kres struct {
		kpid     KRef
		rejected bool
		data     marshal.CapData
	}
	for i, r := range rs {
		if err := marshal.Validate(marshal.CapData{Body: r.Data.Body, Slots: r.Data.Slots}); err != nil {
			return fmt.Errorf("%w: resolution %d: %w", ErrRemoteProtocol, i, err)
		}
	}
	krs := make([]kres, 0, len(rs))
	seen := map[KRef]bool{}
	for _, r := range rs {
		kpid, err := k.rrefToKRef(remote, r.Promise, rrefOpts{lookup: true})
		if errors.Is(err, errNotInCList) {
			return fmt.Errorf("%w: resolution of %s, which the peer does not hold", ErrRemoteProtocol, r.Promise)
		}
		if err != nil {
			return err
		}
		if seen[kpid] {
			return fmt.Errorf("%w: %s resolved twice in one message", ErrRemoteProtocol, r.Promise)
		}
		seen[kpid] = true
		// Authority: only the decider settles (promise.go). A peer that
		// settles a promise it was only told of is refused.
		if p := k.mustPromise(kpid); p.State != persistence.PromiseUnresolved || p.Decider != string(remote) {
			return fmt.Errorf("%w: resolution of %s, which the peer does not decide", ErrRemoteProtocol, r.Promise)
		}
		data := marshal.CapData{Body: r.Data.Body}
		if !r.Rejected {
			if _, isPromise, ok := marshal.SingleRef(marshal.CapData{Body: r.Data.Body, Slots: r.Data.Slots}); ok && isPromise {
				return fmt.Errorf("%w: %s fulfilled to a promise", ErrRemoteProtocol, r.Promise)
			}
		}
		if data.Slots, err = k.rrefsToKRefs(remote, r.Data.Slots); err != nil {
			return err
		}
		krs = append(krs, kres{kpid, r.Rejected, data})
	}
	// INVARIANT 10: settled promises leave the decider's c-list. The
	// remote is the resolver, so it is not notified of its own answer.
	for _, r := range krs {
		k.deleteCListEntry(VatID(remote), r.kpid)
	}
	for _, r := range krs {
		k.resolve(r.kpid, r.rejected, r.data, VatID(remote))
	}
	return nil
}

// applyRemoteGC carries out a peer's GC message (MetaMask ocap-kernel's
// RemoteHandle mapping): each kind is the GC syscall the peer would make
// if it were a vat. Refs the c-list no longer holds are skipped: both
// sides collect at once, and a message can cross a retirement the
// receiver already made.
func (k *Kernel) applyRemoteGC(remote RemoteID, kind wire.Kind, refs []string) error {
	ep := VatID(remote)
	for _, ref := range refs {
		kref, err := k.rrefToKRef(remote, ref, rrefOpts{lookup: true})
		if errors.Is(err, errNotInCList) {
			continue
		}
		if err != nil {
			return err
		}
		r, _ := wire.ParseRef(ref) // parsed by rrefToKRef
		if !r.Plus && kind != wire.KindRetireImports && k.staleDrop(remote, ref) {
			// INVARIANT: a drop or retire that crossed a later export of
			// the object is ignored (remote_sent.go): the peer holds the
			// object again once it applies that export.
			continue
		}
		switch kind {
		case wire.KindDropExports:
			// The peer no longer reaches our object: its import loses its
			// reachable flag (its dropImports).
			if r.Plus {
				return fmt.Errorf("%w: dropExports of %s, which the peer owns", ErrRemoteProtocol, ref)
			}
			k.clearReachableFlag(ep, kref)
		case wire.KindRetireExports:
			// The peer cannot even recognize it: its import goes (its
			// retireImports, after the drop).
			if r.Plus {
				return fmt.Errorf("%w: retireExports of %s, which the peer owns", ErrRemoteProtocol, ref)
			}
			if e, _ := k.st.CList(string(remote), string(kref)); e.Reachable {
				return fmt.Errorf("%w: retireExports of %s, which the peer still reaches", ErrRemoteProtocol, ref)
			}
			k.deleteCListEntry(ep, kref)
			// A provisional gone ref (remote_gone.go) needs no retire of
			// ours now: the peer forgot the ref itself.
			k.dropGone(remote, ref)
		case wire.KindRetireImports:
			// The peer's object is gone: its export entry goes, and our
			// importers are told to retire theirs (its retireExports).
			if !r.Plus {
				return fmt.Errorf("%w: retireImports of %s, which is ours", ErrRemoteProtocol, ref)
			}
			k.st.DeleteCList(string(remote), string(kref)) // an export entry: uncounted
			if _, ok := k.st.Object(string(kref)); ok {
				k.retireObject(kref)
			}
		}
	}
	return nil
}

// AckRemote records the peer's cumulative ack: every outbox message up to
// and including upTo has been applied by the peer (durably: it acks only
// what a committed unit applied), so they are deleted, as one unit. An
// ack at or below what was acked before changes nothing (acks may come
// late or twice); one past the last message sent is the peer's protocol
// error.
func (k *Kernel) AckRemote(ctx context.Context, remote RemoteID, upTo uint64) ([]Output, error) {
	row, ok := k.st.Remote(string(remote))
	if !ok {
		return nil, ErrUnknownRemote
	}
	if err := k.checkRemoteTakes(remote, row); err != nil {
		return nil, err
	}
	if upTo <= row.Acked {
		return nil, nil
	}
	if upTo >= row.NextSend {
		return nil, fmt.Errorf("%w: ack of %d from %s, but %d is the last message sent", ErrRemoteProtocol, upTo, remote, row.NextSend-1)
	}
	return k.hostUnit(ctx, func() error {
		row := k.mustRemote(remote)
		// INVARIANT: the outbox is trimmed exactly to Acked < seq <
		// NextSend, in the unit that moves Acked.
		for seq := row.Acked + 1; seq <= upTo; seq++ {
			k.st.DeleteOutboxMessage(string(remote), seq)
		}
		row.Acked = upTo
		k.st.PutRemote(string(remote), row)
		return nil
	})
}
