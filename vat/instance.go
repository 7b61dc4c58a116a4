package vat

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"weak"

	"github.com/rs/zerolog"

	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/vatproto"
)

// Config describes one incarnation of a vat.
type Config struct {
	// Build is the vat's code (from a Registry).
	Build BuildFunc
	// Parameters come from the vat's config; the build function reads them
	// as vc.Parameters.
	Parameters map[string]any
	// Logger is the vat's logger (vc.Logger).
	Logger zerolog.Logger
}

// Instance is one incarnation of a vat: the liveslots layer between vat
// code (objects, presences, promises) and the raw vat protocol (vrefs,
// deliveries, syscalls). A runtime creates one per incarnation and feeds it
// deliveries; it is not safe for concurrent deliveries.
type Instance struct {
	cfg   Config
	ctx   *Context
	sched *sched
	codec marshal.Codec
	// durable encodes values for the vatstore: as codec, but refusing
	// promises and ephemeral objects before they are exported.
	durable marshal.Codec
	sys     vatproto.Syscaller // the delivery in progress; nil between deliveries
	// limits are the kernel's, from startVat: what durable writes are
	// checked against (limits.go).
	limits vatproto.Limits

	exports  map[string]*Object    // exported and reachable: held strongly
	dropped  map[string]weakObject // exported, dropped by the kernel: held weakly
	imports  map[string]weak.Pointer[Presence]
	promises map[string]*Promise // promises the kernel knows, by vpid
	decides  map[*Promise]bool   // promises this vat must resolve through the kernel
	durables map[string]*Object  // durable objects in memory, by vref
	kinds    map[string]*Kind    // durable kinds defined by this incarnation, by name

	counters      idCounters
	countersDirty bool
	// toResolve lists promises exported while already settled: the kernel
	// hears their settlement right after the syscall that exported them.
	toResolve []*Promise
	started   bool
	// awaiting counts the tasks parked in Await (Quiescent).
	awaiting int
}

// idCounters are the vat's allocation counters, kept in the vatstore so a
// new incarnation never reuses a vref an old one handed out.
type idCounters struct {
	Object  uint64 `json:"o"`
	Promise uint64 `json:"p"`
	Kind    uint64 `json:"k"`
}

const keyCounters = "ls.counters"

// ErrFault wraps the errors Deliver returns: the vat failed the delivery
// (a panic, a refused syscall, a message for an object it does not know).
// A runtime reports them to the kernel as vat faults.
var ErrFault = errors.New("vat failed")

// New makes a vat incarnation that runs cfg.Build at its startVat delivery.
func New(cfg Config) (*Instance, error) {
	if cfg.Build == nil {
		return nil, fmt.Errorf("vat: Config.Build is nil")
	}
	inst := &Instance{
		cfg:      cfg,
		sched:    newSched(),
		exports:  map[string]*Object{},
		dropped:  map[string]weakObject{},
		imports:  map[string]weak.Pointer[Presence]{},
		promises: map[string]*Promise{},
		decides:  map[*Promise]bool{},
		durables: map[string]*Object{},
		kinds:    map[string]*Kind{},
	}
	inst.codec = marshal.Codec{SlotOf: inst.slotOf, ValueOf: inst.valueOf}
	inst.durable = marshal.Codec{SlotOf: inst.durableSlotOf, ValueOf: inst.valueOf}
	return inst, nil
}

// Stop ends the incarnation: goroutines parked in Await exit, and those
// kept for the next tasks end. The runtime calls it when the vat is
// terminated or replaced, never during a delivery; an incarnation dropped
// without it keeps its goroutines (and so itself) for good.
func (inst *Instance) Stop() { inst.sched.stop() }

// syscall makes a syscall; a refused one stops the vat code that made it
// (the kernel has already doomed the delivery).
func (inst *Instance) syscall(s vatproto.Syscall) vatproto.SyscallResult {
	if inst.sys == nil {
		panic(&faultPanic{fmt.Errorf("vat: %s outside a delivery", s.Kind)})
	}
	r := inst.sys.Syscall(s)
	if r.Err != nil {
		panic(&faultPanic{fmt.Errorf("vat: syscall %s refused: %w", s.Kind, r.Err)})
	}
	return r
}

