package vatproto

import "github.com/ocapgo/kernel-actors/marshal"

// VRef is a reference in one vat's space: "o+N" is an object the vat
// exports (allocated by the vat; "o+0" is its root), "o-N" one it imports
// (allocated by the kernel), "p+N" and "p-N" likewise for promises. Exports
// may also use liveslots' virtual and durable forms "o+vK/I" and "o+dK/I",
// optionally with a facet suffix ":F".
type VRef string

// RootVRef is the vref of every vat's root object.
const RootVRef VRef = "o+0"

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
	Limits      Limits          // DeliverStartVat: what the kernel will accept
}

// Limits are the kernel's bounds that a vat meets in the normal course of
// its work, handed to it at startVat so that its liveslots layer can turn
// an over-limit write into an error that vat code can handle, instead of a
// syscall the kernel refuses (which terminates the vat). The kernel still
// checks every syscall. Zero means not told: no check of the vat's own.
type Limits struct {
	// MaxVatstoreKey and MaxVatstoreValue bound one vatstore entry, in
	// bytes (the kernel's Config.MaxVatstoreKey and MaxVatstoreValue).
	MaxVatstoreKey   int
	MaxVatstoreValue int
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

// Syscaller is how a vat makes syscalls during a delivery. It may be
// called only while the delivery is in progress, and from one goroutine at
// a time.
type Syscaller interface {
	Syscall(s Syscall) SyscallResult
}
