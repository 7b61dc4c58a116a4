// Package supervisor runs vats as supervised actors: the vat actor that
// hosts one incarnation of a Go vat (its deliveries on a driver coroutine
// of its own, labelled for pprof), and the pump that lets a delivery's
// syscalls reach the kernel while the kernel actor waits for it (through a
// gate, with a deadline and an abort path, so no vat goroutine is ever left
// blocked and none reaches the kernel after its delivery).
//
// It owns the vat side of a delivery. It must not touch the kernel's
// state itself (only the kernel's Syscaller does, through the gate, while
// the kernel actor waits) and decides nothing: the
// failure policy (restart or terminate, and the backoff) is the kernel's.
//
// A vat actor recovers its own panics and reports them as failed
// deliveries; actor supervision is only the backstop.
package supervisor
