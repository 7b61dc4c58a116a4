package kernel

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/ocapgo/kernel-actors/marshal"
)

// Code is the stable code of an error that leaves the kernel, written
// "[KERNEL:CODE]" (or "[KERNEL:VAT_FATAL:CODE]") at the start of its
// message (invariant 7; MetaMask ocap-kernel).
type Code string

// The codes.
const (
	CodeObjectDeleted        Code = "OBJECT_DELETED"
	CodeObjectRevoked        Code = "OBJECT_REVOKED"
	CodeBadPromiseResolution Code = "BAD_PROMISE_RESOLUTION"
	CodeEndpointUnreachable  Code = "ENDPOINT_UNREACHABLE"
	CodeDeliveryFailed       Code = "DELIVERY_FAILED"
	CodeVatTerminated        Code = "VAT_TERMINATED"
	CodeIllegalSyscall       Code = "ILLEGAL_SYSCALL"
	CodeInternalError        Code = "INTERNAL_ERROR"
	CodeOcapURLUnknown       Code = "OCAP_URL_UNKNOWN"
)

// Error is a coded kernel error. Two Errors match with errors.Is when their
// codes (and fatality) match, whatever their messages say. Its message
// never holds a kref, vref or vat id: details go to the log.
type Error struct {
	Code    Code
	Fatal   bool // a VAT_FATAL error: the vat failed for it (terminated, or restarted under its policy)
	Message string
}

func (e *Error) Error() string {
	if e.Fatal {
		return "[KERNEL:VAT_FATAL:" + string(e.Code) + "] " + e.Message
	}
	return "[KERNEL:" + string(e.Code) + "] " + e.Message
}

// Is matches any Error with the same code and fatality.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && t.Fatal == e.Fatal
}

// The sentinels, one per code, each with the message the kernel uses.
var (
	// ErrObjectDeleted: a message's target object has no owner: it was
	// deleted, or its vat was terminated.
	ErrObjectDeleted = &Error{Code: CodeObjectDeleted, Message: "Target object has no owner; it may have been deleted"}
	// ErrObjectRevoked: a message's target object was revoked.
	ErrObjectRevoked = &Error{Code: CodeObjectRevoked, Message: "Target object has been revoked"}
	// ErrBadPromiseResolution: a message was sent to a promise fulfilled
	// to something other than a single object.
	ErrBadPromiseResolution = &Error{Code: CodeBadPromiseResolution, Message: "Promise fulfilled but did not contain an object reference"}
	// ErrEndpointUnreachable: the target's vat does not exist as an
	// endpoint (the Deliverer said so with ErrNoEndpoint).
	ErrEndpointUnreachable = &Error{Code: CodeEndpointUnreachable, Message: "Target endpoint is unreachable (terminated or disconnected)"}
	// ErrDeliveryFailed: delivering a message failed for a reason other
	// than the vat's own fault or a vanished endpoint.
	ErrDeliveryFailed = &Error{Code: CodeDeliveryFailed, Message: "Delivery to the target endpoint failed"}
	// ErrVatTerminated: the vat deciding a promise was terminated, or
	// began a new incarnation (restart, upgrade, resume) while the promise
	// was undecided; the message then says "restarted".
	ErrVatTerminated = &Error{Code: CodeVatTerminated, Message: "The vat that decides this promise was terminated"}
	// ErrIllegalSyscall: a vat made an illegal syscall and was terminated
	// (or, under the restart policy, is to be restarted).
	ErrIllegalSyscall = &Error{Code: CodeIllegalSyscall, Fatal: true, Message: "Syscall translation error: prepare to die"}
	// ErrInternalError: a vat failed a delivery (panic, dispatch error,
	// missed deadline, failure exit) and was terminated (or, under the
	// restart policy, is to be restarted).
	ErrInternalError = &Error{Code: CodeInternalError, Fatal: true, Message: "Vat failed during a delivery"}
	// ErrOcapURLUnknown: an OCAP URL named nothing its issuer holds: it
	// was revoked, or never issued (docs/remote.md). The text names
	// neither the URL's object id nor a ref. Returned to the host too, by
	// RevokeURL of a URL not in the table.
	ErrOcapURLUnknown = &Error{Code: CodeOcapURLUnknown, Message: "The OCAP URL names no object: it was revoked or never issued"}
)

