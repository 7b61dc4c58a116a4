// Package supervisor runs vats as supervised actors: the vat actor that
// hosts one incarnation of a Go vat, the channel pump that carries its
// syscalls to the kernel actor during a delivery (with a deadline and an
// abort path, so no vat goroutine is ever left blocked), and the restart
// policy's arithmetic (backoff, intensity).
//
// It owns the vat side of a delivery and the decision of when to restart;
// it must not touch the kernel's state (the kernel actor does, between
// cranks) and must not decide ocap questions.
//
// A vat actor recovers its own panics and reports them as failed
// deliveries; actor supervision is only the backstop.
package supervisor
