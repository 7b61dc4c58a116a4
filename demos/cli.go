package demos

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/rs/zerolog"
)

// Exit codes of Main, as every examples/<demo> documents them.
const (
	ExitOK      = 0 // the demo ran, or --help
	ExitFailure = 1 // the demo failed; the error is on stderr
	ExitUsage   = 2 // bad arguments; the problem and the usage are on stderr
)

// Command is a demo's command line without its process: examples/<demo>'s
// run, which takes main's arguments and streams and returns its exit code,
// so that its test can call it.
type Command func(ctx context.Context, args []string, stdout, stderr io.Writer) int

// Exec runs cmd as the process: on os.Args[1:], os.Stdout and os.Stderr,
// with a ctx that an interrupt or SIGTERM cancels (the demo still stops
// its kernel, so a file is closed cleanly). It returns cmd's exit code,
// for os.Exit:
//
//	func main() { os.Exit(demos.Exec(run)) }
func Exec(cmd Command) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return cmd(ctx, os.Args[1:], os.Stdout, os.Stderr)
}

// Flags are a command's own flags, beside Main's --db, -v and --log.
type Flags struct {
	// Usage is one more usage line, without the command's name, such as
	// "--db PATH --count-forever".
	Usage string
	// Define defines the flags on fs and returns what Main calls once
	// they are parsed, before the demo's Run. It reports handled=true
	// when it ran instead of the demo (then its err is the run's), and
	// handled=false to let the demo run. A UsageError exits ExitUsage.
	Define func(fs *flag.FlagSet) func(ctx context.Context, opts Options) (handled bool, err error)
}

// UsageError is a command's complaint about its arguments: Main prints it
// after the command's name, then the usage, and exits ExitUsage.
type UsageError string

// Error returns the complaint.
func (e UsageError) Error() string { return string(e) }

// Main is a demo's command line, the whole of examples/<demo>:
//
//	NAME [--db PATH] [-v | --log]
//
// plus the lines of more. --db keeps the kernel's state in a SQLite file
// (which a Fresh demo wants new); -v writes the kernel's debug logs to
// stderr, one readable line each, and --log writes its logs as JSON, one
// object a line. Main runs d with its narrative on stdout and returns the
// exit code: ExitOK, ExitFailure with the error on stderr (led by d.Name,
// once), or ExitUsage with the problem named on stderr.
func Main(ctx context.Context, d Demo, args []string, stdout, stderr io.Writer, more ...Flags) int {
	fs := flag.NewFlagSet(d.Name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbHelp := "keep the kernel's state in this SQLite `file` (default: in memory)"
	if d.Fresh {
		dbHelp = "keep the kernel's state in this SQLite `file`, which must be new (default: in memory)"
	}
	db := fs.String("db", "", dbHelp)
	verbose := fs.Bool("v", false, "write the kernel's debug logs to stderr, one line each")
	jsonLogs := fs.Bool("log", false, "write the kernel's logs to stderr as JSON, one object a line")
	usage := []string{"[--db PATH] [-v | --log]"}
	runs := make([]func(context.Context, Options) (bool, error), 0, len(more))
	for _, m := range more {
		runs = append(runs, m.Define(fs))
		if m.Usage != "" {
			usage = append(usage, m.Usage)
		}
	}
	fs.Usage = func() {
		for i, u := range usage {
			lead := "Usage:"
			if i > 0 {
				lead = strings.Repeat(" ", len(lead))
			}
			fmt.Fprintf(stderr, "%s %s %s\n", lead, d.Name, u)
		}
		fmt.Fprintf(stderr, "\n%s.\n\nFlags:\n", sentence(d.Summary))
		printDefaults(fs, stderr)
	}
	badUsage := func(problem string) int {
		fmt.Fprintf(stderr, "%s: %s\n", d.Name, problem)
		fs.Usage()
		return ExitUsage
	}

	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage // the flag package has said what was wrong, and shown the usage
	}
	if fs.NArg() > 0 {
		return badUsage(fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	}
	if *verbose && *jsonLogs {
		return badUsage("give -v or --log, not both")
	}
	opts := Options{Out: stdout, DBPath: *db}
	if *verbose || *jsonLogs {
		opts.Logger = Logger(stderr, *verbose)
	}

	err := run(ctx, d, opts, runs)
	var ue UsageError
	switch {
	case errors.As(err, &ue):
		return badUsage(ue.Error())
	case err != nil:
		msg := err.Error()
		if !strings.HasPrefix(msg, d.Name+": ") {
			msg = d.Name + ": " + msg
		}
		fmt.Fprintln(stderr, msg)
		return ExitFailure
	}
	return ExitOK
}

// Logger is the debug logger of the demos' -v and --log, and of the
// binary's -v: lines for people (human) or JSON lines, on w. The kernel
// logs from its actors' goroutines: SyncWriter keeps their lines whole on
// a writer that is not safe for concurrent use.
func Logger(w io.Writer, human bool) zerolog.Logger {
	out := w
	if human {
		out = zerolog.ConsoleWriter{Out: w, NoColor: true, TimeFormat: time.TimeOnly}
	}
	return zerolog.New(zerolog.SyncWriter(out)).Level(zerolog.DebugLevel).With().Timestamp().Logger()
}

// run runs the first of runs that handles opts, or else d.
func run(ctx context.Context, d Demo, opts Options, runs []func(context.Context, Options) (bool, error)) error {
	for _, r := range runs {
		if handled, err := r(ctx, opts); handled || err != nil {
			return err
		}
	}
	return d.Run(ctx, opts)
}

// printDefaults is the flag package's PrintDefaults with each flag spelled
// as the usage lines spell it: --name, and -v for a one-letter one (the
// flag package reads -name and --name alike, but prints -name).
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

// sentence makes a demo's summary, a lower-case phrase for listings, the
// start of a sentence.
func sentence(s string) string {
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}
