package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/ocapgo/kernel-actors/bench"
)

// benchFlags are the bench command's flags, as parsed.
type benchFlags struct {
	n, warmup, reps, k, vats, objects int
	store, commit                     string
	telemetry                         string
	traceSample                       float64
	asJSON                            bool
	floorTime                         time.Duration
	js                                jsFlags
}

// runBench is the bench command: each workload named, --reps times on a
// fresh kernel, against floors measured first in the same process.
func runBench(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 && args[0] == "remote" {
		// Two kernel processes and a floor of their own: a command apart
		// (bench_remote.go).
		return runBenchRemote(ctx, e, args[1:])
	}
	fs := newFlags(e, "bench", "WORKLOAD... [--n N] [--store memory|file] [--commit durable|group] [--json]", `
Measures the kernel on a workload, in this process: each repetition
starts a fresh kernel (the start-up is timed), launches the workload's
vats, runs --warmup messages, then times --n messages. Before the
workloads it measures the floors: a bare protoactor-go request/response
between two actors, and a bare SQLite transaction of the rows a
ping-pong crank writes. Each result is set against them: only ratios
measured in one run compare across machines and days.

Workloads:
`+workloadList()+`
Cross-kernel round trips between two kernel processes: see
"kernel-actors bench remote --help".

Output: a table (the repetitions and their median), or with --json one
JSON line a repetition and one of medians ("median": true), on stdout.
docs/bench.md describes every field. A progress line shows on a
terminal. For a profile of a workload, see "go test ./bench -bench".`)
	var f benchFlags
	fs.IntVar(&f.n, "n", bench.DefaultN, "messages timed in each repetition")
	fs.StringVar(&f.store, "store", bench.StoreMemory, "the kernel's store: memory, or file (SQLite in a temporary directory, removed after)")
	fs.StringVar(&f.commit, "commit", bench.CommitDurable, "the commit policy: durable (a SQLite transaction a crank) or group")
	fs.IntVar(&f.warmup, "warmup", 100, "messages run before the timed ones, on the same kernel (0 for none)")
	fs.IntVar(&f.reps, "reps", 5, "repetitions, each on a fresh kernel")
	fs.IntVar(&f.k, "k", bench.DefaultK, "pipeline: sends in a chain")
	fs.IntVar(&f.vats, "vats", bench.DefaultVats, "manyvats: vats in the ring")
	fs.IntVar(&f.objects, "objects", 0, fmt.Sprintf("bigstore: live objects the kernel holds (default %d); bigcrank: objects the big crank makes (default %d)", bench.DefaultObjects, bench.DefaultBigCrankObjects))
	fs.DurationVar(&f.floorTime, "floor-time", bench.DefaultFloorTime, "how long each floor is measured")
	fs.StringVar(&f.telemetry, "telemetry", bench.TelemetryOff, "telemetry configurations, comma-separated: "+strings.Join(bench.Telemetries(), ", ")+
		"; with more than one, each repetition runs every one in turn, and the cost of each against the first is printed")
	fs.Float64Var(&f.traceSample, "trace-sample", 1, "the fraction of host requests the traces and both configurations sample (parent-based), in (0, 1]")
	fs.BoolVar(&f.asJSON, "json", false, "print one JSON line a repetition, and one of medians")
	f.js.register(fs)
	names, err := parse(fs, args, 1, -1)
	if err != nil {
		return err
	}
	if err := f.check(fs, names); err != nil {
		return err
	}

	// One counter for every repetition of every workload: the progress
	// line shows the run as a whole, as run's does for its cranks.
	opts := bench.Options{N: f.n, Store: f.store, Commit: f.commit, Warmup: f.warmup, Reps: f.reps,
		K: f.k, Vats: f.vats, Objects: f.objects, Cranks: new(atomic.Uint64),
		Telemetry: strings.Split(f.telemetry, ","), TraceSample: f.traceSample}
	if slices.Contains(names, "js") {
		// A runtime only when asked for: the Go workloads need no Node, and
		// no worker process should start for them.
		rt, err := f.js.runtime(e, 0, 0)
		if err != nil {
			return err
		}
		defer rt.Close()
		// Checked before anything is measured, so that a machine without
		// Node learns it at once, in jsvat's words, with the flag to set.
		if err := rt.Check(ctx); err != nil {
			return fmt.Errorf("the js workload: %w", jsHint(err))
		}
		opts.JS = rt
	}

	prog := startProgress(ctx, e.stderr, e.isTerminal, func(context.Context) (uint64, error) { return opts.Cranks.Load(), nil })
	// Stopped once, before the table or at an error, so the line is
	// cleared before what follows it.
	stopProgress := sync.OnceFunc(prog.Stop)
	defer stopProgress()
	// The floors come first and once: every workload of the run is set
	// against the same ones, so their ratios compare with each other too.
	floors, err := bench.MeasureFloors(ctx, f.floorTime, "")
	if err != nil {
		return err
	}
	enc := json.NewEncoder(e.stdout)
	var all []bench.Result
	var writeErr error
	for _, name := range names {
		o := opts
		o.Workload = name
		// Each JSON line is written as soon as its repetition is done, so a
		// long run can be followed (or cut short) and keep what it measured.
		each := func(r bench.Result) {
			if f.asJSON && writeErr == nil {
				writeErr = enc.Encode(r) // one line: the encoder adds the newline
			}
		}
		rs, err := bench.Run(ctx, o, floors, each)
		if err != nil {
			// jsvat's errors get the flag that fixes them, as for run.
			return jsHint(err)
		}
		// One median a telemetry configuration: the repetitions of each,
		// which Run interleaves, in the order given.
		for _, tel := range opts.Telemetry {
			var of []bench.Result
			for _, r := range rs {
				if r.Params.Telemetry == tel {
					of = append(of, r)
				}
			}
			m := bench.Median(of)
			each(m)
			all = append(all, of...)
			all = append(all, m)
		}
	}
	costs := bench.Costs(all)
	if f.asJSON {
		for _, c := range costs {
			if writeErr == nil {
				writeErr = enc.Encode(costLine{Cost: true, Workload: c.Workload, Telemetry: c.Telemetry, Against: opts.Telemetry[0],
					CrankTime: c.CrankTime, CranksPerSec: c.CranksPerSec})
			}
		}
		return writeErr
	}
	// The table is written once, at the end, so its columns line up
	// over every workload.
	stopProgress()
	if err := bench.WriteTable(e.stdout, all, floors); err != nil {
		return err
	}
	return writeCosts(e, costs, opts.Telemetry[0], f.reps)
}

