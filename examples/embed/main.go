// Command embed runs the "embed" demo: the kernel inside an existing
// protoactor-go application that already has actors of its own.
//
// The application (app.go) makes its actor system and spawns its actors: a
// ledger that keeps the day's sales, and an order desk that takes orders
// as ordinary Go messages and, for each, calls the kernel's API
// (Kernel.QueueMessage) to talk to two vats (vats.go), "embed/inventory"
// and "embed/pricing", replying to whoever asked. The kernel is started
// with actors.Config.System set to the application's system, so its actor
// (Kernel.PID) and the vats' actors live next to the application's.
// Stopping the kernel leaves the application's system and actors running;
// the application shuts its system down itself (run.go).
//
// The order desk shows the one rule an embedding actor must keep: a
// kernel call waits for a crank (or several), so it never runs inside the
// actor's Receive; it runs on a goroutine whose result comes back to the
// actor as a message. Blocking Receive on the kernel would stall the
// actor's mailbox for as long as the vats take.
//
// It talks to the kernel only through package actors' API, never sends
// the kernel actor messages of its own, and imports nothing internal, so
// the folder runs as well copied into a module of its own. Its command
// line is every demo's (demos.Main); --log writes the kernel's and the
// app's protoactor logs to stderr as JSON, -v as readable lines.
// `kernel-actors demo embed` runs the same code.
//
//	go run ./examples/embed [--db PATH] [-v | --log]
//
// Exit codes: 0 success, 1 failure, 2 bad usage.
package main

import (
	"context"
	"io"
	"os"

	"github.com/ocapgo/kernel-actors/demos"
)

func main() { os.Exit(demos.Exec(run)) }

// run is the command, testable: it parses args, narrates to stdout, and
// returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return demos.Main(ctx, Demo(), args, stdout, stderr)
}
