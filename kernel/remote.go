package kernel

import (
	"context"
	"errors"
	"fmt"

	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/remote/wire"
)

// A peer kernel is an endpoint of this one, beside the vats (MetaMask
// ocap-kernel's RemoteHandle; docs/remote.md). It is named rN, and it
// appears wherever a vat id can: as an object's owner (a presence of an
// object that lives in the peer), a promise's decider or subscriber, and
// the endpoint of a c-list, whose refs are remote refs (ro±N, rp±N) in
// the vats' convention: "+" allocated by the endpoint, "-" by this kernel.
//
// What is sent to a remote is not delivered: the crank that routes a send
// or a notify to it translates the message into the remote's space and
// appends it to the remote's outbox, in the crank's own unit
// (remote_route.go). What arrives from a remote is applied as a unit of
// its own that also records its sequence number (remote_apply.go). The
// transport outside the kernel moves the outbox's bytes, only once the
// flush that covers them is done (RemoteSendable).

// RemoteID names a remote endpoint: "rN". Never reused.
type RemoteID string

// Errors of the remote endpoint's host requests, matched with errors.Is.
// They never reach a vat or a promise.
var (
	// ErrUnknownRemote: no remote endpoint has that id.
	ErrUnknownRemote = errors.New("kernel: unknown remote")
	// ErrRemoteGap: a message from a remote skips sequence numbers; the
	// transport must deliver in order. Nothing was applied.
	ErrRemoteGap = errors.New("kernel: remote message out of order")
	// ErrRemoteProtocol: a remote broke the protocol (a malformed message,
	// a ref it was never given, a resolution of a promise it does not
	// decide, an ack of what was never sent). Nothing was applied; the
	// transport should close the link and log the detail.
	ErrRemoteProtocol = errors.New("kernel: remote protocol violation")
)

// isRemoteEndpoint reports whether an endpoint id names a remote (rN)
// rather than a vat (vN). Vat ids and remote ids share the places an
// endpoint is named, so the first letter is what tells them apart.
func isRemoteEndpoint(id string) bool { return len(id) > 1 && id[0] == 'r' }

// ParseRemoteID checks that s is a well-formed remote id.
func ParseRemoteID(s string) (RemoteID, error) {
	if len(s) < 2 || s[0] != 'r' {
		return "", fmt.Errorf("%w: remote id %q: want r<N>", ErrBadRef, s)
	}
	if _, err := parseNumber(s[1:]); err != nil {
		return "", fmt.Errorf("%w: remote id %q: %v", ErrBadRef, s, err)
	}
	return RemoteID(s), nil
}

// checkPeerID checks a peer id's form: 64 lower-case hex digits (the
// SHA-256 of the peer's key, remote/identity). The kernel only keeps it;
// the transport authenticates it.
func checkPeerID(s string) error {
	if len(s) != 64 {
		return fmt.Errorf("%w: peer id %q: want 64 hex digits", ErrBadConfig, s)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return fmt.Errorf("%w: peer id %q: not lower-case hex", ErrBadConfig, s)
		}
	}
	return nil
}

// RemoteInfo is a remote endpoint as the host sees it.
type RemoteInfo struct {
	ID      RemoteID
	PeerID  string
	Address string
	// GivenUp reports that the host gave up on the peer (GiveUpRemote).
	GivenUp bool
	// Pending is how many messages wait in its outbox for the peer's ack;
	// NextSend, Acked and Applied are the link's sequence numbers
	// (persistence.RemoteRow).
	Pending                  int
	NextSend, Acked, Applied uint64
}

// Remote reports a remote endpoint.
func (k *Kernel) Remote(id RemoteID) (RemoteInfo, error) {
	row, ok := k.st.Remote(string(id))
	if !ok {
		return RemoteInfo{}, ErrUnknownRemote
	}
	return RemoteInfo{ID: id, PeerID: row.PeerID, Address: row.Address, GivenUp: row.State == persistence.RemoteGivenUp,
		Pending: int(row.NextSend - 1 - row.Acked), NextSend: row.NextSend, Acked: row.Acked, Applied: row.Applied}, nil
}

// Remotes lists the remote endpoints, by id number.
func (k *Kernel) Remotes() []RemoteInfo {
	var out []RemoteInfo
	for _, id := range k.st.RemoteIDs() {
		info, _ := k.Remote(RemoteID(id))
		out = append(out, info)
	}
	return out
}

// RemoteByPeer finds the remote endpoint of a peer id.
func (k *Kernel) RemoteByPeer(peerID string) (RemoteID, bool) {
	for _, id := range k.st.RemoteIDs() {
		if row, _ := k.st.Remote(id); row.PeerID == peerID {
			return RemoteID(id), true
		}
	}
	return "", false
}

