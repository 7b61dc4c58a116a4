// Command supervised runs the "supervised" demo: a vat that panics is
// rolled back and restarted, a vat that keeps failing is terminated, and a
// durable counter outlives the process.
//
//	go run ./examples/supervised [--db PATH] [-v | --log]
//	go run ./examples/supervised --db PATH --count-forever
//
// With --count-forever it only increments the counter in PATH, printing
// each value once the kernel has acknowledged it, until interrupted (or
// killed: the next run finds every acknowledged value). The rest of the
// command line is every demo's (demos.Main).
//
// Exit codes: 0 success, 1 failure, 2 bad usage.
package main

import (
	"context"
	"flag"
	"io"
	"os"

	"github.com/ocapgo/kernel-actors/internal/demos"
	"github.com/ocapgo/kernel-actors/internal/demos/supervised"
)

func main() { os.Exit(demos.Exec(run)) }

// run is the command, testable: it parses args, narrates to stdout, and
// returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return demos.Main(ctx, supervised.Demo(), args, stdout, stderr,
		demos.Flags{Usage: "--db PATH --count-forever", Define: countForever})
}

// countForever defines --count-forever, which runs supervised.Count on
// --db instead of the demo.
func countForever(fs *flag.FlagSet) func(ctx context.Context, opts demos.Options) (bool, error) {
	forever := fs.Bool("count-forever", false, "only increment the durable counter in --db, printing each acknowledged value, until interrupted")
	return func(ctx context.Context, opts demos.Options) (bool, error) {
		switch {
		case !*forever:
			return false, nil
		case opts.DBPath == "":
			// In memory the count would die with the process: nothing to show.
			return true, demos.UsageError("--count-forever needs --db")
		}
		return true, supervised.Count(ctx, opts, 0)
	}
}
