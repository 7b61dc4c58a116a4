package vat

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/vatproto"
)

// Durable state lives in the vatstore, under these keys:
//
//	bg.<key>            baggage entries
//	kind.n.<name>       a durable kind's id
//	kind.i.<id>         its name
//	kind.c.<id>         how many instances it has made
//	st.<vref>.<field>   a durable object's state
//	rc.<vref>           how many durable values refer to an import
//
// Values are stored as CapData JSON. They may refer to durable objects and
// imports; an import referred to durably is never dropped, even when no Go
// value holds its presence.

const (
	keyKindName  = "kind.n."
	keyKindID    = "kind.i."
	keyKindCount = "kind.c."
	keyState     = "st."
	keyRC        = "rc."
)

// Kind is a durable kind: objects whose state lives in the vatstore and
// whose vrefs ("o+dK/I") stay valid across restarts. Each incarnation must
// re-define every kind an earlier one defined, before its build function
// returns.
type Kind struct {
	name    string
	id      uint64
	methods Methods
	inst    *Instance
}

// DefineKind defines (or, after a restart, re-defines) the durable kind
// name with its methods. A method reads and writes its object's state with
// call.State().
func (vc *Context) DefineKind(name string, methods Methods) (*Kind, error) {
	inst := vc.inst
	if name == "" {
		return nil, fmt.Errorf("vat: DefineKind: empty name")
	}
	if err := inst.checkKey(keyKindName + name); err != nil {
		return nil, fmt.Errorf("vat: DefineKind %q: name too long for the vatstore: %w", name, err)
	}
	if _, dup := inst.kinds[name]; dup {
		return nil, fmt.Errorf("vat: DefineKind %q: defined twice", name)
	}
	var id uint64
	if r := inst.syscall(vatproto.Syscall{Kind: vatproto.SyscallVatstoreGet, Key: keyKindName + name}); r.Found {
		n, err := strconv.ParseUint(r.Value, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("vat: corrupt kind id for %q: %q", name, r.Value)
		}
		id = n
	} else {
		inst.counters.Kind++
		inst.countersDirty = true
		id = inst.counters.Kind
		inst.vsSet(keyKindName+name, strconv.FormatUint(id, 10))
		inst.vsSet(keyKindID+strconv.FormatUint(id, 10), name)
	}
	k := &Kind{name: name, id: id, methods: methods, inst: inst}
	inst.kinds[name] = k
	return k, nil
}

// Name is the kind's name.
func (k *Kind) Name() string { return k.name }

// New makes a durable object of the kind with the given initial state.
func (k *Kind) New(state map[string]any) (*Object, error) {
	inst := k.inst
	countKey := keyKindCount + strconv.FormatUint(k.id, 10)
	n := uint64(0)
	if r := inst.syscall(vatproto.Syscall{Kind: vatproto.SyscallVatstoreGet, Key: countKey}); r.Found {
		n, _ = strconv.ParseUint(r.Value, 10, 64)
	}
	n++
	vref := fmt.Sprintf("o+d%d/%d", k.id, n)
	// Every field is checked before any is written, in field order, so a
	// field that cannot be stored leaves no trace (and the syscalls are
	// the same from run to run).
	fields := slices.Sorted(maps.Keys(state))
	writes := make([]durableWrite, len(fields))
	for i, field := range fields {
		w, err := inst.prepareDurable(stateKey(vref, field), state[field])
		if err != nil {
			return nil, fmt.Errorf("vat: %s state %q: %w", k.name, field, err)
		}
		writes[i] = w
	}
	for _, w := range writes {
		inst.applyDurable(w)
	}
	inst.vsSet(countKey, strconv.FormatUint(n, 10))
	o := &Object{iface: k.name, kind: k, inst: inst, vref: vref}
	inst.durables[vref] = o
	return o, nil
}

func stateKey(vref, field string) string { return keyState + vref + "." + field }

// durableFor materializes the durable object a vref names.
func (inst *Instance) durableFor(vref string) (*Object, error) {
	if o, ok := inst.durables[vref]; ok {
		return o, nil
	}
	kid, _, ok := parseDurable(vref)
	if !ok {
		return nil, fmt.Errorf("vat: malformed durable vref %s", vref)
	}
	for _, k := range inst.kinds {
		if k.id == kid {
			o := &Object{iface: k.name, kind: k, inst: inst, vref: vref}
			inst.durables[vref] = o
			return o, nil
		}
	}
	r := inst.syscall(vatproto.Syscall{Kind: vatproto.SyscallVatstoreGet, Key: keyKindID + strconv.FormatUint(kid, 10)})
	if r.Found {
		return nil, fmt.Errorf("vat: durable kind %q is not defined by this incarnation", r.Value)
	}
	return nil, fmt.Errorf("vat: no durable kind for %s", vref)
}

// checkKinds makes sure the new incarnation re-defined every durable kind.
func (inst *Instance) checkKinds() error {
	for _, key := range inst.durableKeys(keyKindName) {
		name := strings.TrimPrefix(key, keyKindName)
		if _, ok := inst.kinds[name]; !ok {
			return fmt.Errorf("vat: durable kind %q was not re-defined by incarnation %d "+
				"(a new incarnation must define every durable kind before build returns)", name, inst.ctx.Incarnation)
		}
	}
	return nil
}

