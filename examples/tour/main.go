// Command tour is the kernel-actors tour, the same one `kernel-actors demo`
// runs: a newcomer's first minute with the kernel. It runs on the actor
// runtime (package actors) with vats written in Go (package vat, vats.go),
// and narrates in plain lines (tour.go): a subcluster of alice, bob, carol
// and a bank; a message round trip; promise pipelining; a vat crash whose
// crank is rolled back and which the vat's failure policy handles
// (restart for bob, terminate for carol); a revocation; and the final
// balances with the number of cranks.
//
// Everything it shows it learns through the embedding API, as any host
// would, and it imports nothing internal, so the folder runs as well
// copied into a module of its own.
//
//	go run ./examples/tour            in memory, nothing to set up
//	go run ./examples/tour --db PATH  on a new SQLite file, kept afterwards
//
// -v writes the kernel's debug logs to stderr, --log writes them as JSON;
// by default there are none: the narrative is the output, and the
// kernel's warnings about the crashes the tour stages would only repeat
// it. The command line is every demo's (demos.Main).
//
// Exit codes: 0 success, 1 failure, 2 bad usage.
package main

import (
	"context"
	"io"
	"os"

	"github.com/ocapgo/kernel-actors/demos"
)

// An interrupt cancels the tour; Run still stops the kernel, so a file is
// closed cleanly.
func main() { os.Exit(demos.Exec(run)) }

// run is the program without its process: main's arguments, streams and
// exit code, so that the test can call it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return demos.Main(ctx, Demo(), args, stdout, stderr)
}