// Deliver handles one delivery, running vat code until nothing is ready.
// An error (wrapping ErrFault) means the vat failed the delivery.
func (inst *Instance) Deliver(d vatproto.Delivery, sys vatproto.Syscaller) (err error) {
	inst.sys = sys
	defer func() {
		inst.sys = nil
		if r := recover(); r != nil {
			err = panicError(r)
		}
		if err != nil {
			var pe *PanicError
			if errors.As(err, &pe) {
				inst.cfg.Logger.Error().Str("panic", fmt.Sprint(pe.Value)).Bytes("stack", pe.Stack).Msg("vat code panicked")
			}
			err = fmt.Errorf("%w: %w", ErrFault, err)
		}
	}()
	if !inst.started && d.Kind != vatproto.DeliverStartVat {
		return fmt.Errorf("vat: %s delivery before startVat", d.Kind)
	}
	switch d.Kind {
	case vatproto.DeliverStartVat:
		err = inst.startVat(d)
	case vatproto.DeliverMessage:
		err = inst.message(d)
	case vatproto.DeliverNotify:
		err = inst.notify(d)
	case vatproto.DeliverDropExports:
		inst.dropExports(d.VRefs)
	case vatproto.DeliverRetireExports:
		inst.retireExports(d.VRefs)
	case vatproto.DeliverRetireImports:
		inst.retireImports(d.VRefs)
	case vatproto.DeliverBringOutYourDead:
		inst.bringOutYourDead()
	default:
		return fmt.Errorf("vat: unknown delivery kind %d", d.Kind)
	}
	if err == nil {
		err = inst.sched.run()
	}
	if err == nil {
		inst.saveCounters()
	}
	return err
}

func (inst *Instance) startVat(d vatproto.Delivery) error {
	if inst.started {
		return fmt.Errorf("vat: startVat delivered twice")
	}
	inst.started = true
	inst.limits = d.Limits
	if r := inst.syscall(vatproto.Syscall{Kind: vatproto.SyscallVatstoreGet, Key: keyCounters}); r.Found {
		if err := json.Unmarshal([]byte(r.Value), &inst.counters); err != nil {
			return fmt.Errorf("vat: corrupt %s in the vatstore: %v", keyCounters, err)
		}
	}
	inst.ctx = newContext(inst, d.Incarnation)
	var root any
	var buildErr error
	inst.sched.spawn(func() { root, buildErr = inst.cfg.Build(inst.ctx) })
	if err := inst.sched.run(); err != nil {
		return fmt.Errorf("vat: build: %w", err)
	}
	if buildErr != nil {
		return fmt.Errorf("vat: build: %w", buildErr)
	}
	obj, ok := root.(*Object)
	if !ok {
		return fmt.Errorf("vat: build returned %T as the root; want an object made by Far or a durable kind", root)
	}
	if err := obj.claim(inst); err != nil {
		return err
	}
	if obj.kind == nil {
		obj.vref = string(vatproto.RootVRef)
		inst.exports[obj.vref] = obj
	} else {
		// A durable root is reached through o+0 as well.
		inst.exports[string(vatproto.RootVRef)] = obj
	}
	return inst.checkKinds()
}

// claim makes o belong to inst.
func (o *Object) claim(inst *Instance) error {
	if o.inst == nil {
		o.inst = inst
		return nil
	}
	if o.inst != inst {
		return fmt.Errorf("vat: object %q belongs to another vat", o.iface)
	}
	return nil
}

func (inst *Instance) saveCounters() {
	if !inst.countersDirty {
		return
	}
	var buf [96]byte
	inst.syscall(vatproto.Syscall{Kind: vatproto.SyscallVatstoreSet, Key: keyCounters, Value: string(inst.counters.appendJSON(buf[:0]))})
	inst.countersDirty = false
}

// appendJSON appends c as encoding/json marshals it (the vatstore holds
// that form, and startVat reads it back with encoding/json), without its
// reflection and allocations: it runs after most deliveries.
func (c idCounters) appendJSON(b []byte) []byte {
	b = append(b, `{"o":`...)
	b = strconv.AppendUint(b, c.Object, 10)
	b = append(b, `,"p":`...)
	b = strconv.AppendUint(b, c.Promise, 10)
	b = append(b, `,"k":`...)
	b = strconv.AppendUint(b, c.Kind, 10)
	return append(b, '}')
}

func (inst *Instance) nextVRef(promise bool) string {
	inst.countersDirty = true
	var buf [24]byte // "p+" and 20 digits: one allocation, the string's
	if promise {
		inst.counters.Promise++
		return string(strconv.AppendUint(append(buf[:0], "p+"...), inst.counters.Promise, 10))
	}
	inst.counters.Object++
	return string(strconv.AppendUint(append(buf[:0], "o+"...), inst.counters.Object, 10))
}

// message runs a method.
func (inst *Instance) message(d vatproto.Delivery) error {
	target, err := inst.objectFor(string(d.Target))
	if err != nil {
		// The reference's liveslots throws here too ("I don't remember
		// allocating"): the delivery fails, and the vat with it.
		return err
	}
	var result *Promise
	if d.Message.Result != "" {
		result = inst.promiseFor(string(d.Message.Result))
		inst.decides[result] = true
	}
	method, args, err := inst.decodeMessage(d.Message.Methargs)
	if err != nil {
		settleResult(result, nil, err)
		return nil
	}
	fn := target.methodFor(method)
	if fn == nil {
		settleResult(result, nil, &marshal.Error{Name: "TypeError", Message: fmt.Sprintf("target %q has no method %q", target.iface, method)})
		return nil
	}
	call := &Call{Method: method, Args: args, Self: target, inst: inst, fn: fn, result: result}
	inst.sched.spawn(call.run)
	return nil
}

