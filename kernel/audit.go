package kernel

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/ocapgo/kernel-actors/persistence"
)

// Audit recomputes every reference count from the c-lists, queues, promise
// values, pins and sturdy refs, checks the structural invariants the kernel relies on,
// and, when nothing is waiting for a flush, compares every in-memory table
// with a fresh read of the database. It returns one line per problem; none
// means the state is sound (invariants 2 and 10). Tests run it
// after every crank.
//
// A store opened read-only is audited as the snapshot it is, without
// the comparison with the file.
//
// Audit reads only; it needs no unit open and must not be called while one
// is.
//
// It recomputes rather than trusts: every expected count is derived from
// the references themselves, with none of the kernel's incRef/decRef code
// on the path, so a bookkeeping bug in the kernel cannot hide itself.
// It works on a store alone, so the inspector can run it on a file with no
// kernel over it. docs/audit.md lists every check for users.
func Audit(ctx context.Context, st persistence.Auditable) ([]string, error) {
	// With a unit open the overlay holds half a unit's changes: counts
	// caught mid-update would be reported as problems that the unit's end
	// (its GC, in commit) is about to resolve.
	if st.InUnit() {
		return nil, fmt.Errorf("kernel: Audit with a unit open")
	}
	a := &auditor{st: st, obj: map[KRef]*[2]int64{}, prom: map[KRef]int64{}, results: map[KRef]int{}}
	// First gather: every source of a reference adds what it implies
	// (refcount.go's model) to obj and prom; then compare with the stored
	// counts; then the structural checks, which rely on a.results.
	a.countPins()
	a.countCLists()
	a.countRemoteCLists()
	a.countRetired()
	a.countSent()
	a.countGone()
	a.checkWaiting()
	a.countQueue()
	a.countPromises()
	a.countSubclusters()
	a.countIdempotency()
	a.countSturdyRefs()
	a.compareCounts()
	a.checkObjects()
	a.checkPromises()
	a.checkGC()
	a.checkLaunches()
	// Rows that load but do not parse, and counters behind their ids
	// (audit_rows.go, audit_ids.go).
	a.checkGCActions()
	a.checkCounters()
	a.checkRows()
	a.checkRemotes()
	a.checkURLMeta()
	// Memory against the file (invariant 2: no in-memory view may drift
	// from the database). Only with nothing waiting for a flush: under
	// group commit, committed units not yet flushed are legitimately in
	// memory only. At most 50 differences are listed.
	if st.Unflushed() == 0 { // (Verify compares nothing on a read-only snapshot)
		diffs, err := st.Verify(ctx, 50)
		if err != nil {
			return nil, err
		}
		for _, d := range diffs {
			a.problem("memory differs from the database: %s", d)
		}
	}
	return a.problems, nil
}

// auditor holds one Audit's working state. It lives for one call and
// belongs to it; nothing in it is shared with a kernel.
type auditor struct {
	st       persistence.Auditable
	obj      map[KRef]*[2]int64 // expected reachable, recognizable
	prom     map[KRef]int64     // expected refcount
	results  map[KRef]int       // queued messages (run queue and promise queues) by result promise
	problems []string
}

// problem records one finding, as a line that names the row and says what
// is wrong with it. Unlike the kernel's errors, these lines do name refs:
// they are for whoever debugs the store (docs/audit.md).
func (a *auditor) problem(format string, args ...any) {
	a.problems = append(a.problems, fmt.Sprintf(format, args...))
}

// ref adds one reference to kref, as refcount.go's model says it counts:
// a promise gets one, an object one recognizable and, if reachable, one
// reachable. from names the source, for the problem line.
func (a *auditor) ref(kref KRef, reachable bool, from string) { a.refs(kref, reachable, 1, from) }

