package kernel

import (
	"errors"
	"slices"
	"unicode/utf8"

	"github.com/ocapgo/kernel-actors/marshal"
)

// delivery is the kernel side of one delivery in progress: it answers the
// vat's syscalls against the open unit and remembers what the vat asked
// for. It is the Syscaller a Deliverer is given. It lives for one Deliver
// call (Crank, deliverStart) and is owned by the crank's goroutine: the
// Deliverer must call Syscall on it from there (doc.go, duty 2), which is
// why none of its fields needs a lock.
//
// It plays MetaMask ocap-kernel's VatSyscall, with two departures that
// the fields below carry: the illegal mark is sticky (VatSyscall's
// handleSyscall clears illegalSyscall at the start of every syscall), and
// a closed delivery refuses stragglers.
type delivery struct {
	k   *Kernel
	vat VatID
	// closed is set when Deliver returns: a syscall after that (a vat
	// goroutine that did not stop in time) is refused and changes nothing.
	closed bool
	// illegal is the first illegal syscall's detail. INVARIANT 5: once set
	// it stays set for the whole delivery, and every later syscall is
	// refused, so a legal syscall cannot wash out an illegal one (the
	// reference kernel forgets it).
	illegal error
	// exit records a syscall.exit; Crank acts on it once Deliver returns.
	exit *exitRequest
	// syscalls, sends and bytes count what the delivery has asked so far,
	// against the kernel's per-delivery limits (limits.go); syscalls also
	// goes into the crank's log line. bytes is in bytes: the sum of
	// syscallBytes over the delivery's syscalls.
	syscalls, sends int
	bytes           int64
}

// exitRequest is a vat's syscall.exit: failure says whether the vat is
// failing (the delivery is rolled back, and the vat terminated or
// restarted under its policy) or leaving cleanly (the delivery commits,
// then the vat is terminated in the same unit); info is the vat's reason,
// validated, for the log.
type exitRequest struct {
	failure bool
	info    marshal.CapData
}

var _ Syscaller = (*delivery)(nil)

// errRefused answers syscalls after an illegal one, or after the delivery.
// It is not ErrIllegalSyscall: a refused syscall is not a new fault, and
// it must not replace the detail of the first one (invariant 5).
var errRefused = errors.New("syscall refused: the delivery has failed or ended")

// Syscall handles one syscall from the vat. Every error a syscall can
// meet is the calling vat's fault, reported as ErrIllegalSyscall and kept
// in illegal; nothing here panics for what a vat sent (a bugf here means a
// kernel bug).
func (d *delivery) Syscall(s Syscall) SyscallResult {
	// INVARIANT 5: after an illegal syscall (or after Deliver returned)
	// nothing more is honoured, and nothing more is charged either.
	if d.closed || d.illegal != nil {
		return SyscallResult{Err: errRefused}
	}
	// INVARIANT 14: a flooding delivery is stopped at the syscall that
	// crosses a limit, as its own vat's fault. The charge comes before the
	// work, so the syscall that crosses a limit is not carried out.
	if err := d.charge(s); err != nil {
		return d.fail(err)
	}
	res, err := d.handle(s)
	if err != nil {
		return d.fail(err)
	}
	return res
}

// fail marks the delivery illegal with err's detail. The detail goes to
// the log only; the vat is told ErrIllegalSyscall, with no refs in it
// (invariant 7), and once Deliver returns the crank is rolled back and
// the vat terminated (Crank, failVat). A syscall that failed part way has
// written into the open unit; the rollback undoes that too.
func (d *delivery) fail(err error) SyscallResult {
	d.illegal = err
	d.k.log.Warn().Str("vat", string(d.vat)).Err(err).Msg("illegal syscall; the vat will be terminated")
	return SyscallResult{Err: ErrIllegalSyscall}
}

