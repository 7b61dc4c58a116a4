package persistence

// A kref the store handed out since its last flush cannot be named by any
// flushed row: krefs come from the meta counters (MetaNextObject for koN,
// MetaNextPromise for kpN) through NextID, and a flush writes the rows
// with the counters. So a paged table asked for a row keyed by such a kref
// (an object, a promise, a message queued on it, or any vat's c-list entry
// for it) knows the backend has none, without reading it. That is most of
// a crank's lookups that miss: the kernel asks whether a vat already holds
// the promise it is about to hand it, and for a promise made in this crank
// the answer is always no.
//
// The store records exactly what it handed out, [lo, hi) for each
// counter since the last flush, rather than trusting the counters: a file
// whose counter was rewound (the auditor reports it) holds rows above the
// counter, and those must stay visible.

// handedOut is, by kref prefix, the numbers NextID handed out since the
// last flush (or open).
type handedOut map[string]idRange

type idRange struct{ lo, hi uint64 }

// kref counters, by the prefix of the krefs they hand out.
var krefCounters = map[string]string{MetaNextObject: "ko", MetaNextPromise: "kp"}

// noteFlushed forgets what was handed out: it is flushed now.
func (s *Store) noteFlushed() { clear(s.handed) }

// noteHanded records that NextID handed out n of counter.
func (s *Store) noteHanded(counter string, n uint64) {
	prefix, ok := krefCounters[counter]
	if !ok {
		return
	}
	if s.handed == nil {
		s.handed = make(handedOut, 2)
	}
	r, ok := s.handed[prefix]
	if !ok {
		r = idRange{lo: n, hi: n}
	}
	// An aborted unit's numbers are handed out again; they were never
	// flushed either.
	r.lo, r.hi = min(r.lo, n), max(r.hi, n+1)
	s.handed[prefix] = r
}

// newerThanFlush reports whether kref was handed out since the last
// flush, so that no flushed row can name it.
//
// INVARIANT: true only for a kref NextID handed out in this process
// after the last flush; the backend holds only what flushes wrote.
func (s *Store) newerThanFlush(kref string) bool {
	prefix, n, ok := splitID(kref)
	if !ok {
		return false
	}
	r, ok := s.handed[prefix]
	return ok && r.lo <= n && n < r.hi
}