// refs counts n references at once (an object's pins): the auditor's cost
// must follow the store's size, not a count a tampered row claims.
func (a *auditor) refs(kref KRef, reachable bool, n int64, from string) {
	// The krefs of slots, values, targets and results are checked here,
	// where they are counted; a malformed one is reported and not counted.
	if _, err := ParseKRef(string(kref)); err != nil {
		a.problem("%s: %v", from, err)
		return
	}
	if kref.IsPromise() {
		// A reference to a freed promise is a dangling pointer: the next
		// delivery that names it would meet a missing row.
		if _, ok := a.st.Promise(string(kref)); !ok {
			a.problem("%s names missing promise %s", from, kref)
		}
		a.prom[kref] += n
		return
	}
	// A missing object is reported once, by compareCounts ("referenced but
	// does not exist"), not at each reference.
	c := a.obj[kref]
	if c == nil {
		c = new([2]int64)
		a.obj[kref] = c
	}
	if reachable {
		c[0] += n
	}
	c[1] += n
}

// countPins counts each pin as one reachable reference (pin in vat.go).
func (a *auditor) countPins() {
	for _, s := range a.st.ObjectKRefs() {
		o, _ := a.st.Object(s)
		if o.Pins > 0 {
			// One step for all pins: a tampered row may claim 10^8 of them
			// (found by the inspector's fuzzer, which timed out here).
			a.refs(KRef(s), true, o.Pins, "pin")
		}
	}
}

// countCLists counts what every c-list entry implies and checks each
// entry's shape: its index, its vref, its kind, and for an export that the
// vat owns the object.
func (a *auditor) countCLists() {
	for _, vat := range a.st.VatIDs() {
		row, _ := a.st.Vat(vat)
		krefs := a.st.CListKRefs(vat)
		// Invariant 9: termination empties the c-list and the vatstore in
		// its unit; anything left would hold counts nobody can release.
		if row.State != persistence.VatActive && len(krefs) > 0 {
			a.problem("terminated vat %s still has %d c-list entries", vat, len(krefs))
		}
		if row.State != persistence.VatActive && len(a.st.VatstoreKeys(vat)) > 0 {
			a.problem("terminated vat %s still has vatstore entries", vat)
		}
		for _, s := range krefs {
			kref := KRef(s)
			e, _ := a.st.CList(vat, s)
			from := fmt.Sprintf("c-list %s %s=%s", vat, s, e.VRef)
			if _, err := ParseKRef(s); err != nil {
				a.problem("%s: %v", from, err)
				continue
			}
			// The two directions of the c-list are two tables; if they
			// disagree, a vat's syscalls (by vref) and its deliveries (by
			// kref) would see different c-lists.
			if back, ok := a.st.KRefOf(vat, e.VRef); !ok || back != s {
				a.problem("%s: by-vref index says %q", from, back)
			}
			info, err := parseVRef(VRef(e.VRef))
			if err != nil {
				a.problem("%s: %v", from, err)
				continue
			}
			a.countCListEntry(vat, kref, e, from, info.promise, info.export)
		}
	}
}

// countCListEntry checks one c-list entry of owner (a vat or a remote),
// whose ref is a promise or an object export as its parsed form says, and
// counts what it implies.
func (a *auditor) countCListEntry(owner string, kref KRef, e persistence.CListRow, from string, promise, export bool) {
	if promise != kref.IsPromise() {
		a.problem("%s: kind mismatch", from)
		return
	}
	// Any promise entry counts one, export or import, settled or
	// not: a settled promise in a c-list is one the owner has not been
	// notified of yet.
	if kref.IsPromise() {
		a.ref(kref, true, from)
		return
	}
	o, exists := a.st.Object(string(kref))
	// INVARIANT 10: an export counts nothing (the exporter owns, it does
	// not hold), but it must be the owner's: orphanObject deletes the
	// entry when it clears the owner, and an entry left behind would let
	// the old owner go on naming the object as its own.
	if export {
		if !exists || o.Owner != owner {
			a.problem("%s: export of an object %s does not own", from, owner)
		}
		return
	}
	// An import may outlive its object only while the retireImport that
	// will remove it waits in the GC set (retireObject).
	if !exists {
		pending := slices.Contains(a.st.GCActions(), persistence.GCActionKey{Vat: owner, Kind: persistence.GCRetireImport, KRef: string(kref)})
		if !pending {
			a.problem("%s: import of a deleted object with no retireImport pending", from)
		}
		return
	}
	a.ref(kref, e.Reachable, from)
}