// State is a durable object's state: named fields in the vatstore.
type State struct {
	inst *Instance
	vref string
}

// Get returns a field.
func (s *State) Get(field string) (any, bool) {
	key := stateKey(s.vref, field)
	if !s.inst.readable(key) {
		return nil, false // no such field could have been written
	}
	v, ok, err := s.inst.loadDurable(key)
	if err != nil {
		panic(&faultPanic{err})
	}
	return v, ok
}

// Set writes a field; it fails, changing nothing, if the value cannot be
// stored durably, or if the field's name or value is over the kernel's
// vatstore limit (ErrVatstoreLimit).
func (s *State) Set(field string, v any) error {
	return s.inst.storeDurable(stateKey(s.vref, field), v)
}

// ---- durable values ----

type storedValue struct {
	Body  string   `json:"body"`
	Slots []string `json:"slots"`
}

func (inst *Instance) vsSet(key, value string) {
	inst.syscall(vatproto.Syscall{Kind: vatproto.SyscallVatstoreSet, Key: key, Value: value})
}

// durableWrite is a checked write of a durable value, ready to apply.
type durableWrite struct {
	key, value string
	slots      []string // the imports and durable objects it refers to
}

// prepareDurable encodes v for key and checks that the kernel will take
// it, refusing what cannot outlive the incarnation. It writes nothing, and
// exports nothing new.
func (inst *Instance) prepareDurable(key string, v any) (durableWrite, error) {
	if err := inst.checkKey(key); err != nil {
		return durableWrite{}, err
	}
	data, err := inst.durable.Encode(v)
	if err != nil {
		return durableWrite{}, err
	}
	b, _ := json.Marshal(storedValue{Body: data.Body, Slots: data.Slots})
	if err := inst.checkValue(string(b)); err != nil {
		return durableWrite{}, err
	}
	return durableWrite{key: key, value: string(b), slots: data.Slots}, nil
}

// applyDurable makes a prepared write, counting the imports it refers to.
func (inst *Instance) applyDurable(w durableWrite) {
	old := inst.oldSlots(w.key)
	inst.vsSet(w.key, w.value)
	inst.adjustRC(w.slots, 1)
	inst.adjustRC(old, -1)
}

// storeDurable writes a passable value under key, or changes nothing and
// says why not.
func (inst *Instance) storeDurable(key string, v any) error {
	w, err := inst.prepareDurable(key, v)
	if err != nil {
		return err
	}
	inst.applyDurable(w)
	return nil
}

func (inst *Instance) oldSlots(key string) []string {
	r := inst.syscall(vatproto.Syscall{Kind: vatproto.SyscallVatstoreGet, Key: key})
	if !r.Found {
		return nil
	}
	var sv storedValue
	if json.Unmarshal([]byte(r.Value), &sv) != nil {
		return nil
	}
	return sv.Slots
}

func (inst *Instance) loadDurable(key string) (any, bool, error) {
	r := inst.syscall(vatproto.Syscall{Kind: vatproto.SyscallVatstoreGet, Key: key})
	if !r.Found {
		return nil, false, nil
	}
	var sv storedValue
	if err := json.Unmarshal([]byte(r.Value), &sv); err != nil {
		return nil, false, fmt.Errorf("vat: corrupt durable value %q: %v", key, err)
	}
	v, err := inst.codec.Decode(marshal.CapData{Body: sv.Body, Slots: sv.Slots})
	if err != nil {
		return nil, false, fmt.Errorf("vat: durable value %q: %w", key, err)
	}
	return v, true, nil
}

func (inst *Instance) deleteDurable(key string) {
	if !inst.readable(key) {
		return // never written
	}
	old := inst.oldSlots(key)
	inst.syscall(vatproto.Syscall{Kind: vatproto.SyscallVatstoreDelete, Key: key})
	inst.adjustRC(old, -1)
}

// adjustRC counts durable references to imports.
func (inst *Instance) adjustRC(slots []string, delta int) {
	for _, s := range slots {
		if !strings.HasPrefix(s, "o-") {
			continue
		}
		n := inst.durableRC(s) + delta
		if n <= 0 {
			inst.syscall(vatproto.Syscall{Kind: vatproto.SyscallVatstoreDelete, Key: keyRC + s})
		} else {
			inst.vsSet(keyRC+s, strconv.Itoa(n))
		}
	}
}

func (inst *Instance) durableRC(vref string) int {
	r := inst.syscall(vatproto.Syscall{Kind: vatproto.SyscallVatstoreGet, Key: keyRC + vref})
	if !r.Found {
		return 0
	}
	n, _ := strconv.Atoi(r.Value)
	return n
}

// durableKeys lists vatstore keys with prefix, in order.
func (inst *Instance) durableKeys(prefix string) []string {
	var out []string
	prior := prefix
	// The prefix itself may be a key.
	if r := inst.syscall(vatproto.Syscall{Kind: vatproto.SyscallVatstoreGet, Key: prefix}); r.Found {
		out = append(out, prefix)
	}
	for {
		r := inst.syscall(vatproto.Syscall{Kind: vatproto.SyscallVatstoreGetNextKey, Key: prior})
		if !r.Found || !strings.HasPrefix(r.Value, prefix) {
			return out
		}
		out = append(out, r.Value)
		prior = r.Value
	}
}