// handle carries out one charged syscall against the open unit and
// returns its result, or an illegal-syscall detail. Each vref the vat
// names is translated through its c-list (clist.go), which is where a vat
// that names what it does not hold is caught.
func (d *delivery) handle(s Syscall) (SyscallResult, error) {
	k, vat := d.k, d.vat
	switch s.Kind {
	case SyscallSend:
		return SyscallResult{}, k.syscallSend(vat, s.Target, s.Message)
	case SyscallSubscribe:
		// required: a vat may subscribe only to a promise it already
		// holds; a new p+N here would allocate a promise nobody was ever
		// told of.
		kpid, err := k.vrefToKRef(vat, s.VPID, vrefOpts{required: true})
		if err != nil {
			return SyscallResult{}, err
		}
		if !kpid.IsPromise() {
			return SyscallResult{}, errIllegal("subscribe to non-promise %s", s.VPID)
		}
		// A promise already settled is notified at once (subscribe), as
		// ocap-kernel's #handleSyscallSubscribe does.
		k.subscribe(vat, kpid)
		return SyscallResult{}, nil
	case SyscallResolve:
		return SyscallResult{}, k.syscallResolve(vat, s.Resolutions)
	case SyscallExit:
		// The vat may go on with the delivery (liveslots still settles the
		// method's result); the exit takes effect when the delivery ends.
		// A second exit is illegal.
		if d.exit != nil {
			return SyscallResult{}, errIllegal("exit called twice")
		}
		// INVARIANT 14: the reason is logged and may be shown; a vat
		// cannot make the kernel carry garbage even there.
		if err := checkData("exit info", s.Info); err != nil {
			return SyscallResult{}, err
		}
		// A copy: the vat's slices are its own, and may change after the
		// syscall returns.
		d.exit = &exitRequest{failure: s.Failure, info: s.Info.Clone()}
		return SyscallResult{}, nil
	case SyscallDropImports:
		return SyscallResult{}, k.syscallDropImports(vat, s.VRefs)
	case SyscallRetireImports:
		return SyscallResult{}, k.syscallRetireImports(vat, s.VRefs)
	case SyscallRetireExports:
		return SyscallResult{}, k.syscallRetireExports(vat, s.VRefs)
	case SyscallAbandonExports:
		return SyscallResult{}, k.syscallAbandonExports(vat, s.VRefs)
	// The vatstore syscalls touch only the calling vat's own entries (the
	// store keys them by vat id), so they need no translation. Keys are
	// held to the same bound on reads: no write could have made a longer
	// key, so asking for one is the vat misbehaving (liveslots answers
	// such a read "not found" without making the syscall).
	case SyscallVatstoreGet:
		if err := k.checkVatstoreKey(s.Key); err != nil {
			return SyscallResult{}, err
		}
		v, ok := k.st.VatstoreGet(string(vat), s.Key)
		return SyscallResult{Value: v, Found: ok}, nil
	case SyscallVatstoreGetNextKey:
		if err := k.checkVatstoreKey(s.Key); err != nil {
			return SyscallResult{}, err
		}
		next, ok := k.st.VatstoreNextKey(string(vat), s.Key)
		return SyscallResult{Value: next, Found: ok}, nil
	case SyscallVatstoreSet:
		if err := k.checkVatstoreKey(s.Key); err != nil {
			return SyscallResult{}, err
		}
		// INVARIANT 14: the bound is Config.MaxVatstoreValue, in bytes,
		// and the value must be UTF-8 (docs/limits.md; the store keeps
		// vatstore entries in a TEXT column).
		if len(s.Value) > k.limit.value || !utf8.ValidString(s.Value) {
			return SyscallResult{}, errIllegal("vatstore value of %d bytes: must be valid UTF-8 of at most %d bytes (Config.MaxVatstoreValue)", len(s.Value), k.limit.value)
		}
		k.st.VatstoreSet(string(vat), s.Key, s.Value)
		return SyscallResult{}, nil
	case SyscallVatstoreDelete:
		if err := k.checkVatstoreKey(s.Key); err != nil {
			return SyscallResult{}, err
		}
		k.st.VatstoreDelete(string(vat), s.Key)
		return SyscallResult{}, nil
	}
	// A kind this kernel does not know (a newer liveslots, or a vat that
	// made it up) is the vat's fault, not a kernel bug.
	return SyscallResult{}, errIllegal("unknown syscall kind %d", s.Kind)
}