// countMessage counts a queued message's references: its target, its
// result and every slot, each reachable (a queued message can be
// delivered), and notes the result for checkSettleable.
func (a *auditor) countMessage(target KRef, m persistence.Message, from string) {
	a.ref(target, true, from)
	if m.Result != "" {
		a.ref(KRef(m.Result), true, from+" result")
		a.results[KRef(m.Result)]++
	}
	for _, s := range m.Methargs.Slots {
		a.ref(KRef(s), true, from+" slot")
	}
}

// countQueue counts the run queue and every promise's queue, and checks
// that each promise's queue bounds (QueueHead, QueueTail) describe
// exactly the messages stored for it: with a bound off by one, resolve
// would leave a message behind, or stop the kernel on a missing one
// (invariant 13).
func (a *auditor) countQueue() {
	for i, it := range a.st.QueueItems() {
		from := fmt.Sprintf("run queue item %d", i)
		switch it.Kind {
		case persistence.QueueSend:
			a.countMessage(KRef(it.Target), it.Message, from)
		case persistence.QueueNotify:
			a.ref(KRef(it.KPID), true, from)
		default:
			a.problem("%s: unknown kind %q", from, it.Kind)
		}
	}
	// Messages waiting on promises: a message's target is implied by the
	// queue it is in (persistence.Message), so the promise is counted as
	// the target.
	perPromise := map[string]uint64{}
	for _, key := range a.st.QueuedMessageKeys() {
		m, _ := a.st.QueuedMessage(key.KPID, key.Seq)
		from := fmt.Sprintf("message %d queued on %s", key.Seq, key.KPID)
		a.countMessage(KRef(key.KPID), m, from)
		perPromise[key.KPID]++
		// A message outside the bounds is one resolve will never move.
		if p, ok := a.st.Promise(key.KPID); ok && (key.Seq < p.QueueHead || key.Seq >= p.QueueTail) {
			a.problem("%s: outside the queue's bounds %d..%d", from, p.QueueHead, p.QueueTail)
		}
	}
	// And the other way round: the bounds promise a message at every seq
	// between them (seqs are contiguous: queueOnPromise appends at the
	// tail, resolve empties the whole queue).
	for _, s := range a.st.PromiseKPIDs() {
		p, _ := a.st.Promise(s)
		if p.QueueTail < p.QueueHead || p.QueueTail-p.QueueHead != perPromise[s] {
			a.problem("promise %s: queue bounds %d..%d but %d messages queued", s, p.QueueHead, p.QueueTail, perPromise[s])
		}
	}
}

// countPromises counts the host's hold on each promise it awaits and the
// references each settled value holds.
func (a *auditor) countPromises() {
	for _, s := range a.st.PromiseKPIDs() {
		p, _ := a.st.Promise(s)
		if p.HostSubscribed {
			a.ref(KRef(s), true, "host")
		}
		for _, slot := range p.Value.Slots {
			a.ref(KRef(slot), true, "value of "+s)
		}
	}
}

// countSubclusters counts the hold each subcluster keeps on its bootstrap
// result promise.
func (a *auditor) countSubclusters() {
	for _, id := range a.st.SubclusterIDs() {
		if row, _ := a.st.Subcluster(id); row.BootstrapKPID != "" {
			a.ref(KRef(row.BootstrapKPID), true, "bootstrap result of "+id)
		}
	}
}

// countIdempotency counts the hold each idempotency record keeps on its
// result promise.
func (a *auditor) countIdempotency() {
	for _, key := range a.st.IdempotencyKeys() {
		row, _ := a.st.Idempotency(key)
		a.ref(KRef(row.KPID), true, fmt.Sprintf("idempotency key %q", key))
	}
}