// costLine is the --json line of one telemetry configuration's cost.
type costLine struct {
	Cost         bool    `json:"cost"`
	Workload     string  `json:"workload"`
	Telemetry    string  `json:"telemetry"`
	Against      string  `json:"against"`
	CrankTime    float64 `json:"crank_time_vs_against"`
	CranksPerSec float64 `json:"cranks_per_s"`
}

// writeCosts prints, after the table, what each telemetry configuration
// cost against the first (nothing when only one was measured).
func writeCosts(e *env, costs []bench.Cost, against string, reps int) error {
	if len(costs) == 0 {
		return nil
	}
	fmt.Fprintf(e.stdout, "\ntelemetry against %s: the median over %d repetitions of a crank's wall time over %s's in the same repetition\n", against, reps, against)
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "workload\ttelemetry\tcranks/s\tcrank time x "+against+"\t")
	for _, c := range costs {
		fmt.Fprintf(tw, "%s\t%s\t%.0f\t%.3f\t\n", c.Workload, c.Telemetry, c.CranksPerSec, c.CrankTime)
	}
	return tw.Flush()
}

// check refuses bad values, naming the flag, before anything runs.
func (f *benchFlags) check(fs *flag.FlagSet, names []string) error {
	for _, name := range names {
		if !slices.Contains(bench.Workloads(), name) {
			return usageErr("unknown workload %q (want one of %s)", name, strings.Join(bench.Workloads(), ", "))
		}
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	for _, c := range []struct {
		name string
		v    int
		min  int
	}{{"n", f.n, 1}, {"reps", f.reps, 1}, {"warmup", f.warmup, 0}, {"k", f.k, 1}, {"vats", f.vats, 1}, {"objects", f.objects, 1}} {
		// --objects' zero is its default, the workload's own; given
		// explicitly, it must be a count like the others.
		if c.v < c.min && (c.name != "objects" || set["objects"]) {
			want := "a positive number"
			if c.min == 0 {
				want = "0 or more"
			}
			return usageErr("--%s %d: want %s", c.name, c.v, want)
		}
	}
	if f.store != bench.StoreMemory && f.store != bench.StoreFile {
		return usageErr("--store %q: want memory or file", f.store)
	}
	if f.commit != bench.CommitDurable && f.commit != bench.CommitGroup {
		return usageErr("--commit %q: want durable or group", f.commit)
	}
	if f.floorTime <= 0 {
		return usageErr("--floor-time %v: want a positive duration", f.floorTime)
	}
	tels := strings.Split(f.telemetry, ",")
	for i, t := range tels {
		if !slices.Contains(bench.Telemetries(), t) {
			return usageErr("--telemetry %q: %q is not one of %s", f.telemetry, t, strings.Join(bench.Telemetries(), ", "))
		}
		if slices.Index(tels, t) != i {
			return usageErr("--telemetry %q: %s is named twice", f.telemetry, t)
		}
	}
	if !(f.traceSample > 0 && f.traceSample <= 1) {
		return usageErr("--trace-sample %v: want a fraction in (0, 1]", f.traceSample)
	}
	return nil
}

// workloadList is the help's list of workloads, one a line.
func workloadList() string {
	var b strings.Builder
	for _, w := range bench.Workloads() {
		fmt.Fprintf(&b, "  %-9s %s\n", w, bench.Summary(w))
	}
	return b.String()
}
