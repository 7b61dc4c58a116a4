package kernel

import (
	"errors"
	"slices"
	"unicode/utf8"

	"github.com/ocapgo/kernel-actors/marshal"
)

// delivery is the kernel side of one delivery in progress: it answers the
// vat's syscalls against the open unit and remembers what the vat asked
// for. It is the Syscaller a Deliverer is given.
type delivery struct {
	k   *Kernel
	vat VatID
	// closed is set when Deliver returns: a syscall after that (a vat
	// goroutine that did not stop in time) is refused and changes nothing.
	closed bool
	// illegal is the first illegal syscall's detail. INVARIANT 5: once set
	// it stays set for the whole delivery, and every later syscall is
	// refused, so a legal syscall cannot wash out an illegal one (the
	// reference forgets it, semantics §3.9 item 4).
	illegal error
	// exit records a syscall.exit.
	exit *exitRequest
	// syscalls, sends and bytes count what the delivery has asked so far,
	// against the kernel's per-delivery limits (limits.go); syscalls also
	// goes into the crank's log line.
	syscalls, sends int
	bytes           int64
}

type exitRequest struct {
	failure bool
	info    marshal.CapData
}

var _ Syscaller = (*delivery)(nil)

// errRefused answers syscalls after an illegal one, or after the delivery.
var errRefused = errors.New("syscall refused: the delivery has failed or ended")

// Syscall handles one syscall from the vat.
func (d *delivery) Syscall(s Syscall) SyscallResult {
	if d.closed || d.illegal != nil {
		return SyscallResult{Err: errRefused}
	}
	// INVARIANT 14: a flooding delivery is stopped at the syscall that
	// crosses a limit, as its own vat's fault.
	if err := d.charge(s); err != nil {
		return d.fail(err)
	}
	res, err := d.handle(s)
	if err != nil {
		return d.fail(err)
	}
	return res
}

func (d *delivery) fail(err error) SyscallResult {
	d.illegal = err
	d.k.log.Warn().Str("vat", string(d.vat)).Err(err).Msg("illegal syscall; the vat will be terminated")
	return SyscallResult{Err: ErrIllegalSyscall}
}

func (d *delivery) handle(s Syscall) (SyscallResult, error) {
	k, vat := d.k, d.vat
	switch s.Kind {
	case SyscallSend:
		return SyscallResult{}, k.syscallSend(vat, s.Target, s.Message)
	case SyscallSubscribe:
		kpid, err := k.vrefToKRef(vat, s.VPID, vrefOpts{required: true})
		if err != nil {
			return SyscallResult{}, err
		}
		if !kpid.IsPromise() {
			return SyscallResult{}, errIllegal("subscribe to non-promise %s", s.VPID)
		}
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
	return SyscallResult{}, errIllegal("unknown syscall kind %d", s.Kind)
}

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
func (k *Kernel) syscallSend(vat VatID, target VRef, m VatMessage) error {
	// INVARIANT 14: the methargs are checked before any ref is translated,
	// so a refused send has allocated nothing, and the receiver is never
	// handed a message it cannot decode.
	if err := checkMethargs(m.Methargs); err != nil {
		return err
	}
	if m.Result != "" {
		if info, err := parseVRef(m.Result); err != nil || !info.promise || !info.export {
			return errIllegal("send result %s is not a new promise (p+N)", m.Result)
		}
	}
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
		if result, err = k.vrefToKRef(vat, m.Result, vrefOpts{requireNew: true}); err != nil {
			return err
		}
		p := k.mustPromise(result)
		k.setDecider(&p, "") // the run queue holds the authority now
		k.st.PutPromise(string(result), p)
	}
	k.enqueueSend(tkref, marshal.CapData{Body: m.Methargs.Body, Slots: slots}, result)
	return nil
}

// syscallResolve settles promises vat decides (SwingSet's translateResolve
// + doResolve). All are checked before any is settled; each leaves the
// vat's c-list.
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
	krs := make([]kres, 0, len(rs))
	seen := map[KRef]bool{}
	for _, r := range rs {
		kpid, err := k.vrefToKRef(vat, r.VPID, vrefOpts{required: true})
		if err != nil {
			return err
		}
		if !kpid.IsPromise() {
			return errIllegal("resolve of non-promise %s", r.VPID)
		}
		if seen[kpid] {
			return errIllegal("%s resolved twice in one syscall", r.VPID)
		}
		seen[kpid] = true
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
	for _, r := range krs {
		k.deleteCListEntry(vat, r.kpid)
	}
	for _, r := range krs {
		k.resolve(r.kpid, r.rejected, r.data, vat)
	}
	return nil
}

// gcVRefs maps the vrefs of a GC syscall, which must all be objects in the
// c-list, imports or exports as wantExport says.
func (k *Kernel) gcVRefs(vat VatID, op string, vrefs []VRef, wantExport bool) ([]KRef, error) {
	krefs := make([]KRef, 0, len(vrefs))
	for _, vref := range vrefs {
		info, err := parseVRef(vref)
		if err != nil {
			return nil, errIllegal("%s: %v", op, err)
		}
		if info.promise {
			return nil, errIllegal("%s of promise %s", op, vref)
		}
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

func (k *Kernel) syscallRetireImports(vat VatID, vrefs []VRef) error {
	krefs, err := k.gcVRefs(vat, "retireImports", vrefs, false)
	if err != nil {
		return err
	}
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

func (k *Kernel) syscallRetireExports(vat VatID, vrefs []VRef) error {
	krefs, err := k.gcVRefs(vat, "retireExports", vrefs, true)
	if err != nil {
		return err
	}
	for i, kref := range krefs {
		if e, _ := k.st.CList(string(vat), string(kref)); e.Reachable {
			return errIllegal("retireExports but %s is still reachable", vrefs[i])
		}
	}
	for _, kref := range krefs {
		k.st.DeleteCList(string(vat), string(kref)) // an export entry: uncounted
		if _, ok := k.st.Object(string(kref)); ok {
			k.retireObject(kref)
		}
	}
	return nil
}

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