// compareCounts reports every stored count that differs from what the
// references imply (invariant 10), and every reference to an object that
// does not exist. A count too high leaks the object forever; one too low
// frees it while someone can still send to it.
func (a *auditor) compareCounts() {
	for _, s := range a.st.ObjectKRefs() {
		o, _ := a.st.Object(s)
		want := a.obj[KRef(s)]
		if want == nil {
			want = new([2]int64)
		}
		if o.Reachable != want[0] || o.Recognizable != want[1] {
			a.problem("object %s: refcount %d,%d but references imply %d,%d", s, o.Reachable, o.Recognizable, want[0], want[1])
		}
		delete(a.obj, KRef(s))
	}
	// What is left was referenced but has no row. (Ranging over a map:
	// with several missing objects, their lines come in no fixed order.)
	for kref := range a.obj {
		a.problem("object %s is referenced but does not exist", kref)
	}
	// Promises have one count; a missing promise that is referenced was
	// reported by ref already.
	for _, s := range a.st.PromiseKPIDs() {
		p, _ := a.st.Promise(s)
		if want := a.prom[KRef(s)]; p.RefCount != want {
			a.problem("promise %s: refcount %d but references imply %d", s, p.RefCount, want)
		}
	}
}

// vatActive reports whether vat exists and is not terminated; a remote
// endpoint stands where a vat can (owner, subscriber) and counts when it
// takes messages (audit_remote.go).
func (a *auditor) vatActive(vat string) bool {
	if isRemoteEndpoint(vat) {
		return a.remoteActive(vat)
	}
	row, ok := a.st.Vat(vat)
	return ok && row.State == persistence.VatActive
}

// checkObjects checks each object's counts and owner, and that GC has been
// told what the counts imply: the end of every unit (collectGarbage) must
// leave no unreachable object without its pending action.
func (a *auditor) checkObjects() {
	gc := map[persistence.GCActionKey]bool{}
	for _, g := range a.st.GCActions() {
		gc[g] = true
	}
	for _, s := range a.st.ObjectKRefs() {
		o, _ := a.st.Object(s)
		if o.Reachable < 0 || o.Reachable > o.Recognizable {
			a.problem("object %s: counts %d,%d out of order", s, o.Reachable, o.Recognizable)
		}
		// An orphan has nobody to tell: collectGarbage deletes it as soon
		// as nobody can reach it, so one still here is a leak.
		if o.Owner == "" {
			if o.Reachable == 0 {
				a.problem("object %s: orphaned and unreachable but not retired", s)
			}
			continue
		}
		// The kernel's own objects have no c-list and no GC
		// (remote_url_service.go).
		if o.Owner == kernelEndpoint {
			a.checkKernelObject(s)
			continue
		}
		// Invariant 9: termination orphans every export, so an owner must
		// be alive.
		if !a.vatActive(o.Owner) {
			a.problem("object %s: owner %s is not an active vat", s, o.Owner)
			continue
		}
		e, ok := a.st.CList(o.Owner, s)
		if !ok {
			a.problem("object %s: owner %s has no c-list entry for it", s, o.Owner)
			continue
		}
		// The exporter's flag still set while nobody can reach the object
		// means the exporter was never told: without the pending
		// dropExport it keeps the object's state forever.
		if o.Reachable == 0 && e.Reachable && !gc[persistence.GCActionKey{Vat: o.Owner, Kind: persistence.GCDropExport, KRef: s}] {
			a.problem("object %s: unreachable, but its exporter was not told (no dropExport pending)", s)
		}
		// Likewise for identity: nobody can even recognize it, so the
		// exporter should be told to retire it.
		if o.Recognizable == 0 && !gc[persistence.GCActionKey{Vat: o.Owner, Kind: persistence.GCRetireExport, KRef: s}] {
			a.problem("object %s: unrecognizable, but no retireExport pending", s)
		}
	}
}