// Errors returned to the host for bad requests. They carry no kernel code:
// they never reach a vat or a promise.
var (
	// ErrUnknownVat: no vat has that id.
	ErrUnknownVat = errors.New("kernel: unknown vat")
	// ErrVatNotActive: the vat has been terminated.
	ErrVatNotActive = errors.New("kernel: vat is terminated")
	// ErrUnknownRef: no object or promise has that kref.
	ErrUnknownRef = errors.New("kernel: unknown kref")
	// ErrUnknownSubcluster: no subcluster has that id.
	ErrUnknownSubcluster = errors.New("kernel: unknown subcluster")
	// ErrBadConfig: a cluster or vat configuration is invalid.
	ErrBadConfig = errors.New("kernel: invalid configuration")
	// ErrPromiseNotRevocable: revoke was asked of a promise.
	ErrPromiseNotRevocable = errors.New("kernel: a promise cannot be revoked")
)

// withMessage returns a copy of e that says msg, scrubbed of refs.
func (e *Error) withMessage(msg string) *Error {
	c := *e
	c.Message = ScrubRefs(msg)
	return &c
}

// refPattern matches anything that looks like a kref, vref or vat id.
var refPattern = regexp.MustCompile(`k[op][0-9]+|[op][+-][0-9]+|[op]\+[dv][0-9]+/[0-9]+(:[0-9]+)?|v[0-9]+`)

// ScrubRefs replaces anything in s that looks like a kref, vref or vat id
// with "<ref>", so that text from a vat (a panic message, say) can go into
// an error that leaves the kernel (invariant 7).
func ScrubRefs(s string) string {
	return refPattern.ReplaceAllString(s, "<ref>")
}

// rejection is the CapData the kernel rejects a promise with for e.
func rejection(e *Error) marshal.CapData {
	return marshal.EncodeError("Error", e.Error())
}

// RejectionError is a promise rejection that is not a kernel error: the
// vat that decided the promise rejected it with its own value.
type RejectionError struct {
	Name    string          // the error's name, if the value was an error
	Message string          // the error's message, if the value was an error
	Value   marshal.CapData // the rejection as sent
}

func (e *RejectionError) Error() string {
	if e.Name != "" || e.Message != "" {
		return fmt.Sprintf("rejected: %s: %s", e.Name, e.Message)
	}
	return "rejected: " + e.Value.Body
}

// ErrorFromRejection turns a promise's rejection value into a Go error: a
// *Error when it carries a kernel code (so errors.Is(err,
// kernel.ErrObjectDeleted) works), else a *RejectionError.
func ErrorFromRejection(v marshal.CapData) error {
	name, msg, ok := marshal.DecodeError(v)
	if !ok {
		return &RejectionError{Value: v}
	}
	if e := parseCoded(msg); e != nil {
		return e
	}
	return &RejectionError{Name: name, Message: msg, Value: v}
}

// VatRejection turns a vat's rejection value into a *RejectionError, even
// when its message reads like a kernel code: only the kernel speaks for
// the kernel.
func VatRejection(v marshal.CapData) *RejectionError {
	name, msg, ok := marshal.DecodeError(v)
	if !ok {
		return &RejectionError{Value: v}
	}
	return &RejectionError{Name: name, Message: msg, Value: v}
}

// Carries reports whether err is the kernel error target, or a vat's
// rejection whose message carries target's code: a vat relaying a
// rejection it met (alice passing on bob's OBJECT_DELETED), or claiming
// one. errors.Is trusts only the kernel's own word; use Carries where a
// relayed code will do.
func Carries(err error, target *Error) bool {
	if errors.Is(err, target) {
		return true
	}
	var re *RejectionError
	if errors.As(err, &re) {
		if e := parseCoded(re.Message); e != nil {
			return e.Is(target)
		}
	}
	return false
}

// parseCoded reads "[KERNEL:CODE] message" or "[KERNEL:VAT_FATAL:CODE]
// message", or returns nil.
func parseCoded(msg string) *Error {
	rest, ok := strings.CutPrefix(msg, "[KERNEL:")
	if !ok {
		return nil
	}
	head, body, ok := strings.Cut(rest, "]")
	if !ok {
		return nil
	}
	e := &Error{Message: strings.TrimPrefix(body, " ")}
	if c, ok := strings.CutPrefix(head, "VAT_FATAL:"); ok {
		e.Fatal, head = true, c
	}
	if head == "" || strings.Trim(head, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") != "" {
		return nil
	}
	e.Code = Code(head)
	return e
}
