package bench

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// Result is what one repetition measured, or (Median set) the medians of
// a run's repetitions. Its JSON form is the bench command's --json line;
// docs/bench.md describes every field.
type Result struct {
	Workload string `json:"workload"`
	// Rep is the repetition, from 1; 0 on the median line.
	Rep int `json:"rep"`
	// Median marks the line of medians over Reps repetitions.
	Median bool   `json:"median,omitempty"`
	Params Params `json:"params"`

	// Messages is what the workload sent in the timed part (N), and
	// Cranks the cranks the kernel ran meanwhile.
	Messages int    `json:"messages"`
	Cranks   uint64 `json:"cranks"`
	// WallMS is the timed part's wall time.
	WallMS         float64 `json:"wall_ms"`
	MessagesPerSec float64 `json:"messages_per_s"`
	CranksPerSec   float64 `json:"cranks_per_s"`
	// Crank latency: the time of each crank from its runCrank message to
	// its outputs released (actors.Config.OnCrank), in microseconds.
	CrankP50US float64 `json:"crank_p50_us"`
	CrankP99US float64 `json:"crank_p99_us"`
	CrankMaxUS float64 `json:"crank_max_us"`
	// Allocations and bytes allocated in the whole process during the
	// timed part, per crank.
	AllocsPerCrank float64 `json:"allocs_per_crank"`
	BytesPerCrank  float64 `json:"bytes_per_crank"`
	// Live heap after a collection, before and after the timed part.
	HeapBeforeBytes uint64 `json:"live_heap_before_bytes"`
	HeapAfterBytes  uint64 `json:"live_heap_after_bytes"`
	// PeakRSSBytes is the process's peak resident set from the start of
	// the repetition's kernel to the end of its timed part (Linux's
	// VmHWM, reset at each repetition; 0 where /proc is missing).
	PeakRSSBytes uint64 `json:"peak_rss_bytes"`
	// StartupMS is actors.Start plus the launch of the workload's
	// subcluster, up to its bootstrap's answer.
	StartupMS float64 `json:"startup_ms"`
	// Extra holds a workload's own figures (bigstore's fill_ms,
	// bigcrank's big_crank_ms and setup_ms).
	Extra map[string]float64 `json:"extra,omitempty"`

	Floors Floors `json:"floors"`
	Ratios Ratios `json:"ratios"`
}

// Params are the options a result was measured with: those that apply to
// its workload.
type Params struct {
	N       int    `json:"n"`
	Store   string `json:"store"`
	Commit  string `json:"commit"`
	Warmup  int    `json:"warmup"`
	Reps    int    `json:"reps"`
	K       int    `json:"k,omitempty"`
	Vats    int    `json:"vats,omitempty"`
	Objects int    `json:"objects,omitempty"`
	// Telemetry is the repetition's telemetry configuration (Telemetries),
	// and TraceSample the fraction of host requests its traces sample.
	Telemetry   string  `json:"telemetry"`
	TraceSample float64 `json:"trace_sample,omitempty"`
}

// paramsOf keeps the workload-specific options only where they apply;
// tel is the repetition's telemetry configuration.
func paramsOf(o Options, tel string) Params {
	p := Params{N: o.N, Store: o.Store, Commit: o.Commit, Warmup: o.Warmup, Reps: o.Reps, Telemetry: tel}
	if tel == TelemetryTraces || tel == TelemetryBoth {
		p.TraceSample = o.TraceSample
	}
	switch o.Workload {
	case "pipeline":
		p.K = o.K
	case "manyvats":
		p.Vats = o.Vats
	case "bigstore", "bigcrank":
		p.Objects = o.Objects
	}
	return p
}

// Ratios set a result against the floors of the same process.
type Ratios struct {
	// MessageVsActorRR is the time a message took (wall / messages) over
	// a bare protoactor request/response: for pingpong, a vat-to-vat
	// round trip against an actor-to-actor one.
	MessageVsActorRR float64 `json:"message_vs_actor_rr"`
	// CrankVsActorRR is the mean crank (wall / cranks) over the same.
	CrankVsActorRR float64 `json:"crank_vs_actor_rr"`
	// CranksVsSQLiteTx is cranks/s over bare SQLite transactions/s of a
	// crank's rows (1 means a crank costs what its writes cost alone).
	CranksVsSQLiteTx float64 `json:"cranks_vs_sqlite_tx"`
}

func ratiosOf(r Result, f Floors) Ratios {
	var out Ratios
	if r.Messages > 0 && f.ActorRRUS > 0 {
		out.MessageVsActorRR = r.WallMS * 1000 / float64(r.Messages) / f.ActorRRUS
	}
	if r.Cranks > 0 && f.ActorRRUS > 0 {
		out.CrankVsActorRR = r.WallMS * 1000 / float64(r.Cranks) / f.ActorRRUS
	}
	if f.SQLiteTxUS > 0 {
		out.CranksVsSQLiteTx = r.CranksPerSec * f.SQLiteTxUS / 1e6
	}
	return out
}

