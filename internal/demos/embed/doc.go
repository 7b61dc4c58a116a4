// Package embed is the "embed" demo: the kernel inside an existing
// protoactor-go application that already has actors of its own.
//
// The application makes its actor system and spawns its actors: a ledger
// that keeps the day's sales, and an order desk that takes orders as
// ordinary Go messages and, for each, calls the kernel's API
// (Kernel.QueueMessage) to talk to two vats, "embed/inventory" and
// "embed/pricing", replying to whoever asked. The kernel is started with
// actors.Config.System set to the application's system, so its actor
// (Kernel.PID) and the vats' actors live next to the application's.
// Stopping the kernel leaves the application's system and actors running;
// the application shuts its system down itself.
//
// The order desk shows the one rule an embedding actor must keep: a
// kernel call waits for a crank (or several), so it never runs inside the
// actor's Receive; it runs on a goroutine whose result comes back to the
// actor as a message. Blocking Receive on the kernel would stall the
// actor's mailbox for as long as the vats take.
//
// Like every demo, it talks to the kernel only through package actors' API:
// it must not reach into the kernel state machine, the store, or the vat
// actors, and it must not send the kernel actor messages of its own.
package embed
