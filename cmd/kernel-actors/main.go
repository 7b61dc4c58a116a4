// Command kernel-actors runs the kernel-actors object-capability kernel.
//
//	kernel-actors demo [--db PATH]   the narrated tour, in memory by default
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

	"github.com/ocapgo/kernel-actors/internal/demo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// errUsage marks a usage error (exit 2).
var errUsage = errors.New("usage")

const usage = `kernel-actors: an object-capability kernel in Go.

Usage:
  kernel-actors demo [--db PATH]   run the narrated tour (in memory unless --db)
  kernel-actors help               show this help

Run "kernel-actors COMMAND --help" for a command's flags.
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "demo":
		err = runDemo(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "kernel-actors: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	default:
		fmt.Fprintf(stderr, "kernel-actors %s: %v\n", args[0], err)
		return 1
	}
}

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", "", "keep the kernel's state in this SQLite file (default: in memory)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: kernel-actors demo [--db PATH]\n\nRuns the narrated tour: a message round trip, promise pipelining, a vat\ncrash rolled back and contained, and a revocation.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "kernel-actors demo: unexpected argument %q\n", fs.Arg(0))
		return errUsage
	}
	return demo.Run(ctx, stdout, demo.Options{DBPath: *db})
}
