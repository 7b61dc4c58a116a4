package kernelsim_test

import (
	"testing"

	ks "github.com/ocapgo/kernel-actors/kernel/kernelsim"
)

// eorderProgram is the shape of the E-order failures the simulation found,
// cut down by hand: the host pipelines x on its result P1 (which A keeps
// waiting), then m1 on x's result P2, so both wait on promises; A settles
// P1, which makes x deliverable; the host then sends m2 on P2. x's
// delivery settles P2 while m2 is queued: m1 must still come before m2.
// (The host's refs, in order: the roots of A, B, C, then its results; #3
// is P1, #4 is P2.) between goes after A settles P1, how A settles it.
func eorderProgram(file bool, how byte, between ...ks.Step) ks.Program {
	steps := []ks.Step{
		{Kind: ks.KindHostSend, Target: 0, React: "w", Cranks: 1},      // P1, which A keeps waiting
		{Kind: ks.KindHostSend, Target: 3, React: "o", Cranks: 1},      // x on P1: waits on P1
		{Kind: ks.KindHostSend, Target: 4, React: "u", Cranks: 1},      // m1 on P2: waits on P2
		{Kind: ks.KindResolve, Vat: 0, Target: 0, How: how, Cranks: 1}, // A settles P1
	}
	steps = append(steps, between...)
	steps = append(steps, ks.Step{Kind: ks.KindHostSend, Again: true, React: "u", Cranks: 5}) // m2 on P2
	return ks.Program{Vats: 3, File: file, Steps: steps}
}

// TestEOrderThroughAResolvingPromise: messages that waited on a promise
// are delivered before later messages sent on it (invariant 13,
// docs/invariants.md). It fails while the kernel queues a send to an
// unresolved promise through the run queue and appends the promise's
// queue behind it at resolution.
func TestEOrderThroughAResolvingPromise(t *testing.T) {
	r := ks.Run(t, eorderProgram(false, 'o'), ks.Options{})
	if r.Failed() {
		t.Fatal(r.Report("go test ./kernel/kernelsim -run TestEOrderThroughAResolvingPromise"))
	}
	if r.Stats.Delivered < 5 {
		t.Fatalf("the program delivered %d messages, want x, m1, m2 and the two before", r.Stats.Delivered)
	}
}

// TestEOrderAcrossAKernelRestart: the same, with the kernel crashed and
// resumed while x and m1 wait: A settled P1 to a durable object, which
// its next incarnation still answers for, and the host, a new process,
// sends m2 on its old result P2 (it no longer awaits P2, but P2 lives while
// x holds it).
func TestEOrderAcrossAKernelRestart(t *testing.T) {
	p := eorderProgram(true, 'd', ks.Step{Kind: ks.KindKernelRestart, Fail: true})
	r := ks.Run(t, p, ks.Options{})
	if r.Failed() {
		t.Fatal(r.Report("go test ./kernel/kernelsim -run TestEOrderAcrossAKernelRestart"))
	}
	if r.Stats.KernelRestarts != 1 || r.Stats.Delivered < 5 {
		t.Fatalf("%d kernel restarts and %d deliveries, want 1 and x, m1, m2 and the two before", r.Stats.KernelRestarts, r.Stats.Delivered)
	}
}