// AddRemote makes peerID a remote endpoint of this kernel, reached at
// address, and returns its id; a peer already known keeps its id, and its
// address is updated (a peer that moved is still the same peer: its key
// says so). One unit of work.
func (k *Kernel) AddRemote(ctx context.Context, peerID, address string) (RemoteID, []Output, error) {
	if err := checkPeerID(peerID); err != nil {
		return "", nil, err
	}
	id, known := k.RemoteByPeer(peerID)
	if known {
		if row, _ := k.st.Remote(string(id)); row.Address == address {
			return id, nil, nil // nothing to change: no unit
		}
	}
	if local, _, ok := k.LocalPeer(); ok && local == peerID {
		return "", nil, fmt.Errorf("%w: peer id %s is this kernel's own (SetLocalPeer)", ErrBadConfig, peerID)
	}
	out, err := k.hostUnit(ctx, func() error {
		id = k.remoteForPeerLocked(peerID, address) // remote_url.go
		return nil
	})
	if err != nil {
		return "", nil, err
	}
	return id, out, nil
}

// ExportToRemote gives remote a reference to the local object koid and
// returns the ref the peer will know it by (in the peer's frame, ready to
// hand over: an ro+N). The remote's c-list entry counts as a reachable
// import, so the object stays alive until the peer drops it. This is the
// kernel's half of an introduction (an OCAP URL's redemption); the peer's
// half is ImportFromRemote. One unit of work.
func (k *Kernel) ExportToRemote(ctx context.Context, remote RemoteID, koid KRef) (string, []Output, error) {
	if _, err := ParseKRef(string(koid)); err != nil {
		return "", nil, err
	}
	if !koid.IsObject() {
		return "", nil, fmt.Errorf("%w: only objects are introduced, not promises", ErrBadRef)
	}
	if err := k.checkLive(koid); err != nil {
		return "", nil, err
	}
	if err := k.checkIntroducible(remote); err != nil {
		return "", nil, err
	}
	var ref string
	out, err := k.hostUnit(ctx, func() error {
		e, held := k.remoteHolds(remote, koid)
		own := k.krefToRRef(remote, koid)
		if held && !storedVRefInfo(VRef(e.VRef)).export {
			// Handed again, to a peer that had it: a drop it wrote may
			// cross this (remote_sent.go). The peer's own object (its
			// export, ro+N) is not ours to record.
			k.noteHostExport(remote, own)
		}
		ref = wire.FlipString(own)
		return nil
	})
	if err != nil {
		return "", nil, err
	}
	return ref, out, nil
}

// ImportFromRemote turns a ref the peer gave (in this kernel's frame: an
// ro+N it allocated) into a presence: a kernel object owned by remote,
// pinned for the host, who may send to it and pass it to vats, and lets
// go with Unpin. Importing the same ref again returns the same object,
// pinned once more. One unit of work.
func (k *Kernel) ImportFromRemote(ctx context.Context, remote RemoteID, ref string) (KRef, []Output, error) {
	r, err := wire.ParseRef(ref)
	if err != nil {
		return "", nil, fmt.Errorf("%w: %w", ErrBadRef, err)
	}
	if r.Promise || !r.Plus {
		return "", nil, fmt.Errorf("%w: %s: a peer introduces an object it allocated (ro+N)", ErrBadRef, ref)
	}
	if err := k.checkIntroducible(remote); err != nil {
		return "", nil, err
	}
	var koid KRef
	out, err := k.hostUnit(ctx, func() error {
		var err error
		if koid, err = k.rrefToKRef(remote, ref, rrefOpts{}); err != nil {
			return err
		}
		k.pin(koid)
		return nil
	})
	if err != nil {
		return "", nil, err
	}
	return koid, out, nil
}

// checkIntroducible refuses an introduction through a remote that is
// unknown or given up: nothing is sent to a given-up remote or taken from
// it any more, so a presence of it would be orphaned at birth, and an
// export to it never reached.
func (k *Kernel) checkIntroducible(remote RemoteID) error {
	row, ok := k.st.Remote(string(remote))
	if !ok {
		return ErrUnknownRemote
	}
	if row.State != persistence.RemoteActive {
		return fmt.Errorf("%w: %s", ErrRemoteGivenUp, remote)
	}
	return nil
}

// mustRemote reads a remote row the kernel's own state names; a missing
// one is a kernel bug.
func (k *Kernel) mustRemote(id RemoteID) persistence.RemoteRow {
	row, ok := k.st.Remote(string(id))
	if !ok {
		bugf("remote %s has no row", id)
	}
	return row
}

// remoteActive reports whether id names a remote endpoint that takes
// messages.
func (k *Kernel) remoteActive(id string) bool {
	row, ok := k.st.Remote(id)
	return ok && row.State == persistence.RemoteActive
}

