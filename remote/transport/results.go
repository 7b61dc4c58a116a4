package transport

import "github.com/ocapgo/kernel-actors/kernel"

// DefaultMaxUnread is Config.MaxUnread when none is set.
const DefaultMaxUnread = 4096

// results holds the settlements the node has released for host Waits,
// bounded. A result is handed out once: to the Waits already waiting for
// it when it is released, or to the first Wait after, and then
// forgotten, so a host that waits for each of its promises keeps nothing
// (a long bench once kept every round trip's). Results nobody has waited
// for yet (a send whose answer the host never asks for, an early
// Aborted) are kept up to max, after which the oldest is dropped: a Wait
// for it then waits until its context ends, as for a promise that never
// settles. Guarded by Node.mu.
type results struct {
	max   int
	byKP  map[kernel.KRef]resultEntry
	order []orderItem // release order, with entries taken since (compacted)
	next  uint64
	// dropped counts the results dropped unread.
	dropped uint64
}

// resultEntry is one unread result, with its release number.
type resultEntry struct {
	o kernel.Output
	n uint64
}

// orderItem is a place in the release order: the entry of kp released
// as number n (kp may have been taken since, and released again).
type orderItem struct {
	kp kernel.KRef
	n  uint64
}

func newResults(max int) *results {
	return &results{max: max, byKP: map[kernel.KRef]resultEntry{}}
}

// put keeps o until a Wait takes it, dropping the oldest unread result
// beyond the bound. A promise's first Output is the host's answer: a
// later one while the first is unread is ignored (package kernel's duty
// 3). One after the first was taken is kept as any other, and bounded as
// any other.
func (r *results) put(o kernel.Output) {
	if _, unread := r.byKP[o.KPID]; unread {
		return
	}
	r.next++
	r.byKP[o.KPID] = resultEntry{o: o, n: r.next}
	r.order = append(r.order, orderItem{o.KPID, r.next})
	for len(r.byKP) > r.max {
		oldest := r.order[0]
		r.order = r.order[1:]
		if r.holds(oldest) {
			delete(r.byKP, oldest.kp)
			r.dropped++
		}
	}
	// INVARIANT: the memory held is bounded by the unread results: order
	// is compacted once most of it names results already taken.
	if len(r.order) > 2*len(r.byKP)+64 {
		kept := make([]orderItem, 0, len(r.byKP))
		for _, it := range r.order {
			if r.holds(it) {
				kept = append(kept, it)
			}
		}
		r.order = kept
	}
}

// holds reports whether it is the place of an unread entry.
func (r *results) holds(it orderItem) bool {
	e, ok := r.byKP[it.kp]
	return ok && e.n == it.n
}

// take returns kpid's unread result and forgets it.
func (r *results) take(kpid kernel.KRef) (kernel.Output, bool) {
	e, ok := r.byKP[kpid]
	if ok {
		delete(r.byKP, kpid)
	}
	return e.o, ok
}

// len is how many results are unread.
func (r *results) len() int { return len(r.byKP) }
