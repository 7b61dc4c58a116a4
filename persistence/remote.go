package persistence

import (
	"slices"
	"strconv"
)

// The remote tables hold what the kernel knows of its peer kernels: one
// row per remote endpoint (its peer's identity and address, the sequence
// numbers of the link, and the counters of the remote refs the kernel
// allocates in the remote's space), and the outbox of messages written for
// each peer and not yet acknowledged. Like every table they are written in
// a unit and only in a unit: a crank that sends to a peer writes its
// outbox row and the advanced NextSend together, and an abort drops both.
// What the numbers mean, and the rules between them, are package kernel's
// (kernel/remote_*.go) and docs/remote.md's; the store keeps them.

// MetaNextRemote numbers remote endpoints: r1, r2, ... Never reused, like
// vat ids: a remote's row outlives its link.
const MetaNextRemote = "next_remote"

// RemoteState is the lifecycle state of a remote row.
type RemoteState string

// Remote states.
const (
	// RemoteActive: messages are routed to the peer (they wait in the
	// outbox while it is unreachable).
	RemoteActive RemoteState = "active"
	// RemoteGivenUp: the host gave up on the peer (kernel.GiveUpRemote);
	// nothing is routed to it or taken from it any more.
	RemoteGivenUp RemoteState = "given_up"
)

// RemoteRow is one peer kernel, as an endpoint of this one.
type RemoteRow struct {
	PeerID  string // the peer's key hash (64 hex digits): pinned for every link to it
	Address string // where the peer was last reached (host:port); a hint, not an identity
	State   RemoteState
	// NextObject and NextPromise number the remote refs this kernel
	// allocates in the remote's space (ro-N, rp-N), from 1.
	NextObject  uint64
	NextPromise uint64
	// NextSend is the sequence number the next outbox message gets, from
	// 1; Acked the highest of them the peer has acknowledged (0: none).
	// The outbox holds exactly the messages Acked < seq < NextSend.
	NextSend uint64
	Acked    uint64
	// Applied is the highest of the peer's sequence numbers this kernel
	// has applied (0: none), written in the unit that applied it, so a
	// message at or below it is a duplicate.
	Applied uint64
}

// OutboxKey names one outbox message by remote and sequence number.
type OutboxKey struct {
	Remote string
	Seq    uint64
}

// outboxByRemote is the outbox table's partitioning, by remote.
const outboxByRemote = 0

// ---- remotes ----

// Remote reads a remote endpoint.
func (s *Store) Remote(id string) (RemoteRow, bool) { return s.tabs.Remotes.get(id) }

// PutRemote writes a remote endpoint.
func (s *Store) PutRemote(id string, r RemoteRow) { s.mustOpen(); s.tabs.Remotes.put(id, r) }

// DeleteRemote deletes a remote endpoint's row (a no-op if there is
// none). The kernel deletes a remote only when the peer never took up
// its link (kernel.ApplyRefusal), after it has emptied every other table
// of the remote's rows; the id is not reused (MetaNextRemote).
func (s *Store) DeleteRemote(id string) { s.mustOpen(); s.tabs.Remotes.del(id) }

// RemoteIDs lists the remote endpoints, sorted by id number.
func (s *Store) RemoteIDs() []string { return sortIDs(s.tabs.Remotes.keys()) }

// ---- the outbox ----

// OutboxMessage reads the outbox message seq of remote: its encoding,
// which the store never parses.
func (s *Store) OutboxMessage(remote string, seq uint64) (string, bool) {
	return s.tabs.Outbox.get(OutboxKey{remote, seq})
}

// PutOutboxMessage writes the outbox message seq of remote.
func (s *Store) PutOutboxMessage(remote string, seq uint64, msg string) {
	s.mustOpen()
	s.tabs.Outbox.put(OutboxKey{remote, seq}, msg)
}

// DeleteOutboxMessage deletes the outbox message seq of remote (a no-op
// if there is none).
func (s *Store) DeleteOutboxMessage(remote string, seq uint64) {
	s.mustOpen()
	s.tabs.Outbox.del(OutboxKey{remote, seq})
}

// OutboxSeqs lists the sequence numbers of remote's outbox messages, in
// order, as the open unit sees them (for the auditor and the inspector;
// the kernel itself walks the outbox by its row's bounds).
func (s *Store) OutboxSeqs(remote string) []uint64 {
	keys := s.tabs.Outbox.keysIn(outboxByRemote, remote)
	seqs := make([]uint64, 0, len(keys))
	for _, k := range keys {
		seqs = append(seqs, k.Seq)
	}
	slices.Sort(seqs)
	return seqs
}

// OutboxRemotes lists the remotes that have outbox messages, sorted by id
// number: the auditor's way to find messages of a remote that has no row.
func (s *Store) OutboxRemotes() []string {
	seen := map[string]bool{}
	for _, k := range s.tabs.Outbox.keys() {
		seen[k.Remote] = true
	}
	ids := make([]string, 0, len(seen))
	for id := range seen {
		ids = append(ids, id)
	}
	return sortIDs(ids)
}

// outboxPart is the partition key of an outbox row: its remote.
func outboxPart(k OutboxKey) string { return k.Remote }

// String spells a key as the auditor and Verify print it.
func (k OutboxKey) String() string { return k.Remote + "/" + strconv.FormatUint(k.Seq, 10) }
