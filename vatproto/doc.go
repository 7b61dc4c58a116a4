// Package vatproto is the raw vat protocol: what the kernel hands a vat (a
// Delivery) and what a vat asks of the kernel while handling it (a
// Syscall), all in the vat's own ref space (vrefs). It is plain data, so
// that a vat in another process or language can speak it.
//
// A send's result is optional (VatMessage.Result "" is a sendOnly), and the
// startVat delivery tells the vat the kernel's vatstore limits (Limits), so
// that its liveslots can refuse an over-limit write to vat code rather
// than make a syscall the kernel would refuse.
//
// The kernel (package kernel) and the Go liveslots layer (package vat) both
// depend on this package and not on each other. It must import nothing of
// the project but marshal.
package vatproto
