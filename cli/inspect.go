package cli

import (
	"context"
	"fmt"

	"github.com/ocapgo/kernel-actors/inspect"
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/persistence/sqlitestore"
)

// runInspect is the inspect command: a database read-only (no lock, so
// beside a running kernel), or a running daemon's view with --live. It
// exits 1 when the report finds problems, so a script can test a file.
func runInspect(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "inspect", "--db PATH [--json] | --live [--json] [client flags]", `
Shows what a kernel's database holds, as a person wants to read it: the
subclusters, the vats and their c-lists, the objects with their owners and
reference counts, the promises with their state and decider, the run queue
and pending GC work, then the auditor's verdict (every count recomputed
from scratch). It opens the file read-only and takes no lock, so it works
beside a running kernel (showing the last committed state).

Exits 1 if the auditor finds a problem, or a row does not read as what
it should hold (the report shows the rest, and lists it); a file that
cannot be opened at all is named with the reason.

With --live, it asks a running "kernel-actors serve" instead: give --db
PATH (the daemon's database: the token and address are read beside it),
or --addr with --token-file or $KERNEL_ACTORS_TOKEN.`)
	var cf clientFlags
	cf.register(fs)
	// Here --db names the file to read, and only with --live the daemon's.
	//
	// The shared client flags are reused so --live takes the same flags as
	// every other client; only the help for --db changes meaning.
	fs.Lookup("db").Usage = "the database to read (read-only); with --live, the daemon's database PATH, whose PATH.token and PATH.addr are read"
	// Text by default, since a person runs inspect; --json is for scripts,
	// and carries the same report.
	asJSON := fs.Bool("json", false, "print JSON")
	// Off by default: reading the file needs no daemon and no token, and
	// works on the file of a kernel that crashed.
	live := fs.Bool("live", false, "ask the running daemon (client flags) instead of reading the file")
	if _, err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	var rep inspect.Report
	if *live {
		c, cctx, cancel, err := cf.dial(ctx, e)
		if err != nil {
			return err
		}
		defer cancel()
		if rep, err = c.Inspect(cctx); err != nil {
			return err
		}
	} else {
		// No default file: inspecting the wrong database would report on it
		// with confidence.
		if cf.db == "" {
			return usageErr("--db is required (or --live to ask a running daemon)")
		}
		// INVARIANT: the file is opened read-only and without a lock, so
		// inspect never changes the file it reports on and never blocks (or
		// is blocked by) a running kernel.
		st, err := sqlitestore.Open(ctx, cf.db, persistence.Options{ReadOnly: true})
		if err != nil {
			return err
		}
		defer st.Close(ctx)
		// Always audited: a person inspecting a file wants to know whether
		// its counts can be trusted, and a read-only store is quiet enough.
		if rep, err = inspect.Read(ctx, st, true); err != nil {
			return err
		}
	}
	// The report is printed whole before the exit code is decided, so a
	// failing store still shows what was found.
	if *asJSON {
		if err := printJSON(e, rep); err != nil {
			return err
		}
	} else if err := rep.WriteText(e.stdout); err != nil {
		return err
	}
	// INVARIANT: a store with unreadable rows or audit problems exits 1, so
	// a script can test a file without parsing the report.
	switch {
	case len(rep.Problems) > 0 && !rep.Audit.OK:
		return fmt.Errorf("%d row(s) unreadable, and the auditor found %d problem(s)", len(rep.Problems), len(rep.Audit.Problems))
	case len(rep.Problems) > 0:
		return fmt.Errorf("%d row(s) unreadable", len(rep.Problems))
	case !rep.Audit.OK:
		return fmt.Errorf("the auditor found %d problem(s)", len(rep.Audit.Problems))
	}
	return nil
}
