// Package kernelsim is a deterministic simulation of the kernel: a seeded
// generator of random programs over several vats, run through the
// synchronous driver (kerneltest.Driver), checked after every crank
// against the kernel's auditor and against a simple model of what the
// kernel promises its vats.
//
// A Program (program.go) is a list of steps made from a seed: host sends,
// vat actions (sends with object and promise arguments, pipelined chains,
// resolutions, drops and retires, abandons, exits, faults and hostile
// syscalls), revocations, terminations, restarts, upgrades, reaps and
// kernel restarts (a file store closed or crashed, then reopened). Each
// step is followed by a few cranks. Vats are fake vats whose one handler
// (vat.go) answers every delivery; what a receiver does with a message is
// a short reaction string the sender chose (react.go), so one seed makes
// one execution, exactly.
//
// The model (model.go, check.go) is a global observer. Every message
// carries in its body its id, its sender, the reference it was sent on
// and a sequence number per (sender, reference); the model records every
// send, resolution and delivery, and checks:
//
//   - after every crank, kernel.Audit is empty (the Driver runs it);
//   - E-order: deliveries of one sender's messages on one reference arrive
//     in send order, also through promises that resolve between sends and
//     across kernel restarts (invariant 13, docs/invariants.md);
//   - routing: a message is delivered to what its reference designates
//     when it is delivered, with the slots and body its sender wrote;
//   - exactly once: no message is delivered twice, and once the program
//     has run to idle and every vat has settled what it promised, every
//     message was delivered or its result rejected with the code the
//     model expects (OBJECT_DELETED after termination or abandonment,
//     OBJECT_REVOKED after revocation, BAD_PROMISE_RESOLUTION, the target
//     promise's own rejection), and no promise is left unsettled;
//   - termination: a hostile vat is terminated with ILLEGAL_SYSCALL, a
//     faulting one with INTERNAL_ERROR, and no other vat is terminated.
//
// Behaviours the kernel is still moving to (E-order by construction,
// abandoned exports at restart, resume as restart, sendOnly, CapData
// validation) are Features; Options.Pending names those that have not
// landed, and the generator and the model then leave them out.
//
// A failure reports its seed, the program up to the failing step, the
// violations and the last cranks; the test's -sim.seed flag replays it.
//
// This package may import kernel, kerneltest, persistence and marshal;
// nothing but tests imports it.
package kernelsim
