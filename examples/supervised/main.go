// Command supervised runs the "supervised" demo: vats that fail and come
// back. A worker vat under the restart policy panics on bad input; the
// caller of the failing message gets the error, the crank is rolled back
// (the worker's durable tally does not count the message), and the vat is
// restarted from its durable state after a backoff, as a new incarnation,
// and serves later messages. A vat that keeps failing is terminated once
// it exceeds its restart intensity, and every decision is in the vat log.
// Last, a durable counter, kept in baggage, continues across runs of the
// process on the same database, kill -9 included (main_test.go kills the
// process mid-stream to show it).
//
// Its bundles (vats.go) are "supervised/worker" and "supervised/counter";
// the story is in run.go. It talks to the kernel only through package
// actors' API and imports nothing internal, so the folder runs as well
// copied into a module of its own. `kernel-actors demo supervised` runs
// the same code.
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

	"github.com/ocapgo/kernel-actors/demos"
)

func main() { os.Exit(demos.Exec(run)) }

// run is the command, testable: it parses args, narrates to stdout, and
// returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return demos.Main(ctx, Demo(), args, stdout, stderr,
		demos.Flags{Usage: "--db PATH --count-forever", Define: countForever})
}

// countForever defines --count-forever, which runs Count on
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
		return true, Count(ctx, opts, 0)
	}
}