func (o *Object) methodFor(name string) func(*Call) (any, error) {
	ms := o.methods
	if o.kind != nil {
		ms = o.kind.methods
	}
	if m, ok := ms[name]; ok && name != "" {
		return m
	}
	return ms[""]
}

// decodeMessage reads ["method", [args...]].
func (inst *Instance) decodeMessage(methargs marshal.CapData) (string, []any, error) {
	v, err := inst.codec.Decode(methargs)
	if err != nil {
		return "", nil, &marshal.Error{Name: "TypeError", Message: "malformed message: " + err.Error()}
	}
	parts, ok := v.([]any)
	if !ok || len(parts) != 2 {
		return "", nil, &marshal.Error{Name: "TypeError", Message: "malformed message: want [method, args]"}
	}
	if sym, isSymbol := parts[0].(marshal.Symbol); isSymbol {
		// The kernel passes symbol methods (JavaScript has them); a Go
		// object's methods are named by strings only.
		return "", nil, &marshal.Error{Name: "TypeError", Message: fmt.Sprintf("no method for symbol %q: Go vats have only string methods", string(sym))}
	}
	method, ok := parts[0].(string)
	args, ok2 := parts[1].([]any)
	if !ok || !ok2 {
		return "", nil, &marshal.Error{Name: "TypeError", Message: "malformed message: want [method, args]"}
	}
	return method, args, nil
}

// notify settles promises the kernel says have settled. The vpids of one
// notify may refer to each other, so all are looked up before any value is
// decoded; all then leave the vat's tables, as they left its c-list.
func (inst *Instance) notify(d vatproto.Delivery) error {
	ps := make([]*Promise, len(d.Resolutions))
	for i, r := range d.Resolutions {
		ps[i] = inst.promiseFor(string(r.VPID))
	}
	vals := make([]any, len(d.Resolutions))
	for i, r := range d.Resolutions {
		v, err := inst.codec.Decode(r.Data)
		if err != nil {
			return fmt.Errorf("vat: notify of %s: %w", r.VPID, err)
		}
		vals[i] = v
	}
	for i, r := range d.Resolutions {
		delete(inst.promises, string(r.VPID))
		p := ps[i]
		p.vpid = ""
		if r.Rejected {
			p.reject(asError(vals[i]))
		} else {
			p.resolve(vals[i])
		}
	}
	return nil
}

// promiseSettled tells the kernel about a promise this vat decides.
func (inst *Instance) promiseSettled(p *Promise) {
	if !inst.decides[p] || p.vpid == "" {
		delete(inst.decides, p)
		return
	}
	inst.resolveBatch(p)
}

// resolveBatch resolves first, and every settled promise its value exports
// along the way, in one resolve syscall (as liveslots does): promises that
// refer to each other then name each other by the vpids of this batch, and
// a cycle of settled promises ends instead of exporting ever new vpids.
func (inst *Instance) resolveBatch(first *Promise) {
	var batch []vatproto.VatResolution
	var done []*Promise
	queue := []*Promise{first}
	inBatch := map[*Promise]bool{}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if inBatch[p] || p.vpid == "" || !inst.decides[p] {
			continue
		}
		inBatch[p] = true
		data, err := inst.settlementData(p)
		rejected := p.state == rejected
		if err != nil {
			// The value cannot be passed: the caller gets that instead.
			data = marshal.EncodeError("TypeError", "result cannot be passed: "+err.Error())
			rejected = true
		}
		batch = append(batch, vatproto.VatResolution{VPID: vatproto.VRef(p.vpid), Rejected: rejected, Data: data})
		done = append(done, p)
		queue = append(queue, inst.toResolve...)
		inst.toResolve = inst.toResolve[:0]
	}
	if len(batch) == 0 {
		return
	}
	inst.syscall(vatproto.Syscall{Kind: vatproto.SyscallResolve, Resolutions: batch})
	// The kernel retired them from the c-list; so does the vat.
	for _, p := range done {
		delete(inst.promises, p.vpid)
		delete(inst.decides, p)
		p.vpid = ""
	}
}

// settlementData marshals a settled promise's value, or its rejection
// (rejection.go).
func (inst *Instance) settlementData(p *Promise) (marshal.CapData, error) {
	if p.state == rejected {
		return inst.codec.Encode(rejectionValue(p.err))
	}
	return inst.codec.Encode(p.value)
}

// flushResolves tells the kernel the settlements of promises that were
// exported already settled.
func (inst *Instance) flushResolves() {
	for len(inst.toResolve) > 0 {
		p := inst.toResolve[0]
		inst.toResolve = inst.toResolve[1:]
		inst.resolveBatch(p)
	}
}
