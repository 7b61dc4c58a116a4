// Command kernel-actors runs the kernel-actors object-capability kernel:
// bundled demos, a cluster from a config file, a daemon with a control API
// and its clients, and an inspector for a kernel's database.
//
// It is package cli over the binary's own vat bundles (the demos', the
// benchmark's and std/counter; "kernel-actors bundles" lists them); a
// program that registers vats of its own gets the same command line with
// cli.Main.
//
// Exit codes: 0 success, 1 failure, 2 bad usage. Errors go to stderr and
// name the bad flag, file or value.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	// Named so: this package's tests have a helper called cli.
	kacli "github.com/ocapgo/kernel-actors/cli"
	"github.com/ocapgo/kernel-actors/internal/demos/catalog"
)

// main runs the command with a ctx that SIGINT or SIGTERM cancels (serve
// then stops cleanly).
func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := kacli.Main(ctx, catalog.Registry(), os.Args[1:])
	stop() // before os.Exit, which runs no deferred calls
	os.Exit(code)
}
