package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/ocapgo/kernel-actors/vat"
)

// DefaultName is the name a Program goes by when it is given none.
const DefaultName = "kernel-actors"

// Exit codes of Main and Program.Run.
//
// Usage errors get their own code, as with most Unix tools, so that a
// script can tell "I called it wrong" from "it ran and failed".
const (
	ExitOK      = 0 // done, or --help
	ExitFailure = 1 // the command failed; the error is on stderr
	ExitUsage   = 2 // bad usage; the problem is named on stderr
)

// Main runs the command line args (os.Args[1:]) over the vats of reg, on
// the process's standard streams and environment, and returns the exit
// code for os.Exit. The program goes by the name it was started under
// (os.Args[0]'s base name) in its usage and its messages. Cancelling ctx
// stops a serve cleanly, so give it one that SIGINT and SIGTERM cancel
// (signal.NotifyContext).
func Main(ctx context.Context, reg *vat.Registry, args []string) int {
	// Main is only the wiring to the real process; everything it does is
	// in Program, so tests run the same code on their own streams.
	p := Program{Registry: reg, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
	if len(os.Args) > 0 && os.Args[0] != "" {
		// The base name, not the path: "kernel-actors" reads better in help
		// than "/usr/local/bin/kernel-actors", and copies into a shell as is.
		p.Name = filepath.Base(os.Args[0])
	}
	return p.Run(ctx, args)
}

// Program is the command line with its streams and environment made
// explicit, for a test or a program that runs it on streams of its own.
// The zero value of each field but Registry has a default.
type Program struct {
	// Name is what the program calls itself in usage and messages
	// (DefaultName if empty).
	Name string
	// Registry holds the vat bundles that run, serve and bundles know.
	// nil is an empty registry: the demos, the clients and inspect
	// still work, and a config naming a bundle is refused with its name.
	Registry *vat.Registry
	// Stdin is read by --config - (nothing to read if nil).
	Stdin io.Reader
	// Stdout and Stderr receive the output and the errors (discarded if
	// nil). Progress lines are drawn only when Stderr is a terminal.
	Stdout, Stderr io.Writer
	// Getenv reads the environment ($KERNEL_ACTORS_ADDR and
	// $KERNEL_ACTORS_TOKEN); nil reads none.
	Getenv func(string) string
}

// command is one subcommand.
//
// Commands are a table rather than a switch so that the usage text
// and the dispatch cannot drift apart.
type command struct {
	name, args, summary string
	run                 func(ctx context.Context, env *env, args []string) error
}

// env is what a command writes to and reads from outside its arguments:
// the Program, with its defaults filled in.
//
// Commands receive env, not the Program, so that defaults are filled
// in once and no command has to check for a nil stream.
type env struct {
	name           string
	reg            *vat.Registry
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	// isTerminal tells whether stderr is a terminal (for progress lines).
	isTerminal bool
}

// commands lists the subcommands in the order usage shows them: the
// local ones first, then the clients, then the informational ones.
// It is a function, not a variable, so that the table can name the
// run functions without an initialization cycle.
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
		{"upgrade", "VAT BUNDLE | VAT --bundle-spec FILE", "restart a vat on new code (client)", runUpgrade},
		{"revoke", "KREF", "revoke an object (client)", runRevoke},
		{"remotes", "[VERB ARG...]", "show and change a running kernel's peer kernels (client)", runRemotes},
		{"url", "issue|revoke|redeem ARG", "issue, revoke or redeem an OCAP URL (client)", runURL},
		{"top", "[--once] [--json]", "watch a running kernel's live numbers in the terminal (client)", runTop},
		{"inspect", "--db PATH [--json] | --live", "show what a kernel's database holds, and audit it", runInspect},
		{"bench", "WORKLOAD... [--n N] [--json]", "measure the kernel on a workload, against floors of the same run", runBench},
		{"bundles", "[--json]", "list the vat bundles this binary can launch, with their methods", runBundles},
		{"version", "[--json]", "print the version this binary was built from", runVersion},
		// Hidden (not in the usage): the child processes of bench remote
		// and demo remote, which start this binary again.
		{remotePeerCommand, "ROLE", "", runRemotePeer},
	}
}

