package persistence

import (
	"cmp"
	"slices"
)

// The sent-export table keeps, for a while, which objects this kernel
// handed a peer in messages the peer may not have applied yet: for each
// remote and each of its imports (ro-N, an object of this kernel's the
// peer holds), the sequence number of the last outbox message that named
// it, or, for a host's export outside any message, of the next one. A peer's dropExports or retireExports of that object written
// before the peer applied that message (its Known below the seq) crossed
// the new export on the link and is stale; package kernel ignores it
// (the peer reaches the object again once it applies the message, and
// drops it anew if it must). A row is deleted once a message of the peer
// shows it had applied the seq when it wrote it: from then on every drop
// of the object knows of the export. This is SwingSet comms' "last sent"
// check, with the acknowledgement carried in each message
// (wire.Message.Known).

// SentKey names a sent export: the remote, and the object's ref in this
// kernel's frame (ro-N).
type SentKey struct {
	Remote string
	Ref    string
}

// sentByRemote is the table's partitioning, by remote.
const sentByRemote = 0

func sentPart(k SentKey) string { return k.Remote }

// String spells a key as the auditor and Verify print it.
func (k SentKey) String() string { return k.Remote + "/" + k.Ref }

// SentRef reads the seq of the last message to remote that named ref.
func (s *Store) SentRef(remote, ref string) (uint64, bool) {
	return s.tabs.Sent.get(SentKey{remote, ref})
}

// PutSentRef records seq as the last message to remote that named ref.
func (s *Store) PutSentRef(remote, ref string, seq uint64) {
	s.mustOpen()
	s.tabs.Sent.put(SentKey{remote, ref}, seq)
}

// DeleteSentRef forgets a sent export of remote (a no-op if none).
func (s *Store) DeleteSentRef(remote, ref string) {
	s.mustOpen()
	s.tabs.Sent.del(SentKey{remote, ref})
}

// SentRefs lists the sent exports of remote, by seq, then by ref.
func (s *Store) SentRefs(remote string) []string {
	keys := s.tabs.Sent.keysIn(sentByRemote, remote)
	seqs := make(map[string]uint64, len(keys))
	refs := make([]string, 0, len(keys))
	for _, k := range keys {
		seqs[k.Ref], _ = s.tabs.Sent.get(k)
		refs = append(refs, k.Ref)
	}
	return sortBySeq(refs, seqs)
}

// SentRemotes lists the remotes that have sent exports, sorted by id
// number (for the auditor).
func (s *Store) SentRemotes() []string {
	seen := map[string]bool{}
	for _, k := range s.tabs.Sent.keys() {
		seen[k.Remote] = true
	}
	ids := make([]string, 0, len(seen))
	for id := range seen {
		ids = append(ids, id)
	}
	return sortIDs(ids)
}

// HasSentRefs reports whether the table holds anything: the kernel asks
// before it looks for a remote's rows, which most units applying a
// message would otherwise do for nothing.
func (s *Store) HasSentRefs() bool { return s.tabs.Sent.len() > 0 }

// sortBySeq sorts refs by their seq in seqs, then by ref, and returns
// them: the order SentRefs and GoneRefs list a remote's rows in, so that
// a caller forgetting the rows a peer's known covers can stop at the
// first one past it.
func sortBySeq(refs []string, seqs map[string]uint64) []string {
	slices.SortFunc(refs, func(a, b string) int {
		if sa, sb := seqs[a], seqs[b]; sa != sb {
			return cmp.Compare(sa, sb)
		}
		return cmp.Compare(a, b)
	})
	return refs
}
