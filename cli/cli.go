package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/term"

	"github.com/ocapgo/kernel-actors/control"
	"github.com/ocapgo/kernel-actors/demos"
)

// DefaultAddr is where serve listens and clients call, unless told.
//
// A fixed loopback port (not 0) so that a client with no flags finds a
// daemon started with none; loopback so that the default never exposes
// the API beyond this machine.
const DefaultAddr = "127.0.0.1:7411"

// newFlags makes a command's flag set, whose --help prints synopsis,
// description and flags to stderr.
func newFlags(e *env, name, synopsis, description string) *flag.FlagSet {
	// ContinueOnError: the flag package must not call os.Exit, so that Run
	// returns an exit code and can be tested and embedded.
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	// Help and flag errors go to stderr so stdout carries only a command's
	// result, which scripts read.
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: %s %s %s\n\n%s\n", e.name, name, synopsis, e.named(strings.TrimSpace(description)))
		hasFlags := false
		// A command with no flags gets no empty "Flags:" heading.
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintln(e.stderr, "\nFlags:")
			printDefaults(fs, e.stderr)
		}
	}
	return fs
}

// printDefaults is the flag package's PrintDefaults with each flag spelled
// as the synopses and descriptions spell it: --name, and -v for a
// one-letter one (the flag package reads -name and --name alike, but
// prints -name).
func printDefaults(fs *flag.FlagSet, w io.Writer) {
	var b strings.Builder
	out := fs.Output()
	// Captured and rewritten, not reimplemented: the flag package still
	// decides how defaults and types are shown.
	fs.SetOutput(&b)
	fs.PrintDefaults()
	fs.SetOutput(out)
	for _, line := range strings.SplitAfter(b.String(), "\n") {
		if rest, ok := strings.CutPrefix(line, "  -"); ok {
			// One-letter flags stay -v, as the synopses write them.
			if f := strings.Fields(rest); len(f) > 0 && len(f[0]) > 1 {
				line = "  --" + rest
			}
		}
		io.WriteString(w, line)
	}
}

