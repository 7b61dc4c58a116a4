package vat

import (
	"fmt"
	"slices"
	"weak"
)

// Methods maps method names to their implementations. A method returns the
// result (any passable value, or a *Promise for one) or an error, which
// rejects the caller's promise; the vat lives on. The entry under "" (if
// any) answers every method that has no entry of its own, with call.Method
// saying which: for proxies and services.
type Methods map[string]func(call *Call) (any, error)

// Object is an object of this vat that other vats can call: an ephemeral
// one made by Far, which lives as long as something holds it and dies with
// the incarnation, or a durable one made by a Kind, whose state lives in
// the vatstore and which survives restarts.
type Object struct {
	iface   string
	methods Methods
	kind    *Kind // durable kind; nil for Far objects
	inst    *Instance
	vref    string // its vref while exported ("" if never, or retired)
}

// Far makes an ephemeral object with the given interface name (shown to
// other vats as "Alleged: <iface>") and methods.
func Far(iface string, methods Methods) *Object {
	return &Object{iface: iface, methods: methods}
}

// Iface is the object's interface name.
func (o *Object) Iface() string { return o.iface }

// MethodNames lists the names of the methods o answers, sorted, with ""
// for a catch-all (see Methods). A durable object answers its kind's. It
// lets a program check what a bundle's description (About) claims.
func (o *Object) MethodNames() []string {
	ms := o.methods
	if o.kind != nil {
		ms = o.kind.methods
	}
	names := make([]string, 0, len(ms))
	for n := range ms {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Presence is this vat's handle on an object of another vat. Send to it
// with E. Two presences for the same object are the same *Presence while
// the vat holds one.
type Presence struct {
	vref    string
	iface   string
	inst    *Instance
	retired bool // the object is gone (retireImports)
}

// Iface is the interface the object alleges, as it was marshalled (for
// example "Alleged: counter"); "" if it said none.
func (p *Presence) Iface() string { return p.iface }

// String shows the presence as JavaScript would: "[object Alleged: x]".
func (p *Presence) String() string { return fmt.Sprintf("[object %s]", p.iface) }

// Call is one invocation of a method.
type Call struct {
	Method string
	Args   []any
	// Self is the object whose method runs.
	Self *Object
	inst *Instance
	// fn is the method and result the promise its outcome settles (nil
	// for a send-only message): the task runs them (run).
	fn     func(*Call) (any, error)
	result *Promise
}

// run is the task of a message: the method, then its result settled.
func (c *Call) run() {
	v, err := c.fn(c)
	settleResult(c.result, v, err)
}

// settleResult settles result, if there is one, with v or err.
func settleResult(result *Promise, v any, err error) {
	if result == nil {
		return
	}
	if err != nil {
		result.reject(err)
	} else {
		result.resolve(v)
	}
}

// Arg returns argument i, or nil if there are fewer.
func (c *Call) Arg(i int) any {
	if i < 0 || i >= len(c.Args) {
		return nil
	}
	return c.Args[i]
}

// NewPromise makes a promise the vat decides, belonging to this vat from
// the start (so it can be awaited at once).
func (c *Call) NewPromise() (p *Promise, resolve func(v any), reject func(err error)) {
	p = c.inst.newPromise()
	return p, p.resolve, p.reject
}

// State is the durable state of the object whose method runs; nil for a
// Far object.
func (c *Call) State() *State {
	if c.Self == nil || c.Self.kind == nil {
		return nil
	}
	return &State{inst: c.inst, vref: c.Self.vref}
}

// Context describes the vat the call runs in.
func (c *Call) Context() *Context { return c.inst.ctx }

// weakObject keeps an export the kernel has dropped, until it is retired
// or collected.
type weakObject = weak.Pointer[Object]

func makeWeak(o *Object) weakObject { return weak.Make(o) }
