// Package jsvat runs JavaScript vats: each incarnation of a vat whose
// config has a bundleSpec is one Node.js worker process (the worker/
// directory: SES lockdown, @agoric/swingset-liveslots over the vat's
// bundle in a Compartment), spoken to over its fds 3 and 4 with the
// reference's vat protocol (docs/vat-protocol.md: JSON-RPC initVat,
// deliver and ping from the kernel, syscall notifications from the vat,
// the vatstore checkpoint with each result).
//
//	rt, err := jsvat.NewRuntime(jsvat.Options{WorkerDir: "jsvat/worker"})
//	defer rt.Close() // after the kernel's Stop
//	k, err := actors.Start(ctx, actors.Config{Registry: reg, JS: rt})
//	res, err := k.LaunchSubcluster(ctx, kernel.ClusterConfig{Bootstrap: "alice",
//		Vats: map[string]kernel.VatConfig{"alice": {BundleSpec: "vats/alice.js"}}})
//
// It owns the worker processes and the wire: a vat is a vat.RawVat
// (Runtime.NewVat) that the supervisor's vat actor hosts like any other,
// so the kernel sees only deliveries and syscalls. It decides nothing
// about the vat's fate (the kernel's failure policy does) and never
// touches the kernel's state: the vatstore is read and written only
// through the delivery's syscalls, so a rolled-back crank undoes them.
//
// What it guarantees:
//
//   - A worker is killed (SIGKILL to its process group, then reaped and
//     its pipes closed; within 10 ms, io.go) when the kernel abandons its delivery (a missed
//     deadline, the host terminating it, the kernel stopping), when its vat
//     is stopped, and when it fails a delivery; a spinning or hung worker
//     is no exception. On Linux a worker also dies with the kernel's
//     process (a parent-death signal).
//   - Everything a worker writes is checked before the kernel sees it
//     (wire.go): frames over Options.MaxFrame, frames that are not UTF-8
//     JSON-RPC of the protocol's exact shape, responses to no request,
//     syscalls outside a delivery, vatstore syscalls (the checkpoint is
//     the only way in) all fail the delivery as the vat's fault
//     (ErrProtocol). A worker that dies fails it too (ErrWorkerExited).
//   - A vat's console and its worker's stderr reach the vat's log.
//
// Node.js (20.9 or later) and the worker's npm dependencies (npm ci
// --prefix jsvat/worker) are needed only when a JavaScript vat launches:
// NewRuntime never fails for want of them, and a launch without them is
// refused saying what to install (ErrNoNode, ErrNoWorker).
package jsvat
