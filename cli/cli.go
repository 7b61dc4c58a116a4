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
const DefaultAddr = "127.0.0.1:7411"

// newFlags makes a command's flag set, whose --help prints synopsis,
// description and flags to stderr.
func newFlags(e *env, name, synopsis, description string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: %s %s %s\n\n%s\n", e.name, name, synopsis, e.named(strings.TrimSpace(description)))
		hasFlags := false
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
	fs.SetOutput(&b)
	fs.PrintDefaults()
	fs.SetOutput(out)
	for _, line := range strings.SplitAfter(b.String(), "\n") {
		if rest, ok := strings.CutPrefix(line, "  -"); ok {
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
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, errUsage // the flag package printed the problem
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		if args[0] == "--" {
			pos = append(pos, args[1:]...)
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	switch {
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
		return zerolog.Logger{}
	}
	return demos.Logger(e.stderr, e.isTerminal)
}

// named returns a help text written for the kernel-actors binary as this
// program says it: "kernel-actors serve" becomes "NAME serve".
func (e *env) named(text string) string {
	if e.name == DefaultName {
		return text
	}
	return strings.ReplaceAll(text, DefaultName+" ", e.name+" ")
}

// stderrIsTerminal reports whether w is a terminal.
func stderrIsTerminal(w any) bool {
	f, ok := w.(*os.File)
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
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, usageErr("--addr %q: want HOST:PORT (%v)", addr, err)
	}
	var token string
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
		token = e.getenv("KERNEL_ACTORS_TOKEN")
		if token == "" {
			return nil, usageErr("no token: give --db PATH (the daemon writes PATH.token), --token-file, or $KERNEL_ACTORS_TOKEN")
		}
	}
	return &control.Client{Base: "http://" + addr, Token: token}, nil
}

// dial builds the client and a context bounded by --timeout, which also
// bounds the wait for a daemon that is starting.
func (c *clientFlags) dial(ctx context.Context, e *env) (*control.Client, context.Context, context.CancelFunc, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	cl, err := c.client(ctx, e)
	if err != nil {
		cancel()
		return nil, ctx, func() {}, err
	}
	return cl, ctx, cancel, nil
}
