// Package kernel is the deterministic kernel state machine of
// kernel-actors: refs and c-lists, kernel objects and promises, the run
// queue, the router and splats, syscall validation, cross-vat reference
// counting and GC, vat termination, and the auditor.
//
// It owns the meaning of the kernel's state. It must not start goroutines,
// read the clock, use randomness or import the actor runtime: it changes
// only when called, and everything it does is a function of its store and
// its inputs (a lint test enforces this). Persistence is the store's job
// (package persistence); delivering to vats is a Deliverer's.
//
// # Usage
//
// The driving loop is the caller's (the kernel actor in production,
// kerneltest.Driver in tests):
//
//	st, _ := sqlitestore.Open(ctx, path, persistence.Options{})
//	k, _ := kernel.New(kernel.Config{Store: st, Logger: log})
//	out, _ := k.Resume(ctx, deliverer) // a reopened store: new incarnations
//	release(out)
//	res, out, _ := k.Launch(ctx, deliverer, cfg, kernel.LaunchOptions{})
//	release(out) // one unit: vats started, bootstrap queued (res.BootstrapKPID)
//	for k.HasWork() {
//		r, err := k.Crank(ctx, deliverer) // exactly one unit of work
//		if err != nil {
//			break // the store failed or ctx ended: stop, reopen later
//		}
//		stop(r.Terminated)  // stop those vats' actors, without waiting
//		release(r.Released) // answer host requests
//	}
//	stop(k.TakeStopped()) // after host requests: vats they terminated
//	out, _ = k.Flush(ctx) // group commit: when st.FlushDue(), and at exit
//	release(out)
//
// The caller's duties:
//
//  1. Call the Kernel from one goroutine only, and never from inside a
//     Deliver: host requests (LaunchSubcluster, QueueMessage, TerminateVat,
//     Revoke, ...) run between cranks, each as a unit of its own.
//  2. Implement Deliverer so that Deliver returns once the vat is done,
//     with ErrVatFault for the vat's own failures (panic, missed deadline),
//     ErrNoEndpoint when the vat's endpoint is gone, and another error for
//     anything else. Syscalls come in through the Syscaller it is given,
//     on the crank's goroutine, and only until Deliver returns.
//  3. Release Outputs (promise settlements for the host) only as Crank,
//     Flush and the host requests return them: they are returned only once
//     the SQLite transaction covering them has committed. Answer each host
//     request at its first Output (an Aborted one comes early, when the
//     vat handling the request failed) and ignore later ones.
//  4. Stop the actors of the vats in CrankResult.Terminated, and after a
//     host request those TakeStopped returns (a request can terminate
//     vats: TerminateVat, or a launch whose bootstrap failed). After a
//     failed Launch, stop any actor the Deliverer spawned for a vat id
//     the kernel does not know.
//  5. On a store that already holds vats, call Resume before anything
//     else: every heap died with the old process. A runtime that caps its
//     live vats may call ResumeWith instead, deferring the starts of vats
//     it can page out; it then delivers StartDelivery(vat) to each
//     deferred vat before its first delivery, inside that delivery.
//  6. With group commit, call Flush when Store().FlushDue() says a group
//     has waited long enough, and before closing the store.
//  7. After an error from the store (persistence.ErrFailed), stop: memory
//     is ahead of the file. Reopen the store to resume from the file.
//
// # Semantics
//
// The kernel follows MetaMask ocap-kernel's semantics (MetaMask/ocap-kernel,
// its packages/ocap-kernel/src) with SwingSet's accounting,
// and none of the reference's known defects: a crank handles exactly one
// unit of work; an abort rolls back memory and disk alike; the illegal-
// syscall mark is sticky; promises a terminated vat decides are rejected;
// reference counts are right with any number of importers; resolved
// promises leave the c-lists and are freed; errors that leave the kernel
// carry a stable code and no identifiers.
//
// No vat can harm another through what it hands the kernel (invariant 14,
// docs/invariants.md): every CapData in a syscall is validated at the
// syscall (marshal.Validate), and a delivery may make only so many sends
// and syscalls and hand over only so many bytes (Config.MaxDelivery*). A
// vat that breaks either makes an illegal syscall and is the one
// terminated (or restarted, under its restart policy); docs/limits.md
// has the rules, defaults and settings. A send may carry no result
// promise (sendOnly).
package kernel
