package kernel

import (
	"fmt"
	"slices"

	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/remote/wire"
)

// The auditor's checks of remote endpoints (remote.go): their c-lists are
// recounted with the vats' (countRemoteCLists, the same model as
// countCLists), and checkRemotes checks what the link's exactly-once
// guarantee rests on: each outbox holds exactly the messages between what
// the peer acknowledged and the next sequence number, each one decodes,
// and every remote the store names has a row.

// remoteKnown reports whether id names a remote endpoint with a row.
func (a *auditor) remoteKnown(id string) bool {
	_, ok := a.st.Remote(id)
	return ok
}

// remoteActive reports whether id names a remote that takes messages.
func (a *auditor) remoteActive(id string) bool {
	row, ok := a.st.Remote(id)
	return ok && row.State == persistence.RemoteActive
}

// countRemoteCLists counts what every remote c-list entry implies, as
// countCLists does for a vat's: a promise entry one reference, an object
// import (ro-N) one recognizable reference and, if its flag is set, one
// reachable; an object export (ro+N) nothing, but the remote must own it.
func (a *auditor) countRemoteCLists() {
	for _, id := range a.st.RemoteIDs() {
		for _, s := range a.st.CListKRefs(id) {
			kref := KRef(s)
			e, _ := a.st.CList(id, s)
			from := fmt.Sprintf("c-list %s %s=%s", id, s, e.VRef)
			if _, err := ParseKRef(s); err != nil {
				a.problem("%s: %v", from, err)
				continue
			}
			if back, ok := a.st.KRefOf(id, e.VRef); !ok || back != s {
				a.problem("%s: by-ref index says %q", from, back)
			}
			r, err := wire.ParseRef(e.VRef)
			if err != nil {
				a.problem("%s: %v", from, err)
				continue
			}
			a.countCListEntry(id, kref, e, from, r.Promise, r.Plus)
		}
	}
}

// checkRemotes checks every remote row, its outbox and its counters, and
// that every remote id the store names has a row.
func (a *auditor) checkRemotes() {
	peers := map[string]string{}
	for _, id := range a.st.RemoteIDs() {
		row, _ := a.st.Remote(id)
		if _, err := ParseRemoteID(id); err != nil {
			a.problem("remote row %q: %v", id, err)
		}
		if err := checkPeerID(row.PeerID); err != nil {
			a.problem("remote %s: %v", id, err)
		}
		// One row per peer: two would split one link's sequence numbers.
		if other, dup := peers[row.PeerID]; dup {
			a.problem("remote %s: peer %s is also remote %s", id, row.PeerID, other)
		}
		peers[row.PeerID] = id
		if row.State != persistence.RemoteActive && row.State != persistence.RemoteGivenUp {
			a.problem("remote %s: unknown state %q", id, row.State)
		}
		a.checkOutbox(id, row)
		a.checkRemoteCounters(id, row)
	}
	// An outbox with no row would never be sent or trimmed.
	for _, id := range a.st.OutboxRemotes() {
		if !a.remoteKnown(id) {
			a.problem("outbox: %d messages for remote %s, which does not exist", len(a.st.OutboxSeqs(id)), id)
		}
	}
	a.checkRemoteNames()
}

// checkOutbox checks that remote id's outbox is exactly the messages
// Acked < seq < NextSend, each decodable: a gap would be a message lost
// before the peer acknowledged it, an extra one a message sent twice
// under two numbers or never trimmed.
func (a *auditor) checkOutbox(id string, row persistence.RemoteRow) {
	if row.NextSend == 0 || row.Acked >= row.NextSend {
		a.problem("remote %s: acked %d, next_send %d: want acked < next_send", id, row.Acked, row.NextSend)
		return
	}
	seqs := a.st.OutboxSeqs(id)
	want := row.NextSend - 1 - row.Acked
	if uint64(len(seqs)) != want || (len(seqs) > 0 && (seqs[0] != row.Acked+1 || seqs[len(seqs)-1] != row.NextSend-1)) {
		a.problem("remote %s: outbox holds %d messages %v, want exactly %d..%d", id, len(seqs), shortSeqs(seqs), row.Acked+1, row.NextSend-1)
	}
	for _, seq := range seqs {
		msg, _ := a.st.OutboxMessage(id, seq)
		if _, err := wire.Decode(msg); err != nil {
			a.problem("remote %s: outbox message %d: %v", id, seq, err)
		}
	}
}

