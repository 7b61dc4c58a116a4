package persistence

import "slices"

// The sturdy-ref table holds the OCAP URLs a kernel has issued and not
// revoked: each row maps a URL's object id (oid, 32 hex digits) to the
// kref of the object it names, so that the kref never leaves the kernel
// (docs/remote.md, "OCAP URLs"). An entry is a reference to its object:
// package kernel counts it as one reachable reference when it writes the
// row and drops it when it deletes the row (revocation), and its auditor
// recounts it; the store only keeps the rows, written in a unit like
// every table.

// MetaNextOcapURL numbers the OCAP URLs a kernel issues, from 1: the
// counter its object ids are derived from (never reused, so no two URLs
// get the same oid).
const MetaNextOcapURL = "next_ocap_url"

// SturdyRef reads the kref of the object oid names.
func (s *Store) SturdyRef(oid string) (string, bool) { return s.tabs.SturdyRefs.get(oid) }

// PutSturdyRef records that oid names the object kref.
func (s *Store) PutSturdyRef(oid, kref string) { s.mustOpen(); s.tabs.SturdyRefs.put(oid, kref) }

// DeleteSturdyRef deletes oid's entry (a no-op if there is none).
func (s *Store) DeleteSturdyRef(oid string) { s.mustOpen(); s.tabs.SturdyRefs.del(oid) }

// SturdyRefOIDs lists the object ids of the table, sorted (for the
// auditor and the inspector).
func (s *Store) SturdyRefOIDs() []string {
	oids := s.tabs.SturdyRefs.keys()
	slices.Sort(oids)
	return oids
}

// SturdyRefCount is how many entries the table holds.
func (s *Store) SturdyRefCount() int { return s.tabs.SturdyRefs.len() }
