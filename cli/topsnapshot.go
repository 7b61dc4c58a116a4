package cli

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// topSnapshot is what top shows at one moment, and what top --json
// prints: the counts since serve started, and the rates and latencies
// of the last interval.
type topSnapshot struct {
	// Addr is the daemon's base URL.
	Addr string `json:"addr"`
	// Time is when the numbers were read.
	Time time.Time `json:"time"`
	// IntervalSeconds is the time between this reading and the one the
	// rates and latencies are measured against (0 for a first reading).
	IntervalSeconds float64 `json:"intervalSeconds"`
	// Cranks is the cranks run in all (the status's count, which counts
	// the cranks of earlier runs on the same database too).
	Cranks uint64 `json:"cranks"`
	// CranksPerSecond is the crank rate over the interval.
	CranksPerSecond float64 `json:"cranksPerSecond"`
	// CranksByKind and CranksByOutcome are kernel_cranks_total since this
	// serve started, by kind and by outcome.
	CranksByKind    map[string]int64 `json:"cranksByKind"`
	CranksByOutcome map[string]int64 `json:"cranksByOutcome"`
	// RunQueue is the run queue's length (the status's, read live).
	RunQueue int `json:"runQueue"`
	// Promises is kernel_promises: the promise records the kernel holds.
	Promises int64 `json:"promises"`
	// VatsByState is kernel_vats by state (running, paged_out,
	// restarting), and the terminated vats of the status.
	VatsByState map[string]int64 `json:"vatsByState"`
	// CrankLatency and FlushLatency are the quantiles of
	// kernel_crank_duration_seconds and kernel_flush_duration_seconds.
	CrankLatency topLatency `json:"crankLatency"`
	FlushLatency topLatency `json:"flushLatency"`
	// Restarts and Terminations are by reason; Syscalls by kind;
	// HostRequests by outcome. All since this serve started.
	Restarts     map[string]int64 `json:"restarts"`
	Terminations map[string]int64 `json:"terminations"`
	Syscalls     map[string]int64 `json:"syscalls"`
	HostRequests map[string]int64 `json:"hostRequests"`
	// CommitPolicy and Subclusters are the status's.
	CommitPolicy string `json:"commitPolicy"`
	Subclusters  int    `json:"subclusters"`
	// Vats is the table of the vats.
	Vats []topVat `json:"vats"`
}

// topLatency is a duration histogram's p50 and p99, in seconds.
type topLatency struct {
	// P50 and P99 are null when there is no measurement at all.
	P50 *float64 `json:"p50Seconds"`
	P99 *float64 `json:"p99Seconds"`
	// Count is how many measurements they are of.
	Count int64 `json:"count"`
	// Window is "interval" when they are of the last interval, or "all"
	// (since serve started) when the interval had no measurement: an idle
	// kernel still shows what its cranks took.
	Window string `json:"window"`
}

// topVat is one row of the vats table.
type topVat struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Subcluster  string `json:"subcluster"`
	Code        string `json:"code"`
	State       string `json:"state"` // active, paged-out or terminated, as the vats command says
	Incarnation int64  `json:"incarnation"`
}

// makeSnapshot makes the snapshot of cur, with rates and latencies over
// the time since prev (nil for a first reading: no rate, latencies of
// everything).
func makeSnapshot(base string, cur, prev *topSample) topSnapshot {
	m := cur.metrics
	// The counts come from /metrics, except those the status has exactly
	// and live (cranks, the run queue, the vats); see the field comments.
	snap := topSnapshot{
		Addr: base, Time: cur.at, Cranks: cur.status.Cranks, RunQueue: cur.status.QueueLength,
		CranksByKind: m.by(famCranks, "kind"), CranksByOutcome: m.by(famCranks, "outcome"),
		Promises: int64(math.Round(m.total(famPromises))), VatsByState: m.by(famVats, "state"),
		Restarts: m.by(famRestarts, "reason"), Terminations: m.by(famTerminations, "reason"),
		Syscalls: m.by(famSyscalls, "kind"), HostRequests: m.by(famHost, "outcome"),
		CommitPolicy: cur.status.CommitPolicy, Subclusters: len(cur.status.Subclusters), Vats: []topVat{},
	}
	// Zero histograms when there is no previous reading: latencyOf then
	// takes everything since start.
	var crankPrev, flushPrev histogram
	if prev != nil {
		elapsed := cur.at.Sub(prev.at).Seconds()
		snap.IntervalSeconds = elapsed
		// From the status's count, not kernel_cranks_total: the kernel
		// publishes that counter every few hundred cranks, the status's is
		// exact at every crank.
		if elapsed > 0 && cur.status.Cranks >= prev.status.Cranks {
			snap.CranksPerSecond = float64(cur.status.Cranks-prev.status.Cranks) / elapsed
		}
		crankPrev, flushPrev = prev.metrics.hist(famCrankDur), prev.metrics.hist(famFlushDur)
	}
	snap.CrankLatency = latencyOf(m.hist(famCrankDur), crankPrev, prev != nil)
	snap.FlushLatency = latencyOf(m.hist(famFlushDur), flushPrev, prev != nil)
	// kernel_vats counts live states only; a terminated vat is in the
	// status alone, so that count comes from there.
	terminated := int64(0)
	for _, v := range cur.status.Vats {
		state := "active"
		switch {
		case !v.Active:
			state = "terminated"
			terminated++
		case v.PagedOut:
			state = "paged-out"
		}
		snap.Vats = append(snap.Vats, topVat{ID: v.ID, Name: v.Name, Subcluster: v.Subcluster, Code: v.Code,
			State: state, Incarnation: v.Incarnation})
	}
	snap.VatsByState["terminated"] = terminated
	return snap
}

