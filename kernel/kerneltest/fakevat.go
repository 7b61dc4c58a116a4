package kerneltest

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/marshal"
)

// Handler answers one delivery of a FakeVat by making syscalls through c.
// An error it returns is the vat's fault: the delivery fails (ErrVatFault).
type Handler func(c *Call) error

// FakeVat is a scripted vat. Deliveries are answered, in order of
// preference, by the next queued one-shot handler (Next), by the next
// one-shot notify handler for a notify (NextNotify), by the handler for
// the message's method (OnMethod), by Default, or by the built-in default:
// a message's result is fulfilled with undefined, everything else is
// ignored. startVat is the Driver's own (see Started, FailStart).
type FakeVat struct {
	ID   kernel.VatID
	Name string
	// Next holds one-shot handlers for the coming deliveries, used first.
	Next []Handler
	// OnMethod holds handlers by method name, used for every message with
	// that method.
	OnMethod map[string]Handler
	// NextNotify holds one-shot handlers for the coming notify deliveries,
	// used (after Next) for notifies only, so that a vat can be scripted
	// to react to the settlements it awaits whatever messages arrive in
	// between.
	NextNotify []Handler
	// Default, if set, answers every delivery (messages, notifies, GC
	// deliveries, bringOutYourDead) that Next, NextNotify and OnMethod do
	// not: a vat written as one handler, such as the simulation's.
	Default Handler
	// Deliveries records every delivery the vat received, in order.
	Deliveries []kernel.Delivery
	// Gone makes the vat's endpoint vanish: deliveries fail with
	// kernel.ErrNoEndpoint.
	Gone bool
	// Broken makes deliveries fail with this (non-fault) error.
	Broken error
	// Started counts startVat deliveries.
	Started int
	// FailStart makes startVat deliveries fail with this vat fault.
	FailStart error
	// Unavailable makes deliveries fail with kernel.ErrVatUnavailable (the
	// vat is being restarted).
	Unavailable bool

	nextExport int // for o+N and p+N the vat allocates
}

// Call is one delivery in progress at a FakeVat, with helpers for syscalls.
// Helpers record the syscall result; Err is the first illegal-syscall
// error the kernel returned.
type Call struct {
	Vat      *FakeVat
	Delivery kernel.Delivery
	Sys      kernel.Syscaller
	Err      error
}

// Method is the delivered message's method name ("" if not a message).
func (c *Call) Method() string { return MethodOf(c.Delivery.Message.Methargs) }

// Result is the delivered message's result vref.
func (c *Call) Result() kernel.VRef { return c.Delivery.Message.Result }

// Target is the delivered message's target vref.
func (c *Call) Target() kernel.VRef { return c.Delivery.Target }

// Slot returns slot i of the delivered message.
func (c *Call) Slot(i int) kernel.VRef {
	return kernel.VRef(c.Delivery.Message.Methargs.Slots[i])
}

// Syscall makes a raw syscall.
func (c *Call) Syscall(s kernel.Syscall) kernel.SyscallResult {
	r := c.Sys.Syscall(s)
	if r.Err != nil && c.Err == nil {
		c.Err = r.Err
	}
	return r
}

// NewExport allocates a fresh export vref of the vat: "o+N" or "p+N".
func (c *Call) NewExport(promise bool) kernel.VRef {
	c.Vat.nextExport++
	if promise {
		return kernel.VRef("p+" + strconv.Itoa(c.Vat.nextExport))
	}
	return kernel.VRef("o+" + strconv.Itoa(c.Vat.nextExport))
}

// Send sends method(args) to target with slots and a fresh result
// promise, which it returns.
func (c *Call) Send(target kernel.VRef, method string, slots ...kernel.VRef) kernel.VRef {
	result := c.NewExport(true)
	c.Syscall(kernel.Syscall{Kind: kernel.SyscallSend, Target: target,
		Message: kernel.VatMessage{Methargs: Methargs(method, slots...), Result: result}})
	return result
}