// parse parses args, allowing flags after positional arguments too
// ("send ko4 incr --db k.db"), and checks the positional count.
func parse(fs *flag.FlagSet, args []string, minArgs, maxArgs int) ([]string, error) {
	var pos []string
	// The flag package stops at the first positional argument; parsing
	// again from there lets flags follow arguments as users type them.
	for {
		if err := fs.Parse(args); err != nil {
			// --help is not a failure: the caller turns it into exit 0.
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, errUsage // the flag package printed the problem
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		// "--" ends flags, so an argument that starts with "-" (a negative
		// number sent to a vat) can still be passed.
		if args[0] == "--" {
			pos = append(pos, args[1:]...)
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	switch {
	// Counts are checked here so that every command reports a wrong
	// number of arguments the same way, as a usage error (exit 2).
	case len(pos) < minArgs:
		return nil, usageErr("missing arguments (want %d, got %d)", minArgs, len(pos))
	case maxArgs >= 0 && len(pos) > maxArgs:
		return nil, usageErr("unexpected argument %q", pos[maxArgs])
	}
	return pos, nil
}

// logger returns the zerolog logger for -v: debug lines on stderr, human
// readable on a terminal; the zero logger (silent) otherwise.
func logger(e *env, verbose bool) zerolog.Logger {
	if !verbose {
		// The zero logger drops everything at no cost, so the kernel's many
		// debug calls are free when -v is off.
		return zerolog.Logger{}
	}
	return demos.Logger(e.stderr, e.isTerminal)
}

// named returns a help text written for the kernel-actors binary as this
// program says it: "kernel-actors serve" becomes "NAME serve".
func (e *env) named(text string) string {
	// A program built on this package under its own name shows its name
	// in help, so users copy commands that work.
	if e.name == DefaultName {
		return text
	}
	return strings.ReplaceAll(text, DefaultName+" ", e.name+" ")
}

// stderrIsTerminal reports whether w is a terminal.
func stderrIsTerminal(w any) bool {
	f, ok := w.(*os.File)
	// Only an *os.File can be a terminal; a buffer (a test) or a pipe gets
	// no progress lines, which would be noise in a log.
	return ok && term.IsTerminal(int(f.Fd()))
}

// clientFlags are the flags every client command takes.
type clientFlags struct {
	addr, db, tokenFile string
	timeout             time.Duration
}

func (c *clientFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.addr, "addr", "", "the daemon's address (default: from PATH.addr with --db, else $KERNEL_ACTORS_ADDR, else "+DefaultAddr+")")
	fs.StringVar(&c.db, "db", "", "the daemon's database PATH: its token is read from PATH.token and its address from PATH.addr")
	fs.StringVar(&c.tokenFile, "token-file", "", "read the bearer token from this file (default: PATH.token with --db, else $KERNEL_ACTORS_TOKEN)")
	// A minute by default: long enough for a daemon to audit and resume a
	// large file, short enough that a script with no daemon does not hang.
	fs.DurationVar(&c.timeout, "timeout", time.Minute, "give up after this long, the wait for a daemon that is starting included")
}

// client builds the API client, finding the address and the token. With
// --db and no --addr, it waits (until ctx ends) for a daemon that is
// starting to be ready (control.FindDaemon).
func (c *clientFlags) client(ctx context.Context, e *env) (*control.Client, error) {
	addr := c.addr
	if addr == "" && c.db != "" {
		// serve writes it once it is ready and removes it at stop: without
		// it, no daemon serves this database, so do not fall back to
		// another address.
		//
		// INVARIANT: with --db, the address comes only from PATH.addr: falling
		// back to the default could send this database's token to another
		// daemon.
		found, err := control.FindDaemon(ctx, c.db)
		if err != nil {
			return nil, fmt.Errorf("--db: %w (is `%s serve --db %s` running?)", err, e.name, c.db)
		}
		addr = found
	}
	if addr == "" {
		addr = e.getenv("KERNEL_ACTORS_ADDR")
	}
	if addr == "" {
		addr = DefaultAddr
	}
	// Checked before any request so a typo is a usage error, not a
	// connection error that looks like a missing daemon.
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, usageErr("--addr %q: want HOST:PORT (%v)", addr, err)
	}
	var token string
	// The token is looked for in order of explicitness: a file named on
	// the command line, the one beside --db, then the environment.
	switch {
	case c.tokenFile != "":
		t, err := control.ReadToken(c.tokenFile)
		if err != nil {
			return nil, fmt.Errorf("--token-file: %w", err)
		}
		token = t
	case c.db != "":
		t, err := control.ReadToken(control.TokenPath(c.db))
		if err != nil {
			return nil, fmt.Errorf("--db: %w (is `%s serve --db %s` running?)", err, e.name, c.db)
		}
		token = t
	default:
		// The environment comes last because it is easy to leave set for the
		// wrong daemon; an explicit flag always wins.
		token = e.getenv("KERNEL_ACTORS_TOKEN")
		if token == "" {
			// Refused rather than sent without a token: every request would get
			// 401, and the user would not learn why.
			return nil, usageErr("no token: give --db PATH (the daemon writes PATH.token), --token-file, or $KERNEL_ACTORS_TOKEN")
		}
	}
	return &control.Client{Base: "http://" + addr, Token: token}, nil
}

// dial builds the client and a context bounded by --timeout, which also
// bounds the wait for a daemon that is starting.
func (c *clientFlags) dial(ctx context.Context, e *env) (*control.Client, context.Context, context.CancelFunc, error) {
	// One deadline covers finding the daemon and the request, so --timeout
	// means what it says however the time is spent.
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	cl, err := c.client(ctx, e)
	if err != nil {
		cancel()
		// A no-op cancel is returned so callers can defer it unconditionally.
		return nil, ctx, func() {}, err
	}
	return cl, ctx, cancel, nil
}
