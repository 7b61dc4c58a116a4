package kernel

import (
	"context"
	"errors"

	"github.com/ocapgo/kernel-actors/vatproto"
)

// The raw vat protocol lives in package vatproto; this file names it for
// the kernel and defines the kernel's side of it, the Deliverer. The kernel
// translates every vref through the vat's c-list.

// The protocol's types and constants, defined in package vatproto and
// named here too so that kernel code and its callers read naturally.
type (
	Delivery      = vatproto.Delivery
	DeliveryKind  = vatproto.DeliveryKind
	VatMessage    = vatproto.VatMessage
	VatResolution = vatproto.VatResolution
	Syscall       = vatproto.Syscall
	SyscallKind   = vatproto.SyscallKind
	SyscallResult = vatproto.SyscallResult
	Syscaller     = vatproto.Syscaller
)

// Delivery kinds.
const (
	DeliverMessage          = vatproto.DeliverMessage
	DeliverNotify           = vatproto.DeliverNotify
	DeliverDropExports      = vatproto.DeliverDropExports
	DeliverRetireExports    = vatproto.DeliverRetireExports
	DeliverRetireImports    = vatproto.DeliverRetireImports
	DeliverBringOutYourDead = vatproto.DeliverBringOutYourDead
	DeliverStartVat         = vatproto.DeliverStartVat
)

// Syscall kinds.
const (
	SyscallSend               = vatproto.SyscallSend
	SyscallSubscribe          = vatproto.SyscallSubscribe
	SyscallResolve            = vatproto.SyscallResolve
	SyscallExit               = vatproto.SyscallExit
	SyscallDropImports        = vatproto.SyscallDropImports
	SyscallRetireImports      = vatproto.SyscallRetireImports
	SyscallRetireExports      = vatproto.SyscallRetireExports
	SyscallAbandonExports     = vatproto.SyscallAbandonExports
	SyscallVatstoreGet        = vatproto.SyscallVatstoreGet
	SyscallVatstoreSet        = vatproto.SyscallVatstoreSet
	SyscallVatstoreGetNextKey = vatproto.SyscallVatstoreGetNextKey
	SyscallVatstoreDelete     = vatproto.SyscallVatstoreDelete
)

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
//     terminated (or restarted, under the restart policy);
//   - an error wrapping ErrNoEndpoint: no such endpoint exists any more.
//     A message splats with ENDPOINT_UNREACHABLE;
//   - any other error: the delivery failed for another reason. It is
//     logged, the crank's effects are rolled back and the message's result
//     rejected with DELIVERY_FAILED (invariant 6).
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
	// ErrVatUnavailable: the vat cannot take a delivery now (it is being
	// restarted). The crank is undone, changing nothing (Outcome
	// Deferred); the runtime cranks again when the vat is back.
	ErrVatUnavailable = errors.New("vat temporarily unavailable")
)