// usage is the top-level help. The client hint at its end is there
// because finding the daemon is what new users most often get wrong.
func usage(name string) string {
	s := name + ": an object-capability kernel in Go.\n\nUsage:\n"
	for _, c := range commands() {
		if c.summary == "" {
			continue // a hidden command
		}
		s += fmt.Sprintf("  %s %-10s %-28s %s\n", name, c.name, c.args, c.summary)
	}
	return s + "\nClients find the daemon with --addr (default from PATH.addr with --db, or " + DefaultAddr + ")\nand its token with --db PATH (PATH.token) or --token-file.\nRun \"" + name + " COMMAND --help\" for a command's flags.\n"
}

// errUsage marks a usage error (exit 2); its message says what is wrong.
//
// A sentinel wrapped by every usage error, so one errors.Is in runEnv
// decides the exit code however deep the error was made.
var errUsage = errors.New("usage")

// usageErr makes a usage error naming the problem.
func usageErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, args...))
}

// Run runs the command line args (without the program's name) and returns
// the exit code: ExitOK, ExitFailure with the error on Stderr, or
// ExitUsage with the problem named on Stderr.
func (p Program) Run(ctx context.Context, args []string) int {
	// Every nil field gets a harmless default, so an embedding program or
	// a test sets only what it cares about.
	e := &env{name: p.Name, reg: p.Registry, stdin: p.Stdin, stdout: p.Stdout, stderr: p.Stderr, getenv: p.Getenv}
	if e.name == "" {
		e.name = DefaultName
	}
	if e.reg == nil {
		// An empty registry rather than nil: commands look bundles up, and a
		// lookup that fails names the bundle, where nil would panic.
		e.reg = vat.NewRegistry()
	}
	if e.stdin == nil {
		// Empty, not os.Stdin: a program that did not give stdin must not
		// have the command block reading the real terminal.
		e.stdin = strings.NewReader("")
	}
	if e.stdout == nil {
		e.stdout = io.Discard
	}
	if e.stderr == nil {
		e.stderr = io.Discard
	}
	if e.getenv == nil {
		// No environment unless given, so a test is not steered by the
		// $KERNEL_ACTORS_TOKEN of whoever runs it.
		e.getenv = func(string) string { return "" }
	}
	// Decided once, here, so every command agrees whether to draw progress.
	e.isTerminal = stderrIsTerminal(e.stderr)
	return runEnv(ctx, args, e)
}

// runEnv dispatches args to their command and turns its error into the
// exit code and the message on stderr.
func runEnv(ctx context.Context, args []string, e *env) int {
	// No command is a usage error (exit 2) with the help on stderr, so a
	// script that forgot its arguments does not pass.
	if len(args) == 0 {
		fmt.Fprint(e.stderr, usage(e.name))
		return ExitUsage
	}
	name := args[0]
	switch name {
	// Asked-for help goes to stdout with exit 0, so it can be piped to a
	// pager; help given because of a mistake goes to stderr.
	case "help", "-h", "--help":
		fmt.Fprint(e.stdout, usage(e.name))
		return ExitOK
	}
	for _, c := range commands() {
		if c.name != name {
			continue
		}
		err := c.run(ctx, e, args[1:])
		switch {
		case err == nil:
			return ExitOK
		case errors.Is(err, flag.ErrHelp):
			return ExitOK
		case errors.Is(err, errUsage):
			if err != errUsage { // a bare errUsage: the flag package has told already
				fmt.Fprintf(e.stderr, "%s %s: %s\n", e.name, name, strings.TrimPrefix(err.Error(), "usage: "))
			}
			fmt.Fprintf(e.stderr, "Run \"%s %s --help\" for usage.\n", e.name, name)
			return ExitUsage
		default:
			// Every failure is one line prefixed with the program and command, so
			// it is clear which tool in a pipeline failed.
			fmt.Fprintf(e.stderr, "%s %s: %v\n", e.name, name, err)
			return ExitFailure
		}
	}
	// Unknown commands are refused, never guessed at: a typo in a command
	// that changes a kernel must not run a different one.
	fmt.Fprintf(e.stderr, "%s: unknown command %q\n\n%s", e.name, name, usage(e.name))
	return ExitUsage
}
