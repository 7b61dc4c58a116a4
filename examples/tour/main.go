// Command tour is the kernel-actors tour, the same one `kernel-actors demo`
// runs: alice, bob, carol and a bank on the actor runtime, showing a
// message round trip, promise pipelining, a vat crash rolled back and
// handled by its failure policy, and a revocation.
//
//	go run ./examples/tour            in memory, nothing to set up
//	go run ./examples/tour --db PATH  on a new SQLite file, kept afterwards
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

	"github.com/ocapgo/kernel-actors/internal/demos"
	"github.com/ocapgo/kernel-actors/internal/demos/tour"
)

func main() {
	// An interrupt cancels the tour; Run still stops the kernel, so a
	// file is closed cleanly.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the program without its process: main's arguments, streams and
// exit code, so that the test can call it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("tour", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", "", "keep the kernel's state in this SQLite `file`, which must be new (default: in memory)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: tour [--db PATH]\n\nThe narrated kernel-actors tour.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2 // the flag package has said what was wrong
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "tour: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	// The zero Logger: the tour's narrative is the output, and the
	// kernel's warnings about the crashes it stages would only repeat it.
	if err := tour.Run(ctx, demos.Options{Out: stdout, DBPath: *db}); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}
