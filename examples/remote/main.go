// Command remote runs two kernels in two processes, joined over the
// network: a bank on one, its client alice on the other, holding a
// presence of the bank's root. Alice deposits; in the middle of a burst
// of deposits the bank's kernel is killed with SIGKILL; alice deposits
// more while it is down; the bank starts again over its database (the
// same key, a new port), alice's kernel follows it, and every deposit is
// answered exactly once. The story ends with what the bank holds beside
// what alice sent, and fails if anything was lost or doubled.
//
// Each kernel is this program started again (the environment variable
// REMOTE_EXAMPLE_ROLE says which kernel it is) and is an actors.Kernel
// with Config.Remote, as a program embeds one: protoactor-go remote
// between the processes, plaintext because both are on loopback. The
// parent only starts them and tells each what to do over its stdin, one
// JSON line a request; every message between the kernels goes over their
// link, through outboxes written in the cranks' own SQLite transactions
// (docs/remote.md).
//
// The program imports only the public packages, so the folder runs as
// well copied into a module of its own.
//
//	go run ./examples/remote [--deposits N] [--deadline D]
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
	"time"
)

// roleEnv names the kernel a child process runs; its database is dbEnv.
const (
	roleEnv = "REMOTE_EXAMPLE_ROLE"
	dbEnv   = "REMOTE_EXAMPLE_DB"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	var code int
	if role := os.Getenv(roleEnv); role != "" {
		code = child(ctx, role, os.Getenv(dbEnv), os.Stdin, os.Stdout)
	} else {
		code = run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	}
	stop()
	os.Exit(code)
}

// run is main's parent side without the process: it parses args, tells
// the story on stdout and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("remote", flag.ContinueOnError)
	fs.SetOutput(stderr)
	deposits := fs.Int("deposits", 8, "deposits alice sends (at least 3)")
	deadline := fs.Duration("deadline", time.Minute, "give up after this long, killing both kernels")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "remote: unexpected argument %q\n", fs.Arg(0))
		return 2
	case *deposits < 3:
		fmt.Fprintf(stderr, "remote: --deposits %d: want 3 or more\n", *deposits)
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, *deadline)
	defer cancel()
	if err := tell(ctx, stdout, stderr, *deposits); err != nil {
		fmt.Fprintf(stderr, "remote: %v\n", err)
		return 1
	}
	return 0
}
