// Command caretaker runs the caretaker demo: revocable forwarding, the
// classic object-capability answer to "give Bob access to Carol, and take
// it back later", in two forms.
//
// Alice (vat "caretaker/alice") owns Carol, a notes store that never leaves
// her vat. She shares Carol with Bob (vat "caretaker/bob") only through a
// caretaker: a forwarder object that relays every message to Carol (one
// catch-all method, vat.Methods' "" entry, which sees the method name in
// call.Method) and a revoker object whose revoke() makes the forwarder
// refuse. Bob uses Carol through the forwarder, values flow, and then:
//
//   - (a) the revoker is used: the forwarder still receives Bob's messages
//     but Alice's code rejects them with the vat error "revoked";
//   - (b) the host revokes a second forwarder in the kernel (Kernel.Revoke):
//     the kernel rejects every message to it with [KERNEL:OBJECT_REVOKED]
//     before any vat sees it, and Alice's code is never asked.
//
// Bob reports what he saw in each case; the host also sends to the
// forwarders itself and matches the kernel's refusal with errors.Is(err,
// kernel.ErrObjectRevoked). Vats never narrate: what they did comes back
// in their results (a "story" of lines) for the host to tell (run.go). The
// vats are in vats.go.
//
// The program reaches the kernel through the embedding API (package
// actors) and Go vats (package vat) alone, and imports nothing internal,
// so the folder runs as well copied into a module of its own. A database
// that already holds vats is refused before the kernel starts
// (demos.StartKernel, as a Fresh demo). `kernel-actors demo caretaker` runs
// the same code.
//
//	go run ./examples/caretaker [--db PATH] [-v | --log]
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

// run is main without the process: it parses args, runs the demo with
// its narrative on stdout, and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return demos.Main(ctx, Demo(), args, stdout, stderr)
}
