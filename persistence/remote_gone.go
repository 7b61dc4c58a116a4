package persistence

// The gone-object table keeps, for a while, the refs of objects this
// kernel told a peer are gone: when an object the peer imports is
// retired here, the kernel writes the peer a retireImports and deletes
// the peer's c-list entry, but the peer may have written messages naming
// the object (a send to it, an argument) before it applied the retire,
// and they arrive after the entry went. Each row maps the peer's ref in
// this kernel's frame (ro-N, an object this kernel allocated for the
// peer) to the seq of the retireImports that retired it, and, once a
// message of the peer's has named it, to the orphan object (no owner)
// that stands in for it here; package kernel counts that orphan as
// referenced by the row. A row is deleted once a message of the peer
// shows it had applied the retireImports when it wrote the message
// (wire.Message.Known), after which the peer can no longer name the ref
// (refs are never reused), and when the kernel gives up on the peer.

// GoneKey names a gone object's ref: the remote, and the ref in this
// kernel's frame (ro-N).
type GoneKey struct {
	Remote string
	Ref    string
}

// GoneRow is a gone ref's stand-in (the kref of an orphan object, or ""
// while no message has named the ref) and the seq of the retireImports
// that retired it.
type GoneRow struct {
	KRef string
	Seq  uint64
}

// goneByRemote is the table's partitioning, by remote.
const goneByRemote = 0

func gonePart(k GoneKey) string { return k.Remote }

// String spells a key as the auditor and Verify print it.
func (k GoneKey) String() string { return k.Remote + "/" + k.Ref }

// GoneRef reads a gone ref of remote.
func (s *Store) GoneRef(remote, ref string) (GoneRow, bool) {
	return s.tabs.Gone.get(GoneKey{remote, ref})
}

// PutGoneRef records a gone ref of remote.
func (s *Store) PutGoneRef(remote, ref string, r GoneRow) {
	s.mustOpen()
	s.tabs.Gone.put(GoneKey{remote, ref}, r)
}

// DeleteGoneRef forgets a gone ref of remote (a no-op if none).
func (s *Store) DeleteGoneRef(remote, ref string) {
	s.mustOpen()
	s.tabs.Gone.del(GoneKey{remote, ref})
}

// GoneRefs lists the gone refs of remote, by the seq of the
// retireImports that retired them, then by ref.
func (s *Store) GoneRefs(remote string) []string {
	keys := s.tabs.Gone.keysIn(goneByRemote, remote)
	seqs := make(map[string]uint64, len(keys))
	refs := make([]string, 0, len(keys))
	for _, k := range keys {
		r, _ := s.tabs.Gone.get(k)
		seqs[k.Ref] = r.Seq
		refs = append(refs, k.Ref)
	}
	return sortBySeq(refs, seqs)
}

// GoneRemotes lists the remotes that have gone refs, sorted by id number
// (for the auditor).
func (s *Store) GoneRemotes() []string {
	seen := map[string]bool{}
	for _, k := range s.tabs.Gone.keys() {
		seen[k.Remote] = true
	}
	ids := make([]string, 0, len(seen))
	for id := range seen {
		ids = append(ids, id)
	}
	return sortIDs(ids)
}

// HasGoneRefs reports whether the table holds anything: the kernel asks
// before it looks for a remote's rows, which nearly every unit applying
// a message would otherwise do for nothing.
func (s *Store) HasGoneRefs() bool { return s.tabs.Gone.len() > 0 }
