// Package marshal holds CapData, the form in which values cross the kernel:
// a smallcaps body (a string the kernel never parses) and the slots (refs)
// the body points into by index.
//
// The kernel sees only CapData: it translates slots between vat refs and
// kernel refs and leaves bodies alone. It also builds a few bodies of its
// own: the errors it rejects promises with (EncodeError), whose messages
// carry a stable [KERNEL:CODE] prefix.
//
// This package owns the wire format and must not import the kernel.
package marshal