// latencyOf makes the quantiles of cur over the interval since prev, or
// of all of cur when the interval holds no measurement.
func latencyOf(cur, prev histogram, hasPrev bool) topLatency {
	h, window := cur, "all"
	if d := cur.since(prev); hasPrev && d.count > 0 {
		h, window = d, "interval"
	}
	l := topLatency{Count: int64(h.count), Window: window}
	// No measurement at all leaves the quantiles null, never a made-up 0.
	if h.count > 0 {
		p50, p99 := h.quantile(0.5), h.quantile(0.99)
		l.P50, l.P99 = &p50, &p99
	}
	return l
}

// lines is the snapshot as text, a line each, for the live display and
// the plain snapshot alike; rates feed the sparkline.
func (s topSnapshot) lines(rates []float64, interval time.Duration) []string {
	out := []string{
		fmt.Sprintf("kernel-actors top: %s at %s, every %v", strings.TrimPrefix(s.Addr, "http://"),
			s.Time.Format("15:04:05"), interval),
		"",
	}
	// Every row's name in one column, so the numbers line up.
	row := func(name, format string, args ...any) {
		out = append(out, fmt.Sprintf("%-13s", name)+fmt.Sprintf(format, args...))
	}
	// "-" until there is an interval: 0/s would claim an idle kernel.
	rate := "-"
	if s.IntervalSeconds > 0 {
		rate = fmt.Sprintf("%.0f/s", s.CranksPerSecond)
	}
	if spark := sparkline(rates); spark != "" {
		rate += "  " + spark
	}
	row("cranks", "%d in all, %s", s.Cranks, rate)
	row("  by kind", "%s", counts(s.CranksByKind))
	row("  outcome", "%s", counts(s.CranksByOutcome))
	row("run queue", "%d", s.RunQueue)
	row("promises", "%d", s.Promises)
	row("vats", "%s", counts(s.VatsByState))
	row("crank time", "%s", s.CrankLatency.text("cranks"))
	row("flush time", "%s", s.FlushLatency.text("flushes"))
	row("restarts", "%s", counts(s.Restarts))
	row("terminations", "%s", counts(s.Terminations))
	row("syscalls", "%s", counts(s.Syscalls))
	row("host req.", "%s", counts(s.HostRequests))
	row("commit", "%s, %d subclusters, %d vats", s.CommitPolicy, s.Subclusters, len(s.Vats))
	out = append(out, "")
	// The table through tabwriter, as the vats command aligns its own.
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VAT\tNAME\tSUBCLUSTER\tCODE\tSTATE\tINCARNATION")
	for _, v := range s.Vats {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\n", v.ID, v.Name, v.Subcluster, v.Code, v.State, v.Incarnation)
	}
	tw.Flush()
	return append(out, strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")...)
}

// text says the quantiles and what they are of.
func (l topLatency) text(what string) string {
	if l.P50 == nil {
		return "- (no " + what + " yet)"
	}
	// Said with the numbers, since quantiles of the last second and of
	// the whole run mean different things.
	of := fmt.Sprintf("%d %s in the interval", l.Count, what)
	if l.Window == "all" {
		of = fmt.Sprintf("all %d %s, none in the interval", l.Count, what)
	}
	return fmt.Sprintf("p50 %s, p99 %s (%s)", seconds(*l.P50), seconds(*l.P99), of)
}

// seconds writes a duration in seconds to three figures or so: "45.1µs",
// "1.21ms", "2.5s".
func seconds(s float64) string {
	d := time.Duration(s * float64(time.Second))
	// Rounded by magnitude: the buckets' interpolation is no finer than
	// that, and "1.234567ms" would claim otherwise.
	switch {
	case d >= time.Second:
		d = d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		d = d.Round(10 * time.Microsecond)
	case d >= time.Microsecond:
		d = d.Round(100 * time.Nanosecond)
	}
	return d.String()
}

// counts writes a count by label as "send 120, notify 40", the largest
// first (by name among equals), or "0" when there is none.
func counts(m map[string]int64) string {
	keys := slices.Collect(maps.Keys(m))
	// Largest first, since that is what a reader looks for; by name among
	// equals, so the order does not flicker between refreshes.
	slices.SortFunc(keys, func(a, b string) int {
		return cmp.Or(cmp.Compare(m[b], m[a]), cmp.Compare(a, b))
	})
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	if len(parts) == 0 {
		return "0"
	}
	return strings.Join(parts, ", ")
}