// ---- release after the flush (invariant 3, extended to the wire) ----

// remoteHold is what of one remote's link state a flush has not yet
// written: the last outbox seq and the Applied that are in SQLite, for a
// remote whose outbox grew or whose Applied moved since the last flush.
type remoteHold struct {
	sent, applied         uint64
	sentHeld, appliedHeld bool
}

// remoteBegin, remoteAbort and remoteCommitted keep k.remoteHeld: a
// remote absent from it has all of its link state in SQLite. The open
// unit's notes go to k.remoteUnitHeld, merged at commit and dropped at
// abort, so an aborted unit cannot move a bound.
func (k *Kernel) remoteBegin() { k.clearUnitHeld() }

func (k *Kernel) remoteAbort() { k.clearUnitHeld() }

// clearUnitHeld empties remoteUnitHeld. Every crank calls it and nearly
// all find it empty: clearing an empty map still walks its groups, so
// the length is asked first (as persistence's fold does).
func (k *Kernel) clearUnitHeld() {
	if len(k.remoteUnitHeld) > 0 {
		clear(k.remoteUnitHeld)
	}
}

func (k *Kernel) remoteCommitted(flushed bool) {
	if len(k.remoteUnitHeld) == 0 && len(k.remoteHeld) == 0 {
		return // a kernel with no remote traffic: every crank
	}
	for r, u := range k.remoteUnitHeld {
		h := k.remoteHeld[r]
		// The earliest note wins: it is the value the last flush wrote.
		if u.sentHeld && !h.sentHeld {
			h.sent, h.sentHeld = u.sent, true
		}
		if u.appliedHeld && !h.appliedHeld {
			h.applied, h.appliedHeld = u.applied, true
		}
		k.remoteHeld[r] = h
	}
	clear(k.remoteUnitHeld)
	if flushed {
		clear(k.remoteHeld)
	}
}

// noteOutboxGrowth records, the first time a unit appends to remote's
// outbox, the last seq that is in SQLite: the one before the row's
// committed NextSend (nothing earlier in the unit moved it, since this
// is its first append).
func (k *Kernel) noteOutboxGrowth(remote RemoteID, committedNext uint64) {
	if k.remoteHeld[remote].sentHeld || k.remoteUnitHeld[remote].sentHeld {
		return
	}
	u := k.remoteUnitHeld[remote]
	u.sent, u.sentHeld = committedNext-1, true
	k.remoteUnitHeld[remote] = u
}

// noteApplied records, the first time a unit moves remote's Applied, the
// value that is in SQLite.
func (k *Kernel) noteApplied(remote RemoteID, committedApplied uint64) {
	if k.remoteHeld[remote].appliedHeld || k.remoteUnitHeld[remote].appliedHeld {
		return
	}
	u := k.remoteUnitHeld[remote]
	u.applied, u.appliedHeld = committedApplied, true
	k.remoteUnitHeld[remote] = u
}

// RemoteSendable reports the outbox messages of remote that may go on the
// wire now: seq from through to (none when to < from). They are the
// messages the peer has not acknowledged and that are in SQLite: under
// group commit, a message a committed crank wrote waits for the flush that
// covers it, as host outputs do. Resending any of them is always safe:
// the peer drops what it applied already.
func (k *Kernel) RemoteSendable(remote RemoteID) (from, to uint64, err error) {
	row, ok := k.st.Remote(string(remote))
	if !ok {
		return 0, 0, ErrUnknownRemote
	}
	from, to = row.Acked+1, row.NextSend-1
	// INVARIANT 3: nothing leaves before the transaction covering it has
	// committed; a remote whose outbox grew since the last flush is
	// bounded by what that flush wrote.
	if h := k.remoteHeld[remote]; h.sentHeld {
		to = h.sent
	}
	return from, to, nil
}

// RemoteAckable is the cumulative ack this kernel may give remote: the
// highest of its messages applied by a unit that is in SQLite. An ack of
// a message applied only in memory (group commit, before the flush) would
// let the peer trim a message that a crash here would then lose.
func (k *Kernel) RemoteAckable(remote RemoteID) (uint64, error) {
	row, ok := k.st.Remote(string(remote))
	if !ok {
		return 0, ErrUnknownRemote
	}
	// INVARIANT: an ack is a promise that the message is durable here.
	if h := k.remoteHeld[remote]; h.appliedHeld {
		return h.applied, nil
	}
	return row.Applied, nil
}

// RemoteMessage reads the encoded outbox message seq of remote, for the
// transport to send (RemoteSendable says which may go).
func (k *Kernel) RemoteMessage(remote RemoteID, seq uint64) (string, bool) {
	return k.st.OutboxMessage(string(remote), seq)
}
