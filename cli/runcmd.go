package cli

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/clusterfile"
	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/persistence"
)

// runRun is the run command: launch a config's subcluster (or resume the
// database that holds it), run until quiescent, and say how the bootstrap
// ended (resume.go says what it found on a database that holds it).
func runRun(ctx context.Context, e *env, args []string) (err error) {
	// Wrapped once at the end so every path that fails for want of Node
	// gets the same hint on how to point run at it.
	defer func() { err = jsHint(err) }()
	fs := newFlags(e, "run", "--config FILE [--db PATH] [--commit POLICY] [--node PATH] [--js-worker DIR] [--js-bundle-cache DIR] [--max-live-vats N] [-v]", `
Launches the subcluster that FILE (JSON or YAML) describes, unless the
database already holds it, and runs the kernel until it is quiescent: the
run queue empty and everything committed. Prints the bootstrap result.

On a database that holds the subcluster already (the same config), it
says what it found: a bootstrap that ran before (with its result; it does
not run again), or one that had not finished when the last run stopped
(it runs now, and its result is printed once it settles). A launch is one
transaction, so a run cut short left the whole subcluster or nothing. If
that bootstrap is rejected now, the kernel terminates the subcluster, and
run launches it afresh.

A config names a bootstrap vat and the vats, each with its bundle (see
"kernel-actors bundles"), optional parameters and failure policy:

  bootstrap: alice
  vats:
    alice: {bundle: tour/alice}
    bob:
      bundle: tour/bob
      parameters: {name: bob}
      failurePolicy: restart        # or terminate (the default)
      restart: {maxRestarts: 3, within: 1m, backoff: 100ms, maxBackoff: 10s}
    carol:
      bundle: tour/bob              # bob's code under her own name
      parameters: {name: carol}
    bank: {bundle: tour/bank}

A vat may name JavaScript code instead of a bundle: "bundleSpec: FILE"
(an endoZipBase64 bundle or a single-file ES module; a relative path is
beside the config), with "globals: [NAME, ...]". It runs in a Node.js
worker process: --node and --js-worker say where Node and the worker
are. A config without one never needs Node.

FILE "-" reads the config from standard input. A mistake in it is
reported with its line and field; YAML aliases (*name) are refused, and
so is a config over 1 MiB.

An existing --db is audited first (every count recomputed from scratch);
one that fails is refused, naming the first problems, unless --skip-audit.`)
	config := fs.String("config", "", `the cluster config file (JSON or YAML), "-" for standard input; required`)
	// In memory by default: run is for trying a config, and a file left
	// behind by every try would surprise; --db makes the state durable.
	db := fs.String("db", "", "keep the kernel's state in this SQLite file (default: in memory)")
	// Durable by default, as serve: a run cut short must resume from
	// what it said it did, and group commits are an opt-in speed trade.
	commit := fs.String("commit", string(persistence.Durable), `commit policy: "durable" (every crank) or "group"`)
	// The audit is on by default for the same reason as serve's: resuming
	// on a damaged file would act on wrong reference counts.
	skipAudit := fs.Bool(skipAuditFlag, false, skipAuditUsage)
	// Quiet by default so stdout and stderr hold only what run reports.
	verbose := fs.Bool("v", false, "log the kernel's work to stderr")
	var jf jsFlags
	jf.register(fs)
	var pf pagingFlag
	pf.register(fs)
	if _, err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	if err := pf.check(); err != nil {
		return err
	}
	// No default config: run would otherwise launch something the user
	// did not name.
	if *config == "" {
		return usageErr("--config is required")
	}
	var policy persistence.CommitPolicy
	policy, err = commitPolicy(*commit)
	if err != nil {
		return err
	}
	reg := e.reg
	// The config is read and checked before the database is touched, so
	// a mistake in it is reported at its line and changes nothing.
	cfg, _, err := loadConfig(e, *config, clusterfile.Options{Bundle: func(name string) error {
		// Bundles are checked against this binary's registry while reading,
		// so an unknown one is named at its line instead of failing mid-launch.
		_, _, err := reg.LookupAny(name)
		return err
	}})
	if err != nil {
		return err
	}
	if !*skipAudit {
		// INVARIANT: the audit runs before the kernel opens the file, so a
		// damaged store is refused before a resume can act on it.
		if err := auditDB(ctx, e, *db); err != nil {
			return err
		}
	}
	// Before the kernel opens the file: its resume may run the bootstrap
	// before run can ask how the last run left it.
	before, err := readPrior(ctx, *db, cfg)
	if err != nil {
		return err
	}
	start := time.Now()
	// One warm worker for a config with a JavaScript vat: its launch (or
	// the resume of one) skips the process start. Go-only: none.
	//
	// Start no Node at all for a Go-only config: run must work where no
	// JavaScript runtime is installed.
	warm := 0
	if hasJSVat(cfg) {
		warm = 1
	}
	js, err := jf.runtime(e, warm, 0)
	if err != nil {
		return err
	}
	// After the kernel's Stop (deferred below, so run first): the vats'
	// processes are the kernel's to stop; Close ends the warm ones.
	defer js.Close()
	// Starting the kernel resumes the file: whatever was queued when the
	// last run stopped is delivered now, before anything new.
	k, err := actors.Start(ctx, actors.Config{DBPath: *db, Registry: reg, CommitPolicy: policy, Logger: logger(e, *verbose), JS: js, MaxLiveVats: pf.max})
	if err != nil {
		return err
	}
	// WithoutCancel: on Ctrl-C ctx is done, and the stop must still get to
	// commit the current crank.
	defer k.Stop(context.WithoutCancel(ctx))

	st, err := k.Status(ctx)
	if err != nil {
		return err
	}
	// Launch only if the file does not hold the cluster already: launching
	// it twice would make a second set of vats with the same names.
	pending, err := resumeLaunch(ctx, e, k, *db, cfg, before, st.Subclusters)
	if err != nil {
		return err
	}
	prog := startProgress(ctx, e.stderr, e.isTerminal, func(ctx context.Context) (n uint64, err error) {
		// Only the count: Status would describe every vat, twice a second.
		err = k.ReadStore(ctx, func(st *persistence.Store) error { n = kernel.CrankCount(st); return nil })
		return n, err
	})
	// Idle means the run queue is empty and all is committed: only then is
	// the bootstrap's fate final and the crank count meaningful.
	err = k.WaitIdle(ctx)
	if err == nil && pending != "" {
		var again bool
		// A relaunch after a rejected bootstrap queues new work, so run waits
		// for idle again before it says "quiescent".
		if again, err = reportBootstrap(ctx, e, k, pending, cfg); err == nil && again {
			err = k.WaitIdle(ctx)
		}
	}
	// The progress line is cleared before the summary is printed, so the
	// two never share a terminal line.
	prog.Stop()
	if err != nil {
		return err
	}
	if st, err = k.Status(ctx); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "quiescent: %s in this run (%s), %d in all; %s active\n",
		plural(st.Cranks-before.cranks, "crank"), time.Since(start).Round(time.Millisecond), st.Cranks, plural(countActive(st.Vats), "vat"))
	// Stopped explicitly so that an error committing or closing the file
	// fails run; the deferred Stop only covers early returns.
	return k.Stop(ctx)
}

// commitPolicy checks a --commit value. Unknown values are refused,
// not mapped to a default, since they decide what a crash may lose.
func commitPolicy(s string) (persistence.CommitPolicy, error) {
	switch p := persistence.CommitPolicy(s); p {
	case persistence.Durable, persistence.Group:
		return p, nil
	}
	return "", usageErr("--commit %q: want %q or %q", s, persistence.Durable, persistence.Group)
}

// vatList renders name=id pairs sorted by name, so the output is the
// same from run to run and can be compared or tested.
func vatList(ids map[string]kernel.VatID) string {
	names := make([]string, 0, len(ids))
	for n := range ids {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = n + "=" + string(ids[n])
	}
	return strings.Join(parts, " ")
}

// plural says n things: "1 vat", "2 vats", "0 vats".
func plural[N int | uint64](n N, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

// countActive counts running vats for the summary: a terminated vat
// still appears in Status, and counting it would overstate the cluster.
func countActive(vs []kernel.VatInfo) int {
	n := 0
	for _, v := range vs {
		if v.Active {
			n++
		}
	}
	return n
}
