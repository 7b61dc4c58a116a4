// Command bank runs the bank demo: the object-capability mint and purses of
// the E language and ERTP, as Go vats on the actor runtime.
//
// A mint (vat "bank/mint") makes purses. purse.deposit(amount, src) moves
// amount from src into the purse only if src is a genuine purse of the same
// mint holding at least amount. The mint decides that by looking src up in
// a private table from the purse objects it made to their balances (in E a
// WeakMap; here a Go map keyed by *vat.Object): an object made by any other
// vat arrives as a *vat.Presence and is never in the table, whatever it
// claims about itself. Alice and Bob (one honest owner's code, two vats)
// pay each other through payment purses; Mallory (vat "bank/mallory")
// tries to forge a purse, to overdraw hers, and to mint, and each attempt
// is rejected while the total supply stays the same.
//
// Vats never narrate: they run inside the kernel, and what they did comes
// back to the host in their results (a "story" of lines) or as rejections,
// which the host tells (run.go). The vats are in vats.go.
//
// The program reaches the kernel through the embedding API (package
// actors) and Go vats (package vat) alone, and imports nothing internal,
// so the folder runs as well copied into a module of its own. A database
// that already holds vats is refused before the kernel starts
// (demos.StartKernel, as a Fresh demo). `kernel-actors demo bank` runs the
// same code.
//
//	go run ./examples/bank [--db PATH] [-v | --log]
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
