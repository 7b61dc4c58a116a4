// Package supervisor runs vats as supervised actors: the vat actor that
// hosts one incarnation of a Go vat, the channel pump that carries its
// syscalls to the kernel actor during a delivery (with a deadline and an
// abort path, so no vat goroutine is ever left blocked).
//
// It owns the vat side of a delivery. It must not touch the kernel's
// state (the kernel actor does, between cranks) and decides nothing: the
// failure policy (restart or terminate, and the backoff) is the kernel's.
//
// A vat actor recovers its own panics and reports them as failed
// deliveries; actor supervision is only the backstop.
package supervisor