// checkVatstoreKey holds a vatstore key to Config.MaxVatstoreKey (in
// bytes) and to UTF-8, as an illegal-syscall detail. Liveslots is told the
// same limits at startVat and refuses an over-limit write to vat code
// first (vatLimits), so a vat that reaches this check went around it.
func (k *Kernel) checkVatstoreKey(key string) error {
	if len(key) > k.limit.key || !utf8.ValidString(key) {
		return errIllegal("vatstore key of %d bytes: must be valid UTF-8 of at most %d bytes (Config.MaxVatstoreKey)", len(key), k.limit.key)
	}
	return nil
}

// syscallSend queues a message from vat (SwingSet's translateSend). The
// result, if any, must be a promise the vat allocates for this send; the
// kernel takes its resolution authority until the message is delivered.
// A send with no result (Result "") is a sendOnly: nobody hears how it
// went, and a splat of it only releases its references.
//
// The steps run cheapest and least committal first: validate the bytes,
// check the result's shape, then translate (which may allocate), then
// hand authority over, then queue. Every early return leaves at most
// allocations the crank's rollback removes (the delivery is illegal from
// then on, so it is rolled back).
func (k *Kernel) syscallSend(vat VatID, target VRef, m VatMessage) error {
	// INVARIANT 14: the methargs are checked before any ref is translated,
	// so a refused send has allocated nothing, and the receiver is never
	// handed a message it cannot decode.
	if err := checkMethargs(m.Methargs); err != nil {
		return err
	}
	// The result must be a p+N, a promise the vat allocates now: a p-N is
	// a promise someone else decides, and a vat cannot give away authority
	// it lacks. (requireNew below would refuse a p-N too, with a detail
	// that says less.)
	if m.Result != "" {
		if info, err := parseVRef(m.Result); err != nil || !info.promise || !info.export {
			return errIllegal("send result %s is not a new promise (p+N)", m.Result)
		}
	}
	// The target may be any ref the vat holds, or a new export of its own
	// (a vat may send to itself); an import must still be reachable
	// (clist.go), so a vat cannot send on a reference it dropped.
	tkref, err := k.vrefToKRef(vat, target, vrefOpts{})
	if err != nil {
		return err
	}
	slots, err := k.slotsToKRefs(vat, m.Methargs.Slots)
	if err != nil {
		return err
	}
	var result KRef
	if m.Result != "" {
		// requireNew: the result is allocated by this send, and a p+N the
		// vat used before (as a result, a target or a slot) is refused, so
		// a promise is the result of one message at most (the auditor
		// checks it).
		if result, err = k.vrefToKRef(vat, m.Result, vrefOpts{requireNew: true}); err != nil {
			return err
		}
		p := k.mustPromise(result)
		// While the message waits, nobody but the kernel may resolve the
		// result: not the sender (it would answer its own question), and
		// not yet the receiver. prepareSend hands the authority to the
		// receiver when the message is delivered, as SwingSet does; the
		// reference kernel keeps the sender as decider until then.
		k.setDecider(&p, "") // the run queue holds the authority now
		k.st.PutPromise(string(result), p)
	}
	k.enqueueSend(tkref, marshal.CapData{Body: m.Methargs.Body, Slots: slots}, result)
	return nil
}

