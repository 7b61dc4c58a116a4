package vat

import (
	"github.com/rs/zerolog"

	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/vatproto"
)

// Context is what a vat's build function and methods know of their vat.
type Context struct {
	// Parameters are the vat's parameters from its config.
	Parameters map[string]any
	// Baggage is the vat's durable map: what it holds survives restarts.
	Baggage *Baggage
	// Logger is the vat's logger.
	Logger zerolog.Logger
	// Incarnation is 0 at launch and goes up at each restart.
	Incarnation int64

	inst *Instance
}

func newContext(inst *Instance, incarnation int64) *Context {
	return &Context{
		Parameters:  inst.cfg.Parameters,
		Baggage:     &Baggage{inst: inst},
		Logger:      inst.cfg.Logger,
		Incarnation: incarnation,
		inst:        inst,
	}
}

// NewPromise makes a promise the vat decides, belonging to this vat.
func (vc *Context) NewPromise() (p *Promise, resolve func(v any), reject func(err error)) {
	p = vc.inst.newPromise()
	return p, p.resolve, p.reject
}

// Exit asks the kernel to terminate the vat once the current delivery
// ends. With failure, the delivery's effects are rolled back too; without,
// they commit first. info (any passable data) says why, for the log.
func (vc *Context) Exit(failure bool, info any) {
	data, err := marshal.Encode(info)
	if err != nil {
		data = marshal.EncodeString("exit (reason cannot be passed)")
	}
	vc.inst.syscall(vatproto.Syscall{Kind: vatproto.SyscallExit, Failure: failure, Info: data})
}

// Baggage is a vat's durable map from string keys to passable values:
// data, durable objects and imported presences (not ephemeral objects or
// promises, which die with the incarnation). Reads and writes go straight
// to the vatstore, inside the current crank: an aborted crank undoes them.
type Baggage struct{ inst *Instance }

const baggagePrefix = "bg."

// Get returns the value stored under key.
func (b *Baggage) Get(key string) (any, bool) {
	if !b.inst.readable(baggagePrefix + key) {
		return nil, false // a key Set could not have written
	}
	v, ok, err := b.inst.loadDurable(baggagePrefix + key)
	if err != nil {
		panic(&faultPanic{err})
	}
	return v, ok
}

// Has reports whether key is set.
func (b *Baggage) Has(key string) bool {
	if !b.inst.readable(baggagePrefix + key) {
		return false
	}
	r := b.inst.syscall(vatproto.Syscall{Kind: vatproto.SyscallVatstoreGet, Key: baggagePrefix + key})
	return r.Found
}

// Set stores value under key. It fails, changing nothing, if the value
// cannot be stored durably (a promise, an ephemeral object), or if the key
// or the encoded value is over the kernel's vatstore limit, or the key is
// not valid UTF-8 (ErrVatstoreLimit).
func (b *Baggage) Set(key string, value any) error {
	return b.inst.storeDurable(baggagePrefix+key, value)
}

// Delete removes key.
func (b *Baggage) Delete(key string) { b.inst.deleteDurable(baggagePrefix + key) }

// Keys lists the keys in order.
func (b *Baggage) Keys() []string {
	keys := b.inst.durableKeys(baggagePrefix)
	for i, k := range keys {
		keys[i] = k[len(baggagePrefix):]
	}
	return keys
}