// shortSeqs keeps a problem line short for a long outbox.
func shortSeqs(seqs []uint64) []uint64 {
	if len(seqs) > 8 {
		return seqs[:8]
	}
	return seqs
}

// checkRemoteCounters checks that remote id's ref counters are past
// every ro-N and rp-N in its c-list: those refs are this kernel's to
// allocate, and one handed out twice would name two things to the peer.
func (a *auditor) checkRemoteCounters(id string, row persistence.RemoteRow) {
	for _, s := range a.st.CListKRefs(id) {
		e, _ := a.st.CList(id, s)
		r, err := wire.ParseRef(e.VRef)
		if err != nil || r.Plus {
			continue // the peer's to number; a bad ref is countRemoteCLists'
		}
		next, name := row.NextObject, "next_object"
		if r.Promise {
			next, name = row.NextPromise, "next_promise"
		}
		if r.N >= next {
			a.problem("remote %s: counter %s is %d, but its c-list holds %s: the next ref would be reused", id, name, next, e.VRef)
		}
	}
}

// checkRemoteNames checks every place a remote id can be written (an
// owner, a decider, a subscriber, a notify, a GC action): it must have a
// row, and be below next_remote.
func (a *auditor) checkRemoteNames() {
	next := a.st.PeekID(persistence.MetaNextRemote)
	check := func(id, from string) {
		if !isRemoteEndpoint(id) {
			return
		}
		n, ok := idNumber(id, "r")
		switch {
		case !ok:
			a.problem("%s: remote id %q does not parse", from, id)
		case n >= next:
			a.problem("%s: remote %s was never allocated (next_remote is %d)", from, id, next)
		case !a.remoteKnown(id):
			a.problem("%s: remote %s has no row", from, id)
		}
	}
	for _, id := range a.st.RemoteIDs() {
		check(id, "remote row")
	}
	for _, s := range a.st.ObjectKRefs() {
		o, _ := a.st.Object(s)
		check(o.Owner, "object "+s+" owner")
	}
	for _, s := range a.st.PromiseKPIDs() {
		p, _ := a.st.Promise(s)
		check(p.Decider, "promise "+s+" decider")
		for _, sub := range p.Subscribers {
			check(sub, "promise "+s+" subscriber")
		}
	}
	for i, it := range a.st.QueueItems() {
		if it.Kind == persistence.QueueNotify {
			check(it.Vat, fmt.Sprintf("run queue item %d (notify)", i))
		}
	}
	for _, g := range a.st.GCActions() {
		check(g.Vat, fmt.Sprintf("GC action %s %s", g.Kind, g.KRef))
	}
}

// checkRemoteDecider is checkSettleable for a promise a remote decides:
// the remote must take messages and hold the promise, or its notify could
// never be applied.
func (a *auditor) checkRemoteDecider(s string, p persistence.PromiseRow) {
	if !a.remoteActive(p.Decider) {
		a.problem("promise %s: decider %s is not an active remote", s, p.Decider)
		return
	}
	if _, ok := a.st.CList(p.Decider, s); !ok {
		a.problem("promise %s: decider %s does not hold it", s, p.Decider)
	}
	// A remote is never its own promise's subscriber: it learns nothing
	// from a notify of what it decides.
	if slices.Contains(p.Subscribers, p.Decider) {
		a.problem("promise %s: decider %s is also a subscriber", s, p.Decider)
	}
}