// Median returns the medians of rs's figures, field by field, as the
// line that sums a run up. rs must be non-empty and of one run.
func Median(rs []Result) Result {
	// The first result gives what all share (workload, params, floors);
	// every figure is then replaced by its median.
	m := rs[0]
	m.Rep, m.Median = 0, true
	f := func(get func(Result) float64) float64 {
		xs := make([]float64, len(rs))
		for i, r := range rs {
			xs[i] = get(r)
		}
		return median(xs)
	}
	u := func(get func(Result) uint64) uint64 {
		return uint64(f(func(r Result) float64 { return float64(get(r)) }))
	}
	m.Cranks = u(func(r Result) uint64 { return r.Cranks })
	m.WallMS = f(func(r Result) float64 { return r.WallMS })
	m.MessagesPerSec = f(func(r Result) float64 { return r.MessagesPerSec })
	m.CranksPerSec = f(func(r Result) float64 { return r.CranksPerSec })
	m.CrankP50US = f(func(r Result) float64 { return r.CrankP50US })
	m.CrankP99US = f(func(r Result) float64 { return r.CrankP99US })
	m.CrankMaxUS = f(func(r Result) float64 { return r.CrankMaxUS })
	m.AllocsPerCrank = f(func(r Result) float64 { return r.AllocsPerCrank })
	m.BytesPerCrank = f(func(r Result) float64 { return r.BytesPerCrank })
	m.HeapBeforeBytes = u(func(r Result) uint64 { return r.HeapBeforeBytes })
	m.HeapAfterBytes = u(func(r Result) uint64 { return r.HeapAfterBytes })
	m.PeakRSSBytes = u(func(r Result) uint64 { return r.PeakRSSBytes })
	m.StartupMS = f(func(r Result) float64 { return r.StartupMS })
	if m.Extra != nil {
		m.Extra = map[string]float64{}
		for k := range rs[0].Extra {
			m.Extra[k] = f(func(r Result) float64 { return r.Extra[k] })
		}
	}
	m.Ratios = Ratios{
		MessageVsActorRR: f(func(r Result) float64 { return r.Ratios.MessageVsActorRR }),
		CrankVsActorRR:   f(func(r Result) float64 { return r.Ratios.CrankVsActorRR }),
		CranksVsSQLiteTx: f(func(r Result) float64 { return r.Ratios.CranksVsSQLiteTx }),
	}
	return m
}

// median is the middle of xs (the mean of the two middle ones for an
// even count); xs is sorted in place.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	mid := len(xs) / 2
	if len(xs)%2 == 1 {
		return xs[mid]
	}
	return (xs[mid-1] + xs[mid]) / 2
}

// WriteTable writes rs as a table a person reads: one row a result, then
// the floors they were measured against. Figures are rounded for
// reading; --json gives them whole.
func WriteTable(w io.Writer, rs []Result, f Floors) error {
	// Right-aligned, so that the digits of a column line up for reading
	// down it.
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "workload\trep\tparams\twall ms\tmsgs/s\tcranks/s\tp50 µs\tp99 µs\tmax µs\tallocs/crank\tB/crank\theap MiB\tRSS MiB\tstart ms\t×actor\t×sqlite\t")
	for _, r := range rs {
		rep := fmt.Sprint(r.Rep)
		if r.Median {
			rep = "median"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.1f\t%.0f\t%.0f\t%.1f\t%.1f\t%.1f\t%.0f\t%.0f\t%s\t%.1f\t%.1f\t%.2f\t%.2f\t\n",
			r.Workload, rep, describeParams(r.Params), r.WallMS, r.MessagesPerSec, r.CranksPerSec,
			r.CrankP50US, r.CrankP99US, r.CrankMaxUS, r.AllocsPerCrank, r.BytesPerCrank,
			fmt.Sprintf("%.1f→%.1f", mib(r.HeapBeforeBytes), mib(r.HeapAfterBytes)), mib(r.PeakRSSBytes), r.StartupMS,
			r.Ratios.MessageVsActorRR, r.Ratios.CranksVsSQLiteTx)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\nfloors (this process): protoactor request/response %.2f µs; bare SQLite transaction of a ping-pong crank's %.1f rows %.1f µs (batched statements %.1f µs)\n"+
		"×actor: wall per message over a request/response; ×sqlite: cranks/s over bare transactions/s\n",
		f.ActorRRUS, f.SQLiteRowsPerTx, f.SQLiteTxUS, f.SQLiteBatchedTxUS)
	return err
}

// describeParams is a result's parameters in a column: n, store, commit
// and the workload's own.
func describeParams(p Params) string {
	s := []string{fmt.Sprintf("n=%d", p.N), p.Store, p.Commit}
	if p.Telemetry != "" && p.Telemetry != TelemetryOff {
		t := p.Telemetry
		if p.TraceSample > 0 && p.TraceSample < 1 {
			t += fmt.Sprintf("(%g)", p.TraceSample)
		}
		s = append(s, t)
	}
	if p.K > 0 {
		s = append(s, fmt.Sprintf("k=%d", p.K))
	}
	if p.Vats > 0 {
		s = append(s, fmt.Sprintf("vats=%d", p.Vats))
	}
	if p.Objects > 0 {
		s = append(s, fmt.Sprintf("objects=%d", p.Objects))
	}
	return strings.Join(s, " ")
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }
