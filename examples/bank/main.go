// Command bank runs the bank demo: a mint and its purses as Go vats on the
// kernel, with a cheater whose every attempt is rejected. The story and
// the vats live in internal/demos/bank; this is only its command line,
// every demo's (demos.Main).
//
//	go run ./examples/bank [--db PATH] [-v | --log]
//
// Exit codes: 0 success, 1 failure, 2 bad usage.
package main

import (
	"context"
	"io"
	"os"

	"github.com/ocapgo/kernel-actors/internal/demos"
	"github.com/ocapgo/kernel-actors/internal/demos/bank"
)

func main() { os.Exit(demos.Exec(run)) }

// run is main without the process: it parses args, runs the demo with
// its narrative on stdout, and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return demos.Main(ctx, bank.Demo(), args, stdout, stderr)
}