// syscallResolve settles promises vat decides (SwingSet's translateResolve
// + doResolve). All are checked before any is settled; each leaves the
// vat's c-list.
//
// It runs in three passes, and the passes are load-bearing:
//
//  1. validate every resolution's data (invariant 14);
//  2. translate every vpid and every slot, and check authority;
//  3. delete the resolver's c-list entries, then settle.
//
// Every translation comes before any delete: a resolution whose data
// names another promise resolved in the same syscall (liveslots resolves
// a promise and the promises in its value together) must find that
// promise still in the c-list; after its entry is gone, the same p+N would
// be a new export and allocate a second, unrelated promise.
func (k *Kernel) syscallResolve(vat VatID, rs []VatResolution) error {
	if len(rs) == 0 {
		return errIllegal("resolve with no resolutions")
	}
	type kres struct {
		kpid     KRef
		rejected bool
		data     marshal.CapData
	}
	// INVARIANT 14: every resolution's data is checked before any is
	// translated: the vats that will be notified must be able to decode
	// it, and a refused resolve has changed nothing.
	for _, r := range rs {
		if err := checkResolution(r); err != nil {
			return err
		}
	}
	// On the stack for the usual one or two resolutions (a make of
	// len(rs) would be on the heap, its size unknown at compile time).
	var krsBuf [4]kres
	krs := krsBuf[:0]
	seen := map[KRef]bool{}
	for _, r := range rs {
		// required: a vat resolves only promises it holds; a new p+N here
		// would be a promise nobody else knows, settled for nobody.
		kpid, err := k.vrefToKRef(vat, r.VPID, vrefOpts{required: true})
		if err != nil {
			return err
		}
		if !kpid.IsPromise() {
			return errIllegal("resolve of non-promise %s", r.VPID)
		}
		// Twice in one syscall would settle a promise twice: the second
		// resolve would find it settled and bugf, a kernel panic a vat
		// could cause. It is caught here as the vat's fault instead.
		if seen[kpid] {
			return errIllegal("%s resolved twice in one syscall", r.VPID)
		}
		seen[kpid] = true
		// Authority: only the promise's current decider may settle it
		// (promise.go). A vat that imported a promise, or sent it as a
		// result and so gave the authority to the kernel, may not.
		if err := k.checkResolver(vat, kpid); err != nil {
			return err
		}
		if !r.Rejected {
			// Fulfilling to a bare promise would be a redirect, which the
			// kernel does not do (SwingSet forbids it too; liveslots never
			// asks for it).
			if _, isPromise, ok := marshal.SingleRef(r.Data); ok && isPromise {
				return errIllegal("cannot fulfill %s to a promise", r.VPID)
			}
		}
		slots, err := k.slotsToKRefs(vat, r.Data.Slots)
		if err != nil {
			return err
		}
		krs = append(krs, kres{kpid, r.Rejected, marshal.CapData{Body: r.Data.Body, Slots: slots}})
	}
	// Nothing below can fail: every check is behind us, so a resolve is
	// all or nothing even before the crank's rollback is counted on.
	//
	// The resolver's entries go (invariant 10: a settled promise leaves
	// the c-lists), and it is not notified (resolve skips it): liveslots
	// settles its own promise locally, as the Deliverer's protocol says
	// (vatproto.go). Deleting before or after settling gives the same
	// counts (resolve carries the refcount over, and decRef works on a
	// settled promise); rejectDecidedLocked does it the other way round.
	for _, r := range krs {
		k.deleteCListEntry(vat, r.kpid)
	}
	for _, r := range krs {
		k.resolve(r.kpid, r.rejected, r.data, vat)
	}
	return nil
}

// gcVRefs maps the vrefs of a GC syscall, which must all be objects in the
// c-list, imports or exports as wantExport says. It checks every vref
// before the caller changes anything, so a GC syscall with one bad vref
// changes nothing.
//
// keepReachable: a GC syscall reports what the vat let go, so the
// translation must not set the reachable flag again (as a send's would)
// nor refuse an unreachable import (dropping twice is harmless).
// required: a GC syscall about a ref the vat never held would make the
// kernel allocate an object just to forget it.
func (k *Kernel) gcVRefs(vat VatID, op string, vrefs []VRef, wantExport bool) ([]KRef, error) {
	krefs := make([]KRef, 0, len(vrefs))
	for _, vref := range vrefs {
		info, err := parseVRef(vref)
		if err != nil {
			return nil, errIllegal("%s: %v", op, err)
		}
		// Promises are not garbage-collected through these syscalls: a
		// settled promise leaves the c-list when it is notified or
		// resolved (invariant 10).
		if info.promise {
			return nil, errIllegal("%s of promise %s", op, vref)
		}
		// The two directions mean different things: an import's flag
		// carries a reachable count (refcount.go), an export's is the
		// kernel's word that nobody can reach the object. A wrong-way
		// syscall would, say, let an exporter clear its own flag and then
		// retire an object others can still reach.
		if info.export != wantExport {
			return nil, errIllegal("%s of %s: wrong direction", op, vref)
		}
		kref, err := k.vrefToKRef(vat, vref, vrefOpts{required: true, keepReachable: true})
		if err != nil {
			return nil, errIllegal("%s: %v", op, err)
		}
		krefs = append(krefs, kref)
	}
	return krefs, nil
}