// Resolve settles one promise the vat decides.
func (c *Call) Resolve(vpid kernel.VRef, rejected bool, data marshal.CapData) kernel.SyscallResult {
	return c.Syscall(kernel.Syscall{Kind: kernel.SyscallResolve,
		Resolutions: []kernel.VatResolution{{VPID: vpid, Rejected: rejected, Data: data}}})
}

// Fulfill settles vpid to data.
func (c *Call) Fulfill(vpid kernel.VRef, data marshal.CapData) kernel.SyscallResult {
	return c.Resolve(vpid, false, data)
}

// Subscribe asks to be notified when vpid settles.
func (c *Call) Subscribe(vpid kernel.VRef) kernel.SyscallResult {
	return c.Syscall(kernel.Syscall{Kind: kernel.SyscallSubscribe, VPID: vpid})
}

// GC makes one of the GC syscalls.
func (c *Call) GC(kind kernel.SyscallKind, vrefs ...kernel.VRef) kernel.SyscallResult {
	return c.Syscall(kernel.Syscall{Kind: kind, VRefs: vrefs})
}

// Exit asks the kernel to terminate the vat.
func (c *Call) Exit(failure bool) kernel.SyscallResult {
	return c.Syscall(kernel.Syscall{Kind: kernel.SyscallExit, Failure: failure, Info: marshal.EncodeString("bye")})
}

// Methargs builds a message body ["method", [slot0, slot1, ...]] whose
// arguments are the given refs, as liveslots would marshal them.
func Methargs(method string, slots ...kernel.VRef) marshal.CapData {
	var b strings.Builder
	mb, _ := json.Marshal(method)
	b.WriteString(`#[`)
	b.Write(mb)
	b.WriteString(`,[`)
	out := make([]string, len(slots))
	for i, s := range slots {
		if i > 0 {
			b.WriteByte(',')
		}
		if strings.HasPrefix(string(s), "p") || strings.HasPrefix(string(s), "kp") {
			fmt.Fprintf(&b, `"&%d"`, i)
		} else {
			fmt.Fprintf(&b, `"$%d.Alleged: thing"`, i)
		}
		out[i] = string(s)
	}
	b.WriteString(`]]`)
	return marshal.CapData{Body: b.String(), Slots: out}
}

// Ref builds the CapData of a single remotable (or promise) value.
func Ref(ref string) marshal.CapData {
	if strings.HasPrefix(ref, "p") || strings.HasPrefix(ref, "kp") {
		return marshal.CapData{Body: `#"&0"`, Slots: []string{ref}}
	}
	return marshal.CapData{Body: `#"$0.Alleged: thing"`, Slots: []string{ref}}
}

// Str builds the CapData of a string.
func Str(s string) marshal.CapData { return marshal.EncodeString(s) }

// Undefined is the CapData of undefined.
var Undefined = marshal.CapData{Body: `#"#undefined"`}

// MethodOf reads the method name out of a message body, or "".
func MethodOf(c marshal.CapData) string {
	m, _ := marshal.MethodName(c)
	return m
}

func (v *FakeVat) handle(c *Call) error {
	if len(v.Next) > 0 {
		h := v.Next[0]
		v.Next = v.Next[1:]
		return h(c)
	}
	if c.Delivery.Kind == kernel.DeliverNotify && len(v.NextNotify) > 0 {
		h := v.NextNotify[0]
		v.NextNotify = v.NextNotify[1:]
		return h(c)
	}
	if c.Delivery.Kind == kernel.DeliverMessage {
		if h, ok := v.OnMethod[c.Method()]; ok {
			return h(c)
		}
	}
	if v.Default != nil {
		return v.Default(c)
	}
	if c.Delivery.Kind == kernel.DeliverMessage {
		if r := c.Result(); r != "" {
			c.Fulfill(r, Undefined)
		}
	}
	return nil
}
