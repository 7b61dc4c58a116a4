// Command embed runs the "embed" demo: the kernel inside an existing
// protoactor-go application, whose own actors call it. Its command line
// is every demo's (demos.Main); --log writes the kernel's and the app's
// protoactor logs to stderr as JSON, -v as readable lines.
//
//	go run ./examples/embed [--db PATH] [-v | --log]
//
// Exit codes: 0 success, 1 failure, 2 bad usage.
package main

import (
	"context"
	"io"
	"os"

	"github.com/ocapgo/kernel-actors/internal/demos"
	"github.com/ocapgo/kernel-actors/internal/demos/embed"
)

func main() { os.Exit(demos.Exec(run)) }

// run is the command, testable: it parses args, narrates to stdout, and
// returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return demos.Main(ctx, embed.Demo(), args, stdout, stderr)
}
