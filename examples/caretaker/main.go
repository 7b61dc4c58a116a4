// Command caretaker runs the caretaker demo: revocable forwarding between Go
// vats, revoked once by its owner's code and once by the kernel. The story
// and the vats live in internal/demos/caretaker; this is only its command
// line.
//
//	go run ./examples/caretaker [--db PATH] [-v]
//
// Exit codes: 0 success, 1 failure, 2 bad usage.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/rs/zerolog"

	"github.com/ocapgo/kernel-actors/internal/demos"
	"github.com/ocapgo/kernel-actors/internal/demos/caretaker"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is main without the process: it parses args, runs the demo with
// its narrative on stdout, and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("caretaker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", "", "keep the kernel's state in this new SQLite file (default: in memory)")
	verbose := fs.Bool("v", false, "write the kernel's debug logs to stderr")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "caretaker: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	opts := demos.Options{Out: stdout, DBPath: *db}
	if *verbose {
		// The kernel logs from its actors' goroutines: SyncWriter keeps
		// their lines whole on a writer that is not safe for concurrent use.
		opts.Logger = zerolog.New(zerolog.SyncWriter(zerolog.ConsoleWriter{Out: stderr, NoColor: true})).
			Level(zerolog.DebugLevel).With().Timestamp().Logger()
	}
	if err := caretaker.Demo().Run(ctx, opts); err != nil {
		fmt.Fprintln(stderr, err) // the demo's errors say "caretaker: " already
		return 1
	}
	return 0
}
