// Command embed runs the "embed" demo: the kernel inside an existing
// protoactor-go application, whose own actors call it.
//
//	go run ./examples/embed [--db PATH] [--log]
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
	"github.com/ocapgo/kernel-actors/internal/demos/embed"
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
	fs := flag.NewFlagSet("embed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", "", "keep the kernel's state in this SQLite file (default: in memory)")
	logs := fs.Bool("log", false, "write the kernel's and the app's protoactor logs to stderr, as JSON")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: embed [--db PATH] [--log]\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "embed: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	opts := demos.Options{Out: stdout, DBPath: *db}
	if *logs {
		opts.Logger = zerolog.New(stderr).With().Timestamp().Logger()
	}
	if err := embed.Demo().Run(ctx, opts); err != nil {
		fmt.Fprintf(stderr, "embed: %v\n", err)
		return 1
	}
	return 0
}
