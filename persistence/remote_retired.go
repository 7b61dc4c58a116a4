package persistence

import (
	"cmp"
	"slices"
)

// The retired-promise table keeps, for a while, what a remote's c-list
// no longer holds: a promise this kernel settled and told the peer of
// (a notify), whose c-list entry left with the notify as invariant 10
// wants, but which the peer may still name in messages it wrote before it
// applied the notify (a send pipelined on the promise crossing the
// answer on the link). Each row maps the remote ref to the settled
// promise's kref, with the sequence number of the notify that retired
// it; package kernel counts the row as a reference to the promise, and
// deletes it once a message from the peer shows the peer had applied that
// notify when it wrote the message (wire.Message.Known), after which the
// peer can no longer name the ref (refs are never reused).

// RetiredKey names a retired ref: the remote, and the ref in this
// kernel's frame.
type RetiredKey struct {
	Remote string
	Ref    string
}

// RetiredRow is a retired ref's promise and the seq of the notify that
// retired it.
type RetiredRow struct {
	KRef string
	Seq  uint64
}

// retiredByRemote is the table's partitioning, by remote.
const retiredByRemote = 0

func retiredPart(k RetiredKey) string { return k.Remote }

// String spells a key as the auditor and Verify print it.
func (k RetiredKey) String() string { return k.Remote + "/" + k.Ref }

// RetiredRef reads a retired ref of remote.
func (s *Store) RetiredRef(remote, ref string) (RetiredRow, bool) {
	return s.tabs.Retired.get(RetiredKey{remote, ref})
}

// PutRetiredRef records a retired ref of remote.
func (s *Store) PutRetiredRef(remote, ref string, r RetiredRow) {
	s.mustOpen()
	s.tabs.Retired.put(RetiredKey{remote, ref}, r)
}

// DeleteRetiredRef deletes a retired ref of remote (a no-op if none).
func (s *Store) DeleteRetiredRef(remote, ref string) {
	s.mustOpen()
	s.tabs.Retired.del(RetiredKey{remote, ref})
}

// RetiredRefs lists the retired refs of remote, by the seq of the notify
// that retired them, then by ref.
func (s *Store) RetiredRefs(remote string) []string {
	keys := s.tabs.Retired.keysIn(retiredByRemote, remote)
	rows := make(map[string]RetiredRow, len(keys))
	refs := make([]string, 0, len(keys))
	for _, k := range keys {
		r, _ := s.tabs.Retired.get(k)
		rows[k.Ref] = r
		refs = append(refs, k.Ref)
	}
	slices.SortFunc(refs, func(a, b string) int {
		if ra, rb := rows[a], rows[b]; ra.Seq != rb.Seq {
			return cmp.Compare(ra.Seq, rb.Seq)
		}
		return cmp.Compare(a, b)
	})
	return refs
}

// RetiredRemotes lists the remotes that have retired refs, sorted by id
// number (for the auditor).
func (s *Store) RetiredRemotes() []string {
	seen := map[string]bool{}
	for _, k := range s.tabs.Retired.keys() {
		seen[k.Remote] = true
	}
	ids := make([]string, 0, len(seen))
	for id := range seen {
		ids = append(ids, id)
	}
	return sortIDs(ids)
}

// HasRetiredRefs reports whether the table holds anything: the kernel
// asks before it looks for a remote's rows, which nearly every unit
// applying a message would otherwise do for nothing.
func (s *Store) HasRetiredRefs() bool { return s.tabs.Retired.len() > 0 }