// checkPromises checks each promise's shape: unresolved ones can be
// settled and have sane subscribers; settled ones have dropped everything
// but their value (invariant 10: settled promises leave the c-lists and
// are freed when nothing refers to them).
func (a *auditor) checkPromises() {
	for _, s := range a.st.PromiseKPIDs() {
		p, _ := a.st.Promise(s)
		// Freed at the end of the unit that took its last reference.
		if p.RefCount == 0 {
			a.problem("promise %s: refcount 0 but not freed", s)
		}
		if p.State == persistence.PromiseUnresolved {
			a.checkSettleable(s, p)
			// subscribe keeps Subscribers a sorted set (it binary-searches
			// it); an unsorted or repeated list would mean a vat notified
			// twice, or a subscriber unsubscribe cannot find.
			if !slices.IsSorted(p.Subscribers) || len(slices.Compact(slices.Clone(p.Subscribers))) != len(p.Subscribers) {
				a.problem("promise %s: subscribers %v not sorted and unique", s, p.Subscribers)
			}
			for _, sub := range p.Subscribers {
				if !a.vatActive(sub) {
					a.problem("promise %s: subscriber %s is not an active vat", s, sub)
				}
			}
			continue
		}
		// resolve writes a settled row with none of these; one left would
		// be a second settlement waiting to happen (a decider), a notify
		// never sent (a subscriber) or a message never moved (a queue).
		if p.Decider != "" || len(p.Subscribers) > 0 || p.QueueHead != p.QueueTail {
			a.problem("promise %s: settled but still has a decider, subscribers or queue", s)
		}
	}
}

// checkSettleable reports an unresolved promise that nobody can settle
// (invariant 12): its decider is gone, does not hold it, or is a later
// incarnation than the one whose heap knew it (a restart that failed to
// reject it); or the kernel decides it but no queued message has it as its
// result, so no delivery will ever hand the authority on.
func (a *auditor) checkSettleable(s string, p persistence.PromiseRow) {
	// The kernel's own promises are the results of queued messages
	// (syscallSend, QueueMessage, a bootstrap): exactly one message must
	// carry each, or no delivery will ever hand the authority on.
	if p.Decider == "" {
		switch n := a.results[KRef(s)]; {
		case n == 0:
			a.problem("promise %s: unresolved and decided by the kernel, but no queued message has it as its result: nobody can settle it", s)
		case n > 1:
			// The second delivery would find it decided already
			// (prepareSend's bugf).
			a.problem("promise %s: the result of %d queued messages", s, n)
		}
		return
	}
	if isRemoteEndpoint(p.Decider) {
		a.checkRemoteDecider(s, p)
		return
	}
	row, ok := a.st.Vat(p.Decider)
	switch {
	case !ok || row.State != persistence.VatActive:
		a.problem("promise %s: decider %s is not an active vat", s, p.Decider)
	case p.DeciderIncarnation != row.Incarnation:
		a.problem("promise %s: decided by incarnation %d of %s, which is gone (now %d): nobody can settle it", s, p.DeciderIncarnation, p.Decider, row.Incarnation)
	default:
		if _, ok := a.st.CList(p.Decider, s); !ok {
			a.problem("promise %s: decider %s does not hold it", s, p.Decider)
		}
	}
}

// checkLaunches checks the pending-bootstrap marks against the
// subclusters: each names a subcluster whose bootstrap promise it is, and
// that promise is still unresolved (it is unmarked when it settles).
//
// A wrong mark would terminate a subcluster when some other promise is
// rejected (bootstrapSettledLocked), or name one that is gone.
func (a *auditor) checkLaunches() {
	for _, key := range a.st.MetaKeys() {
		kpid, ok := strings.CutPrefix(key, metaBootstrapPrefix)
		if !ok {
			continue
		}
		sid, _ := a.st.Meta(key)
		row, ok := a.st.Subcluster(sid)
		switch {
		case !ok:
			a.problem("pending bootstrap %s names missing subcluster %s", kpid, sid)
		case row.BootstrapKPID != kpid:
			a.problem("pending bootstrap %s: subcluster %s's bootstrap promise is %q", kpid, sid, row.BootstrapKPID)
		default:
			if p, ok := a.st.Promise(kpid); ok && p.State != persistence.PromiseUnresolved {
				a.problem("pending bootstrap %s is already %s", kpid, p.State)
			}
		}
	}
}

// checkGC reports GC actions for vats the store does not know; actions for
// known vats are checked in full by checkGCActions (audit_rows.go).
func (a *auditor) checkGC() {
	for _, g := range a.st.GCActions() {
		if _, ok := a.st.Vat(g.Vat); !ok && !a.remoteKnown(g.Vat) {
			a.problem("GC action %v for unknown vat", g)
		}
	}
}
