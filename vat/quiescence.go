package vat

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ocapgo/kernel-actors/vatproto"
)

// Quiescence, for paging (docs/paging.md). A runtime that keeps many vats
// may drop the instance of an idle vat whose config says its state is all
// durable, and build a fresh one of the same incarnation at its next
// delivery: startVat runs the build function again over the same
// vatstore. That is invisible to the vat's peers only if nothing they
// depend on lives in the heap alone, and the config's word is not enough
// for that: the vat's code may be wrong, or hostile. So before a page-out
// the runtime asks the instance, which answers from its own tables, as
// liveslots knows them.
//
// What Quiescent cannot see is a plain Go value the vat's code keeps in a
// variable (a counter, a presence held by a closure): that is the author's
// promise to keep (Pageable), and breaking it harms only the vat itself.

// ErrNotQuiescent is wrapped by Quiescent's answer for an instance whose
// heap holds state a page-out would lose.
var ErrNotQuiescent = errors.New("vat: not quiescent")

// Quiescent reports whether the instance holds nothing between deliveries
// that a fresh instance of the same incarnation, built from the vatstore,
// would not have: no task parked in Await, no promise it decides, no
// promise the kernel knows (a reaction may wait on it, or its settlement
// be due), no export other than the root and durable objects (alive or
// dropped but not retired), and no settlement still to tell the kernel.
// The error wraps ErrNotQuiescent and says what it holds, with counts.
//
// It must be called between deliveries, on the goroutine that delivers.
func (inst *Instance) Quiescent() error {
	if !inst.started {
		return fmt.Errorf("%w: not started", ErrNotQuiescent)
	}
	var held []string
	add := func(n int, what string) {
		if n > 0 {
			held = append(held, fmt.Sprintf("%d %s", n, what))
		}
	}
	// INVARIANT: a parked task resumes only in this heap; dropping it
	// would leave its promise unsettled forever.
	add(inst.awaiting, "tasks waiting in Await")
	add(len(inst.sched.ready), "tasks ready to run")
	// INVARIANT: a promise the vat decides is settled only by this heap
	// (invariant 8 needs a live decider).
	add(len(inst.decides), "promises it decides")
	add(len(inst.promises), "promises the kernel knows")
	ephemeral := 0
	for vref, o := range inst.exports {
		if o.kind == nil && vref != string(vatproto.RootVRef) {
			ephemeral++
		}
	}
	// INVARIANT: an ephemeral export is known to this heap alone; a fresh
	// one would fault on a send to it.
	add(ephemeral, "ephemeral exports")
	add(len(inst.dropped), "dropped exports not yet retired")
	add(len(inst.toResolve), "settlements to tell the kernel")
	if len(held) > 0 {
		return fmt.Errorf("%w: it holds %s", ErrNotQuiescent, strings.Join(held, ", "))
	}
	return nil
}