// syscallDropImports clears the reachable flag of each import: the vat no
// longer holds the object, though it may still recognize it (a WeakMap
// key). The object loses one reachable count per importer that drops it;
// when none is left, collectGarbage queues dropExport for its exporter
// (or retires it, if it is orphaned).
func (k *Kernel) syscallDropImports(vat VatID, vrefs []VRef) error {
	krefs, err := k.gcVRefs(vat, "dropImports", vrefs, false)
	if err != nil {
		return err
	}
	for _, kref := range krefs {
		k.clearReachableFlag(vat, kref)
	}
	return nil
}

// syscallRetireImports deletes each import's c-list entry: the vat can no
// longer even recognize the object. Each entry costs the object one
// recognizable count; the last one lets the exporter be told to retire it.
func (k *Kernel) syscallRetireImports(vat VatID, vrefs []VRef) error {
	krefs, err := k.gcVRefs(vat, "retireImports", vrefs, false)
	if err != nil {
		return err
	}
	// Retire only after drop, as SwingSet and the reference's
	// #handleSyscallRetireImports insist: a vat that skips the drop is
	// not following the GC protocol. All are checked before any is
	// deleted, so a partly bad syscall changes nothing.
	for i, kref := range krefs {
		if e, _ := k.st.CList(string(vat), string(kref)); e.Reachable {
			return errIllegal("retireImports but %s is still reachable", vrefs[i])
		}
	}
	for _, kref := range krefs {
		k.deleteCListEntry(vat, kref)
	}
	return nil
}

// syscallRetireExports is the exporter's word that it has forgotten
// objects the kernel told it nobody can reach (a dropExports delivery
// cleared the flag): the objects are deleted, and any vat that can still
// recognize one is told to retire its import (SwingSet's
// retireKernelObjects, via retireObject).
func (k *Kernel) syscallRetireExports(vat VatID, vrefs []VRef) error {
	krefs, err := k.gcVRefs(vat, "retireExports", vrefs, true)
	if err != nil {
		return err
	}
	// A reachable export may still be reachable by someone: only the
	// kernel, through dropExports, can say it is not. An exporter that
	// retires before that would delete an object others can still send
	// to.
	for i, kref := range krefs {
		if e, _ := k.st.CList(string(vat), string(kref)); e.Reachable {
			return errIllegal("retireExports but %s is still reachable", vrefs[i])
		}
	}
	for _, kref := range krefs {
		k.st.DeleteCList(string(vat), string(kref)) // an export entry: uncounted
		// A guard: everywhere else an export entry and its object go
		// together, so the object should be here; if not, there is
		// nothing left to retire.
		if _, ok := k.st.Object(string(kref)); ok {
			k.retireObject(kref)
		}
	}
	return nil
}

// syscallAbandonExports lets the exporter give up objects it still has
// importers for: each is orphaned (SwingSet's abandonExports), so later
// sends splat OBJECT_DELETED and the object goes once its importers let
// go, exactly as when its exporter is terminated.
func (k *Kernel) syscallAbandonExports(vat VatID, vrefs []VRef) error {
	krefs, err := k.gcVRefs(vat, "abandonExports", vrefs, true)
	if err != nil {
		return err
	}
	if slices.Contains(vrefs, RootVRef) {
		// The kernel holds the root for the vat's life (it is pinned);
		// only termination lets it go.
		return errIllegal("abandonExports of the root object")
	}
	for _, kref := range krefs {
		k.orphanObject(vat, kref)
	}
	return nil
}
