package kernel

import (
	"context"
	"errors"

	"github.com/ocapgo/kernel-actors/marshal"
)

// This file is the raw vat protocol: what the kernel hands a vat (a
// Delivery) and what a vat asks of the kernel while handling it (a
// Syscall). Everything here is in the vat's own ref space (vrefs); the
// kernel translates through the vat's c-list. The protocol is plain data so
// that a vat in another process or language can speak it.

// DeliveryKind says what a Delivery carries.
type DeliveryKind uint8

// Delivery kinds.
const (
	// DeliverMessage: invoke a method of one of the vat's objects (or send
	// to a promise it decides).
	DeliverMessage DeliveryKind = iota + 1
	// DeliverNotify: promises the vat subscribed to have settled.
	DeliverNotify
	// DeliverDropExports: nobody can reach these exports any more; the vat
	// may forget them once it holds them no longer itself.
	DeliverDropExports
	// DeliverRetireExports: nobody can even recognize these exports; the
	// vat must forget them.
	DeliverRetireExports
	// DeliverRetireImports: these imports' objects are gone; the vat must
	// forget them.
	DeliverRetireImports
	// DeliverBringOutYourDead: collect garbage now and report drops.
	DeliverBringOutYourDead
	// DeliverStartVat: build the vat (its root object, durable kinds) in a
	// new incarnation.
	DeliverStartVat
)

var deliveryNames = [...]string{"", "message", "notify", "dropExports", "retireExports", "retireImports", "bringOutYourDead", "startVat"}

func (k DeliveryKind) String() string {
	if int(k) < len(deliveryNames) && k > 0 {
		return deliveryNames[k]
	}
	return "delivery?"
}

// VatMessage is a message in a vat's ref space.
type VatMessage struct {
	Methargs marshal.CapData // ["method", [args...]], slots are vrefs
	Result   VRef            // the result promise; "" for none
}

// VatResolution is the settlement of one promise, in a vat's ref space.
type VatResolution struct {
	VPID     VRef
	Rejected bool
	Data     marshal.CapData
}

// Delivery is one unit of work handed to a vat.
type Delivery struct {
	Kind        DeliveryKind
	Target      VRef            // DeliverMessage
	Message     VatMessage      // DeliverMessage
	Resolutions []VatResolution // DeliverNotify
	VRefs       []VRef          // DeliverDropExports, DeliverRetireExports, DeliverRetireImports
	Incarnation int64           // DeliverStartVat: 0 at launch, then +1 per restart
}

// SyscallKind says what a Syscall asks.
type SyscallKind uint8

// Syscall kinds (DESIGN.md vocabulary; ocap-kernel semantics §4.1).
const (
	SyscallSend SyscallKind = iota + 1
	SyscallSubscribe
	SyscallResolve
	SyscallExit
	SyscallDropImports
	SyscallRetireImports
	SyscallRetireExports
	SyscallAbandonExports
	SyscallVatstoreGet
	SyscallVatstoreSet
	SyscallVatstoreGetNextKey
	SyscallVatstoreDelete
)

var syscallNames = [...]string{"", "send", "subscribe", "resolve", "exit", "dropImports", "retireImports",
	"retireExports", "abandonExports", "vatstoreGet", "vatstoreSet", "vatstoreGetNextKey", "vatstoreDelete"}

func (k SyscallKind) String() string {
	if int(k) < len(syscallNames) && k > 0 {
		return syscallNames[k]
	}
	return "syscall?"
}

// Syscall is one request from a vat during a delivery. Which fields count
// depends on Kind.
type Syscall struct {
	Kind        SyscallKind
	Target      VRef            // send
	Message     VatMessage      // send
	VPID        VRef            // subscribe
	Resolutions []VatResolution // resolve
	Failure     bool            // exit: true to fail (the crank is rolled back)
	Info        marshal.CapData // exit: the reason, for the log
	VRefs       []VRef          // dropImports, retireImports, retireExports, abandonExports
	Key         string          // vatstore*
	Value       string          // vatstoreSet
}

// SyscallResult answers a Syscall. Err is non-nil when the syscall was
// illegal: the delivery is then doomed (the mark is sticky, DESIGN.md
// invariant 5), and later syscalls of the same delivery are refused too.
type SyscallResult struct {
	Value string // vatstoreGet: the value; vatstoreGetNextKey: the key
	Found bool   // vatstoreGet, vatstoreGetNextKey
	Err   error
}

// Syscaller is how a vat makes syscalls during a delivery. It must be
// called only on the goroutine that runs the crank, and only until Deliver
// returns.
type Syscaller interface {
	Syscall(s Syscall) SyscallResult
}

// Deliverer hands deliveries to vats: the kernel's only way out. The actor
// runtime implements it with vat actors; tests implement it with scripted
// fake vats.
//
// Deliver returns when the vat has finished the delivery. Its error says
// how the delivery went wrong:
//
//   - nil: the vat handled it (an application error inside a method is
//     not a delivery error: the vat rejects the result and carries on);
//   - an error wrapping ErrVatFault: the vat itself failed (panic, dispatch
//     error, missed deadline). The crank is rolled back and the vat
//     terminated;
//   - an error wrapping ErrNoEndpoint: no such endpoint exists any more.
//     A message splats with ENDPOINT_UNREACHABLE;
//   - any other error: the delivery failed for another reason. It is
//     logged, the crank's effects are rolled back and the message's result
//     rejected with DELIVERY_FAILED (DESIGN.md invariant 6).
//
// Two rules of the protocol that vat code (liveslots) must follow:
//
//   - a send's result is a promise the vat allocates for it (a new p+N);
//     the kernel holds its resolution authority while the message waits,
//     and hands it to the vat the message is delivered to;
//   - resolving a promise retires it from the resolving vat's c-list and
//     notifies only the other subscribers: a vat waiting on a promise it
//     resolves itself (a message it sent to itself) settles it locally,
//     as liveslots does.
type Deliverer interface {
	Deliver(ctx context.Context, vat VatID, d Delivery, sys Syscaller) error
}

// Errors a Deliverer wraps to say what went wrong.
var (
	// ErrVatFault: the vat failed the delivery.
	ErrVatFault = errors.New("vat fault")
	// ErrNoEndpoint: the endpoint does not exist.
	ErrNoEndpoint = errors.New("endpoint does not exist")
)
