// Command supervised runs the "supervised" demo: a vat that panics is
// rolled back and restarted, a vat that keeps failing is terminated, and a
// durable counter outlives the process.
//
//	go run ./examples/supervised [--db PATH] [--log]
//	go run ./examples/supervised --db PATH --count-forever
//
// With --count-forever it only increments the counter in PATH, printing
// each value once the kernel has acknowledged it, until interrupted (or
// killed: the next run finds every acknowledged value).
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
	"syscall"

	"github.com/rs/zerolog"

	"github.com/ocapgo/kernel-actors/internal/demos"
	"github.com/ocapgo/kernel-actors/internal/demos/supervised"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the command, testable: it parses args, narrates to stdout, and
// returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("supervised", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", "", "keep the kernel's state in this SQLite file (default: in memory)")
	forever := fs.Bool("count-forever", false, "only increment the durable counter in --db, printing each acknowledged value, until interrupted")
	logs := fs.Bool("log", false, "write the kernel's logs to stderr, as JSON")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: supervised [--db PATH] [--log]\n       supervised --db PATH --count-forever\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "supervised: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *forever && *db == "" {
		// In memory the count would die with the process: nothing to show.
		fmt.Fprintln(stderr, "supervised: --count-forever needs --db")
		return 2
	}
	opts := demos.Options{Out: stdout, DBPath: *db}
	if *logs {
		opts.Logger = zerolog.New(stderr).With().Timestamp().Logger()
	}
	var err error
	if *forever {
		err = supervised.Count(ctx, opts, 0)
	} else {
		err = supervised.Demo().Run(ctx, opts)
	}
	if err != nil {
		fmt.Fprintf(stderr, "supervised: %v\n", err)
		return 1
	}
	return 0
}
