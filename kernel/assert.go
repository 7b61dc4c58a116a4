package kernel

import "fmt"

// InvariantError is what the kernel panics with when one of its own
// invariants is broken. It means a kernel bug, never a vat's fault: a
// vat's fault is an illegal syscall or a failed delivery, and never
// panics the kernel.
type InvariantError struct{ Msg string }

func (e *InvariantError) Error() string { return "kernel invariant broken: " + e.Msg }

// bugf panics with an InvariantError saying what broke. It is the only
// way kernel code panics (the lint test checks this).
func bugf(format string, args ...any) {
	panic(&InvariantError{Msg: fmt.Sprintf(format, args...)})
}
