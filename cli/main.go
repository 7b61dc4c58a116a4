// Command kernel-actors runs the kernel-actors object-capability kernel:
// bundled demos, a cluster from a config file, a daemon with a control API
// and its clients, and an inspector for a kernel's database.
//
// Exit codes: 0 success, 1 failure, 2 bad usage. Errors go to stderr and
// name the bad flag, file or value.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ocapgo/kernel-actors/internal/demos"
)

// main runs the command with a ctx that SIGINT or SIGTERM cancels (serve
// then stops cleanly).
func main() { os.Exit(demos.Exec(run)) }

// command is one subcommand.
type command struct {
	name, args, summary string
	run                 func(ctx context.Context, env *env, args []string) error
}

// env is what a command writes to and reads from outside its arguments.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	// isTerminal tells whether stderr is a terminal (for progress lines).
	isTerminal bool
}

func commands() []command {
	return []command{
		{"demo", "[NAME] [--db PATH] [--list]", "run a bundled demo (default: the tour), narrated", runDemo},
		{"run", "--config FILE [--db PATH]", "launch the cluster a config file describes and run it until quiescent", runRun},
		{"serve", "--db PATH [--listen ADDR]", "run a kernel as a daemon with the control API over HTTP/JSON", runServe},
		{"launch", "--config FILE", "launch a subcluster on a running kernel (client)", runLaunch},
		{"send", "TARGET METHOD [ARG...]", "send a message and print its result; --key KEY: a retry applies once (client)", runSend},
		{"status", "[--json]", "show a running kernel's status (client)", runStatus},
		{"vats", "[--json]", "list a running kernel's vats (client)", runVats},
		{"terminate", "VAT [--reason TEXT]", "terminate a vat (client)", runTerminate},
		{"restart", "VAT", "restart a vat from its durable state (client)", runRestart},
		{"upgrade", "VAT BUNDLE", "restart a vat on new code (client)", runUpgrade},
		{"revoke", "KREF", "revoke an object (client)", runRevoke},
		{"inspect", "--db PATH [--json]", "show what a kernel's database holds, and audit it", runInspect},
		{"bundles", "", "list the vat bundles this binary can launch", runBundles},
	}
}

func usage() string {
	s := "kernel-actors: an object-capability kernel in Go.\n\nUsage:\n"
	for _, c := range commands() {
		s += fmt.Sprintf("  kernel-actors %-10s %-28s %s\n", c.name, c.args, c.summary)
	}
	return s + "\nClients find the daemon with --addr (default from PATH.addr with --db, or " + DefaultAddr + ")\nand its token with --db PATH (PATH.token) or --token-file.\nRun \"kernel-actors COMMAND --help\" for a command's flags.\n"
}

// errUsage marks a usage error (exit 2); its message says what is wrong.
var errUsage = errors.New("usage")

// usageErr makes a usage error naming the problem.
func usageErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, args...))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runEnv(ctx, args, &env{stdout: stdout, stderr: stderr, getenv: os.Getenv, isTerminal: stderrIsTerminal(stderr)})
}

func runEnv(ctx context.Context, args []string, e *env) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, usage())
		return 2
	}
	name := args[0]
	switch name {
	case "help", "-h", "--help":
		fmt.Fprint(e.stdout, usage())
		return 0
	}
	for _, c := range commands() {
		if c.name != name {
			continue
		}
		err := c.run(ctx, e, args[1:])
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			if err != errUsage { // a bare errUsage: the flag package has told already
				fmt.Fprintf(e.stderr, "kernel-actors %s: %s\n", name, strings.TrimPrefix(err.Error(), "usage: "))
			}
			fmt.Fprintf(e.stderr, "Run \"kernel-actors %s --help\" for usage.\n", name)
			return 2
		default:
			fmt.Fprintf(e.stderr, "kernel-actors %s: %v\n", name, err)
			return 1
		}
	}
	fmt.Fprintf(e.stderr, "kernel-actors: unknown command %q\n\n%s", name, usage())
	return 2
}
