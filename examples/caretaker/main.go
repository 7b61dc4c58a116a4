// Command caretaker runs the caretaker demo: revocable forwarding between Go
// vats, revoked once by its owner's code and once by the kernel. The story
// and the vats live in internal/demos/caretaker; this is only its command
// line, every demo's (demos.Main).
//
//	go run ./examples/caretaker [--db PATH] [-v | --log]
//
// Exit codes: 0 success, 1 failure, 2 bad usage.
package main

import (
	"context"
	"io"
	"os"

	"github.com/ocapgo/kernel-actors/internal/demos"
	"github.com/ocapgo/kernel-actors/internal/demos/caretaker"
)

func main() { os.Exit(demos.Exec(run)) }

// run is main without the process: it parses args, runs the demo with
// its narrative on stdout, and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return demos.Main(ctx, caretaker.Demo(), args, stdout, stderr)
}
