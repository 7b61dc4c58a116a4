// Package actors runs the kernel on protoactor-go and is the API a Go
// program embeds it through.
//
// One kernel actor owns the kernel state machine (package kernel) and its
// store. Every runCrank message it handles runs exactly one crank, and it
// sends itself the next runCrank while work remains, so host requests,
// timers and supervision signals are handled between cranks, never inside
// one. Each vat incarnation is a child actor (package supervisor). A
// delivery goes to the vat actor, and while the kernel actor waits for it
// the vat's syscalls call the kernel through a gate that only that
// delivery holds open (supervisor.Pumper); the vat never waits on the
// kernel's mailbox, and every delivery has a deadline
// (Config.DeliveryDeadline). A vat that panics, makes an illegal syscall,
// exits with failure or misses its deadline fails the crank: the crank
// rolls back, and its vat is terminated (by stopping its actor directly,
// without waiting for anything) or, under the restart policy, restarted
// from its durable state after a backoff. Messages from an incarnation that
// has been stopped are ignored.
//
// # Usage
//
//	k, err := actors.Start(ctx, actors.Config{DBPath: "k.db", Registry: reg})
//	...
//	defer k.Stop(ctx)
//	res, err := k.LaunchSubcluster(ctx, kernel.ClusterConfig{
//		Bootstrap: "alice",
//		Vats: map[string]kernel.VatConfig{
//			"alice": {Bundle: "alice"},
//			"bob":   {Bundle: "bob", FailurePolicy: kernel.PolicyRestart},
//		},
//	})
//	v, err := k.QueueMessage(ctx, res.RootKref, "hello", "world")
//
// QueueMessage waits for the result. A rejection is a Go error that
// matches the kernel's sentinels with errors.Is (kernel.ErrObjectDeleted,
// kernel.ErrVatTerminated, ...); an error the vat's code returned is a
// *kernel.RejectionError carrying the vat's message. Objects in a result
// come back as kernel.KRef values, usable as targets and arguments.
//
// Start on a file that already holds a kernel resumes it: vats are rebuilt
// from the registry by bundle name, the run queue picks up where it
// stopped, and no bootstrap is sent again. Config.ResetStorage starts
// afresh instead. A program that resumes finds what it launched by the
// config it launched it from, with the same roots and vat ids:
//
//	res, err := k.Subcluster(ctx, cfg) // launched by an earlier run?
//	if errors.Is(err, kernel.ErrUnknownSubcluster) {
//		res, err = k.LaunchSubcluster(ctx, cfg)
//	}
//
// Its vats are new incarnations: what they need from before the restart
// must be in their baggage or durable objects (package vat, "Surviving a
// restart").
//
// # What the caller must do
//
//   - Release every object kref it is done with. Each result that names an
//     object pins it for the host, so a kref the host holds always works;
//     the pin lasts until Release (one Release per result that named it).
//   - Register the same services (Config.Services or RegisterService)
//     after a restart, under the same names, before vats call them.
//   - Call Stop. It commits what is pending, closes the store, stops the
//     vats' actors and, if Start made the actor system, shuts it down.
//     A deferred k.Stop(ctx) with a ctx that has ended (a signal, a
//     deadline) still closes the store: the delivery in hand is cut short
//     and rolled back, and Stop goes on for Config.StopTimeout more. Stop
//     happens once; calling it again returns the first stop's outcome.
//
// Every method takes a context; when it is done the call returns
// ctx.Err(), but work already handed to the kernel actor goes on (a
// message queued is queued). After Stop, or after the kernel stopped
// itself because the store failed, calls return ErrStopped.
//
// # Commit policies
//
// Under persistence.Durable (default) every crank is its own SQLite
// transaction. Under persistence.Group, cranks that run back to back
// share one, bounded by GroupCranks and GroupInterval; when the kernel runs
// out of work the group is written at once. Under both, a result reaches
// the host only once the crank that produced it is in the file, so a
// crash (kill -9 included) never undoes anything the host was told.
//
// # Paging
//
// Config.MaxLiveVats caps the vat instances alive at once. Vats whose
// config sets Pageable are paged out when room is needed, least recently
// delivered first, and built again from their vatstore at their next
// delivery, in the same incarnation; a vat that holds state a page-out
// would lose stays live (paging.go, docs/paging.md).
//
// # Kernels on a network
//
// Config.Remote puts the kernel on a network of kernels (remote.go,
// docs/remote.md): protoactor-go remote on the kernel's actor system,
// mutual TLS from the kernel's key, and the kernel actor receiving its
// peers' frames as actor messages, each applied as its own unit between
// cranks; what the kernel sends a peer goes on the wire only once the
// flush that holds it is done. AddRemote, ExportToRemote and
// ImportFromRemote introduce objects across kernels, and so do OCAP URLs
// (IssueURL, RedeemURL, RevokeURL); a presence is a
// kref like any other, for the host and for vats. RemoteConfig.GiveUpAfter
// rejects the results a silent peer owes with PEER_UNREACHABLE. One
// kernel per process may have a remote (ErrRemoteInProcess).
//
// # Logging
//
// Config.Logger (zerolog) receives the runtime's and the kernel's logs and,
// when Start makes the actor system, protoactor's slog output, with its
// "message" attribute renamed "payload" so that no JSON line has two
// "message" keys. Each crank logs one debug line with its vat, method and
// outcome; nothing at info level or above carries a kref. The zero Logger
// logs nothing.
package actors
