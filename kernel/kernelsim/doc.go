// Package kernelsim is a deterministic simulation of the kernel: a seeded
// generator of random programs over several vats, run through the
// synchronous driver (kerneltest.Driver), checked after every crank
// against the kernel's auditor and against a simple model of what the
// kernel promises its vats.
//
// A Program (program.go) is a list of steps made from a seed: host sends,
// vat acts (sends with object and promise arguments, bursts and pipelined
// chains, resolutions, drops and retires, abandons, exits, faults and
// hostile syscalls), revocations, unpins, terminations, restarts,
// upgrades, reaps, launches and kernel restarts (a file store closed or
// crashed, then reopened and resumed). Each step is followed by a few
// cranks, so that a backlog builds up between the steps that run to idle.
// Vats are fake vats whose one handler (vat.go, deliver.go) answers every
// delivery; what a receiver does with a message is a short reaction string
// its sender chose (react.go), and every pick is taken modulo what the
// actor holds when the step runs, so one seed makes one execution,
// exactly, and a program cut short is still a program.
//
// The model (model.go, check.go) is a global observer. Every message
// carries in its body its id, its sender, the reference it was sent on
// and a sequence number per (sender, reference); the model records every
// send, resolution and delivery as the vats make them (a crank's records
// count only if the crank commits), and checks:
//
//   - after every crank and host request, kernel.Audit is empty (the
//     Driver runs it);
//   - E-order: one sender's messages on one reference arrive in send
//     order, also through promises that settle between sends and across
//     kernel restarts (invariant 13, docs/invariants.md);
//   - routing and translation: a message reaches what its reference
//     designates at that moment, with the body its sender wrote, and
//     every vref a vat is given keeps its meaning;
//   - exactly once: no message is delivered twice, and once the program
//     has run to idle and every vat has settled what it owes, no promise
//     is left unsettled and every message was delivered or its result
//     rejected with the code the model expects (OBJECT_DELETED after
//     termination or abandonment, OBJECT_REVOKED after revocation,
//     BAD_PROMISE_RESOLUTION, the target promise's own rejection), none
//     lost; every host message gets exactly one output;
//   - termination: a hostile vat is terminated with ILLEGAL_SYSCALL, a
//     faulting one with INTERNAL_ERROR, one that exits is terminated, and
//     no other vat is.
//
// Behaviours the model expects that older kernels lack (E-order by
// construction, abandoned exports and promises at a new incarnation,
// resume as a restart, sendOnly, CapData validated at the syscall) are
// Features; Options.Pending names those a kernel under test lacks, and
// the generator and the model then leave them out. Options.Known names checks of kernel bugs already reported, so
// that a long run can look past them.
//
// # Usage
//
// TestSimulation (sim_test.go) is the way in:
//
//	go test ./kernel/kernelsim                        # the short form: 250 seeds
//	go test ./kernel/kernelsim -run 'TestSimulation$' -sim.seed=N   # replay one seed
//	go test ./kernel/kernelsim -run 'TestSimulation$' -sim.cranks=100000   # the long form
//
// with -sim.first (the first seed), -sim.seeds (how many), -sim.steps
// (program length MIN-MAX), -sim.ops (cut every program to its first N
// steps, to shrink a failure), -sim.pending and -sim.known (comma lists),
// and -sim.v (log every step and crank). A failure reports its seed, the
// program up to the failing step, the violations and the last cranks,
// and the command that replays it.
//
// This package may import kernel, kerneltest, persistence and marshal;
// nothing but tests imports it.
package kernelsim
