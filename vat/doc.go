// Package vat is the liveslots layer: writing vats in Go. Vat code deals in
// objects, presences and promises; this package turns them into the raw
// vat protocol (package vatproto) of vrefs, deliveries and syscalls, and
// back.
//
//	reg := vat.NewRegistry()
//	reg.MustRegister("counter", func(vc *vat.Context) (any, error) {
//		n := int64(0) // the heap's: back to 0 after a restart (see below)
//		return vat.Far("counter", vat.Methods{
//			"incr": func(c *vat.Call) (any, error) { n++; return n, nil },
//		}), nil
//	})
//
// The pieces:
//
//   - Registry maps bundle names to build functions, so a restarted kernel
//     rebuilds its vats by name. A build function gets a Context
//     (Parameters, Baggage, Logger, Incarnation, Exit, DefineKind) and
//     returns the vat's root object. An About given to Register (a
//     summary and the root's methods) describes the bundle for people:
//     the binary's `bundles` command lists it.
//   - Far makes an ephemeral object: it lives while anything holds it and
//     dies with the incarnation. A method returns a value (or a *Promise
//     for one) or an error, which rejects the caller's promise and leaves
//     the vat running. An unknown method or a malformed message rejects
//     with a TypeError.
//   - Objects of other vats arrive as *Presence values. E(target).Send
//     sends to a presence, to a promise (pipelined through the kernel) or
//     to one of the vat's own exported objects, and returns a *Promise.
//     E(target).SendOnly sends with no result at all: no promise, and
//     nobody hears how it went.
//   - A *Promise settles once. Then reacts to it; Await blocks the calling
//     method while the vat goes on with other deliveries. NewPromise makes
//     a promise the vat decides; passing promises and objects inside
//     arguments and results, at any depth, works both ways.
//   - A promise is rejected with an error, or with any passable value:
//     Rejection(v) is an error that rejects with v itself (from a method,
//     a reject function or a Then callback), and a rejection with a value
//     that is not an error arrives as a *RejectionError.
//   - Durable kinds (Context.DefineKind) make objects whose state lives in
//     the vatstore (Call.State) and whose vrefs stay valid across
//     restarts; a new incarnation must re-define every kind, or its start
//     fails naming the kind. Baggage is the durable map a build function
//     finds its durable objects in. A durable write over the kernel's
//     vatstore limits (told at startVat) returns ErrVatstoreLimit and
//     writes nothing: the vat goes on (docs/limits.md).
//   - Garbage collection: the vat holds its exports while the kernel can
//     reach them and imports weakly; at bring-out-your-dead, imports no Go
//     value and no durable value holds are dropped and retired.
//
// # Surviving a restart
//
// A vat's heap lasts one incarnation. A new incarnation begins when the
// vat is restarted (by the host, or by its failure policy), upgraded, or
// when a kernel starts again on its file: the build function runs again,
// and every Go variable starts at its zero value. Bootstrap is sent once,
// at launch, and never again. So what a vat needs after a restart must
// live where the kernel keeps it:
//
//   - presences of other vats, and plain data: Baggage. Set them when they
//     arrive (in bootstrap, or in the method that received them) and Get
//     them where they are used.
//   - the vat's own objects that others hold on to: durable kinds
//     (Context.DefineKind), whose state is in Call.State. Keep them in
//     baggage too, to find them again.
//   - in Go variables, only what the build function rebuilds each time:
//     the kinds it defines, and caches of what the baggage holds.
//
// Here alice keeps bob's presence in her baggage, not in a variable that
// bootstrap sets:
//
//	reg.MustRegister("alice", func(vc *vat.Context) (any, error) {
//		return vat.Far("alice", vat.Methods{
//			"bootstrap": func(c *vat.Call) (any, error) {
//				bob := c.Arg(0).(map[string]any)["bob"]
//				return "ready", vc.Baggage.Set("bob", bob)
//			},
//			"greet": func(c *vat.Call) (any, error) {
//				bob, _ := vc.Baggage.Get("bob")
//				return vat.E(bob).Send("hello", c.Arg(0)).Await()
//			},
//		}), nil
//	})
//
// A presence kept in a Go variable is nil in the new incarnation, and a
// send to it fails with ErrNoTarget, whose message says this. Ephemeral
// objects (Far) and promises die with their incarnation and cannot be
// stored durably (Baggage.Set refuses them): a message to an old
// incarnation's ephemeral object is rejected with OBJECT_DELETED.
//
// # Pageable vats
//
// A vat written this way, everything it needs between deliveries in its
// baggage and durable objects, may say so in its config (pageable: true):
// a kernel with a cap on live vats then drops its instance while it is
// idle and builds a fresh one, in the same incarnation, at its next
// delivery (docs/paging.md). Its build function then runs at every
// page-in, so it may only use the vatstore (define kinds, read baggage);
// a send there fails the page-in. Before a page-out the runtime asks
// Instance.Quiescent, and keeps the vat live while it has a task waiting
// in Await, a promise it decides or the kernel knows, or an ephemeral
// export.
//
// # Scheduling
//
// Vat code runs on coroutines (iter.Pull), but only one at a time, and only
// while the delivery's goroutine waits for it: each task (a new method, a
// Then reaction, an Await whose promise settled) runs in FIFO order until
// it finishes or parks in Await. Coroutines are reused from task to task,
// so a task costs no goroutine of its own. A delivery runs until no task
// is ready, so the method and every reaction it triggers finish (or park
// in Await) inside the delivery's crank, and what a vat does is a function
// of its deliveries alone. A method that panics (or calls runtime.Goexit)
// fails the delivery (the kernel rolls the crank back).
//
// # Values
//
// Arguments and results use package marshal's mapping (numbers decode as
// int64 when whole, else float64; records as map[string]any; ...), with
// *Object, *Presence and *Promise passing by reference.
//
// # Runtimes
//
// A runtime (the actor runtime, kerneltest's driver) makes one Instance per
// incarnation with New, feeds it deliveries with Deliver, and calls Stop
// when the incarnation ends. Errors from Deliver wrap ErrFault: the vat
// failed the delivery.
//
// This package may import marshal and vatproto, never the kernel.
package vat
