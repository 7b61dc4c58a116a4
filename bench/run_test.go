package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/jsvat"
)

var seed = flag.Uint64("seed", 0, "the seed of TestLatencies' random durations (0: a new one, printed)")

// testFloors are floors measured briefly, once for the package's tests.
func testFloors(t *testing.T) Floors {
	t.Helper()
	f, err := MeasureFloors(context.Background(), 20*time.Millisecond, t.TempDir())
	require.NoError(t, err)
	return f
}

// The floors are measured: a request/response takes some time, and the
// SQLite floor replays transactions of the rows a crank wrote.
func TestFloorsAreMeasured(t *testing.T) {
	f := testFloors(t)
	require.Greater(t, f.ActorRRUS, 0.0)
	require.Greater(t, f.SQLiteTxUS, 0.0)
	require.Greater(t, f.SQLiteBatchedTxUS, 0.0)
	require.GreaterOrEqual(t, f.SQLiteRowsPerTx, 1.0, "a ping-pong crank writes rows")
}

// jsonFields are the keys every result line has.
var jsonFields = []string{"workload", "rep", "params", "messages", "cranks", "wall_ms", "messages_per_s",
	"cranks_per_s", "crank_p50_us", "crank_p99_us", "crank_max_us", "allocs_per_crank", "bytes_per_crank",
	"live_heap_before_bytes", "live_heap_after_bytes", "peak_rss_bytes", "startup_ms", "floors", "ratios"}

// checkResult asserts that r, as its JSON line, has every field with a
// plausible value for a run of n messages.
func checkResult(t *testing.T, r Result, f Floors, n int) {
	t.Helper()
	line, err := json.Marshal(r)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(line, &m))
	for _, k := range jsonFields {
		require.Contains(t, m, k, "%s", line)
	}
	require.Equal(t, n, r.Messages)
	require.Greater(t, r.Cranks, uint64(0))
	require.Greater(t, r.WallMS, 0.0)
	require.InDelta(t, float64(n)/(r.WallMS/1000), r.MessagesPerSec, r.MessagesPerSec*1e-9)
	require.InDelta(t, float64(r.Cranks)/(r.WallMS/1000), r.CranksPerSec, r.CranksPerSec*1e-9)
	require.Greater(t, r.CrankP50US, 0.0)
	require.LessOrEqual(t, r.CrankP50US, r.CrankP99US)
	require.LessOrEqual(t, r.CrankP99US, r.CrankMaxUS)
	// No crank is longer than the whole timed part plus what followed it
	// (WaitIdle's trailing cranks): a minute is far beyond either.
	require.Less(t, r.CrankMaxUS, float64(time.Minute/time.Microsecond))
	require.Greater(t, r.AllocsPerCrank, 0.0)
	require.Greater(t, r.BytesPerCrank, r.AllocsPerCrank, "every allocation is at least a byte")
	require.Greater(t, r.HeapBeforeBytes, uint64(0))
	require.Greater(t, r.HeapAfterBytes, uint64(0))
	require.Greater(t, r.StartupMS, 0.0)
	require.Equal(t, f, r.Floors)
	require.InDelta(t, r.WallMS*1000/float64(n)/f.ActorRRUS, r.Ratios.MessageVsActorRR, 1e-9)
	require.InDelta(t, r.CranksPerSec*f.SQLiteTxUS/1e6, r.Ratios.CranksVsSQLiteTx, 1e-9)
}

// Every Go workload runs at a tiny N on each store and commit policy,
// and its result has every field with plausible values.
func TestEveryWorkloadRuns(t *testing.T) {
	f := testFloors(t)
	ctx := context.Background()
	const n = 12
	for _, w := range Workloads() {
		if w == "js" {
			continue // TestJSWithoutNode, and BenchmarkJS under the jsvat tag
		}
		for _, sc := range []struct{ store, commit string }{{StoreMemory, CommitDurable}, {StoreFile, CommitDurable}, {StoreFile, CommitGroup}} {
			t.Run(w+"/"+sc.store+"-"+sc.commit, func(t *testing.T) {
				o := Options{Workload: w, N: n, Store: sc.store, Commit: sc.commit, Warmup: 3, Reps: 2,
					K: 3, Vats: 3, Objects: 25, Dir: t.TempDir()}
				var seen []Result
				rs, err := Run(ctx, o, f, func(r Result) { seen = append(seen, r) })
				require.NoError(t, err)
				require.Len(t, rs, 2)
				require.Equal(t, rs, seen, "each result is passed on as it is done")
				for i, r := range rs {
					require.Equal(t, i+1, r.Rep)
					require.Equal(t, w, r.Workload)
					require.Equal(t, sc.store, r.Params.Store)
					require.Equal(t, sc.commit, r.Params.Commit)
					checkResult(t, r, f, n)
				}
				switch w {
				case "pingpong", "bigstore", "bigcrank":
					// Two cranks a round trip (the ping, the notify of its
					// answer), and the host's message.
					require.Equal(t, uint64(2*n+1), rs[0].Cranks)
				case "external":
					require.Equal(t, uint64(n), rs[0].Cranks)
				case "manyvats":
					require.GreaterOrEqual(t, rs[0].Cranks, uint64(n+1))
				case "pipeline":
					require.Equal(t, 3, rs[0].Params.K)
				}
				switch w {
				case "bigstore":
					require.Equal(t, 25, rs[0].Params.Objects)
					require.Greater(t, rs[0].Extra["fill_ms"], 0.0)
				case "bigcrank":
					require.Greater(t, rs[0].Extra["big_crank_ms"], 0.0)
					require.GreaterOrEqual(t, rs[0].Extra["setup_ms"], rs[0].Extra["big_crank_ms"])
				}
			})
		}
	}
}

// The temporary directories of file stores are removed after each run.
func TestFileStoreIsRemoved(t *testing.T) {
	dir := t.TempDir()
	_, err := Run(context.Background(), Options{Workload: "pingpong", N: 2, Store: StoreFile, Dir: dir}, Floors{}, nil)
	require.NoError(t, err)
	left, err := filepathGlob(dir)
	require.NoError(t, err)
	require.Empty(t, left)
}

// Bad options are refused, naming the field, before a kernel starts.
func TestBadOptions(t *testing.T) {
	tests := []struct {
		o       Options
		wantErr string
		is      error
	}{
		{Options{Workload: "nope"}, `unknown workload "nope"`, ErrUnknownWorkload},
		{Options{Workload: "pingpong", N: -1}, "N is -1", ErrBadOptions},
		{Options{Workload: "pingpong", Reps: -2}, "Reps is -2", ErrBadOptions},
		{Options{Workload: "pingpong", Warmup: -1}, "Warmup is -1", ErrBadOptions},
		{Options{Workload: "pipeline", K: -1}, "K is -1", ErrBadOptions},
		{Options{Workload: "manyvats", Vats: -3}, "Vats is -3", ErrBadOptions},
		{Options{Workload: "bigstore", Objects: -1}, "Objects is -1", ErrBadOptions},
		{Options{Workload: "pingpong", Store: "disk"}, `Store is "disk"`, ErrBadOptions},
		{Options{Workload: "pingpong", Commit: "often"}, `Commit is "often"`, ErrBadOptions},
		{Options{Workload: "pingpong", Telemetry: []string{"off", "loud"}}, `Telemetry[1] is "loud"`, ErrBadOptions},
		{Options{Workload: "pingpong", Telemetry: []string{"metrics", "metrics"}}, `Telemetry names "metrics" twice`, ErrBadOptions},
		{Options{Workload: "pingpong", TraceSample: 1.5}, "TraceSample is 1.5", ErrBadOptions},
		{Options{Workload: "pingpong", TraceSample: -0.1}, "TraceSample is -0.1", ErrBadOptions},
	}
	for _, tt := range tests {
		t.Run(tt.wantErr, func(t *testing.T) {
			_, err := Run(context.Background(), tt.o, Floors{}, nil)
			require.ErrorIs(t, err, tt.is)
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
	o, err := Options{Workload: "bigcrank"}.withDefaults()
	require.NoError(t, err)
	require.Equal(t, DefaultBigCrankObjects, o.Objects)
	require.Equal(t, StoreMemory, o.Store)
	require.Equal(t, CommitDurable, o.Commit)
	require.Equal(t, 0, o.Warmup, "no warm-up unless asked")
}

// The js workload without a runtime says so; with one whose Node is
// missing, it fails with jsvat's own error, which names what to install.
func TestJSWithoutNode(t *testing.T) {
	ctx := context.Background()
	_, err := Run(ctx, Options{Workload: "js", N: 1, Dir: t.TempDir()}, Floors{}, nil)
	require.ErrorIs(t, err, actors.ErrNoJSRuntime)

	rt, err := jsvat.NewRuntime(jsvat.Options{Node: "/nonexistent/node-for-bench-test"})
	require.NoError(t, err)
	defer rt.Close()
	_, err = Run(ctx, Options{Workload: "js", N: 1, JS: rt, Dir: t.TempDir()}, Floors{}, nil)
	require.ErrorIs(t, err, jsvat.ErrNoNode)
}

// The median line takes each figure's median over the repetitions.
func TestMedian(t *testing.T) {
	mk := func(wall, p50 float64, cranks uint64, extra float64) Result {
		return Result{Workload: "w", WallMS: wall, CrankP50US: p50, Cranks: cranks, Extra: map[string]float64{"x": extra},
			Ratios: Ratios{MessageVsActorRR: wall / 10}}
	}
	m := Median([]Result{mk(30, 1, 7, 5), mk(10, 3, 9, 4), mk(20, 2, 8, 6)})
	require.True(t, m.Median)
	require.Equal(t, 0, m.Rep)
	require.Equal(t, 20.0, m.WallMS)
	require.Equal(t, 2.0, m.CrankP50US)
	require.Equal(t, uint64(8), m.Cranks)
	require.Equal(t, 5.0, m.Extra["x"])
	require.Equal(t, 2.0, m.Ratios.MessageVsActorRR)
	require.Equal(t, 2.5, median([]float64{4, 1, 2, 3}), "an even count takes the mean of the middle two")
}

// Percentiles are ordered and the maximum is the largest sample, for
// random samples (replay with -seed).
func TestLatencies(t *testing.T) {
	s := *seed
	if s == 0 {
		s = rand.Uint64()
	}
	t.Logf("seed %d (replay with -seed %d)", s, s)
	rng := rand.New(rand.NewPCG(s, s))
	for i := 0; i < 200; i++ {
		ds := make([]time.Duration, 1+rng.IntN(500))
		var top time.Duration
		for j := range ds {
			ds[j] = time.Duration(1 + rng.Int64N(int64(10*time.Millisecond)))
			top = max(top, ds[j])
		}
		p50, p99, mx := latencies(ds)
		require.LessOrEqual(t, p50, p99)
		require.LessOrEqual(t, p99, mx)
		require.Equal(t, float64(top)/float64(time.Microsecond), mx)
		below := 0
		for _, d := range ds {
			if float64(d)/float64(time.Microsecond) <= p50 {
				below++
			}
		}
		require.GreaterOrEqual(t, 2*below, len(ds), "at least half the samples are at or below p50")
	}
	p50, p99, mx := latencies(nil)
	require.Zero(t, p50+p99+mx)
}

// The table has a header, a row a result with its parameters, and the
// floors.
func TestTable(t *testing.T) {
	f := Floors{ActorRRUS: 9.5, SQLiteTxUS: 120, SQLiteBatchedTxUS: 80, SQLiteRowsPerTx: 8}
	rs := []Result{
		{Workload: "pipeline", Rep: 1, Params: Params{N: 10, Store: "file", Commit: "group", K: 4}, WallMS: 2, CranksPerSec: 1000},
		{Workload: "pipeline", Median: true, Params: Params{N: 10, Store: "file", Commit: "group", K: 4}, WallMS: 2},
	}
	var b bytes.Buffer
	require.NoError(t, WriteTable(&b, rs, f))
	lines := strings.Split(b.String(), "\n")
	require.Contains(t, lines[0], "workload")
	require.Contains(t, lines[0], "p99 µs")
	require.Contains(t, lines[1], "n=10 file group k=4")
	require.Contains(t, lines[2], "median")
	require.Contains(t, b.String(), "protoactor request/response 9.50 µs")
	require.Contains(t, b.String(), "8.0 rows 120.0 µs")
	// The rows line up: every row is as wide as the header.
	require.Equal(t, len([]rune(lines[0])), len([]rune(lines[1])))
}

// Unknown workloads have no summary; known ones do.
func TestWorkloadsListed(t *testing.T) {
	for _, w := range Workloads() {
		require.NotEmpty(t, Summary(w), w)
	}
	require.Empty(t, Summary("nope"))
	_, err := lookup("nope")
	require.True(t, errors.Is(err, ErrUnknownWorkload))
}

// filepathGlob lists what dir holds.
func filepathGlob(dir string) ([]string, error) { return filepath.Glob(filepath.Join(dir, "*")) }

// With several telemetry configurations, each repetition runs every one
// in turn, on a kernel of its own with the providers it names: the
// metered cranks and the ended spans show that each was on (and off has
// neither). Costs pairs the runs of one repetition.
func TestTelemetryInterleaved(t *testing.T) {
	f := testFloors(t)
	tels := []string{TelemetryOff, TelemetryMetrics, TelemetryTraces, TelemetryBoth}
	var order []string
	rs, err := Run(context.Background(), Options{Workload: "pingpong", N: 20, Reps: 2, Telemetry: tels}, f,
		func(r Result) { order = append(order, r.Params.Telemetry) })
	require.NoError(t, err)
	require.Equal(t, append(slices.Clone(tels), tels...), order, "repetition by repetition, every configuration in turn")
	for i, r := range rs {
		checkResult(t, r, f, 20)
		require.Equal(t, i/len(tels)+1, r.Rep)
		metered, spans := r.Extra[ExtraMeteredCranks], r.Extra[ExtraSpans]
		switch r.Params.Telemetry {
		case TelemetryOff:
			require.NotContains(t, r.Extra, ExtraMeteredCranks)
			require.NotContains(t, r.Extra, ExtraSpans)
		case TelemetryMetrics:
			// The whole repetition's cranks: set-up and warm-up as well.
			require.GreaterOrEqual(t, metered, float64(r.Cranks))
			require.NotContains(t, r.Extra, ExtraSpans)
		case TelemetryTraces:
			require.GreaterOrEqual(t, spans, float64(r.Cranks), "sampling 1: a span a crank")
			require.NotContains(t, r.Extra, ExtraMeteredCranks)
		case TelemetryBoth:
			require.GreaterOrEqual(t, metered, float64(r.Cranks))
			require.Equal(t, metered, spans, "a span for every crank counted")
		}
	}
	costs := Costs(rs)
	require.Len(t, costs, 3)
	for i, c := range costs {
		require.Equal(t, "pingpong", c.Workload)
		require.Equal(t, tels[i+1], c.Telemetry)
		require.Greater(t, c.CrankTime, 0.0)
		require.Greater(t, c.CranksPerSec, 0.0)
	}
	// Paired by repetition: a configuration twice as slow in every
	// repetition costs 2, whatever the repetitions' own spread.
	mk := func(rep int, tel string, wall float64) Result {
		return Result{Workload: "w", Rep: rep, Params: Params{Telemetry: tel}, WallMS: wall, Cranks: 10, CranksPerSec: 10 / wall}
	}
	c := Costs([]Result{mk(1, "off", 1), mk(1, "metrics", 2), mk(2, "off", 5), mk(2, "metrics", 10), {Median: true}})
	require.Equal(t, []Cost{{Workload: "w", Telemetry: "metrics", CrankTime: 2, CranksPerSec: (10.0/2 + 10.0/10) / 2}}, c)
}

// A sampled fraction below 1 makes fewer spans than cranks.
func TestTraceSample(t *testing.T) {
	rs, err := Run(context.Background(), Options{Workload: "external", N: 400, Telemetry: []string{TelemetryTraces}, TraceSample: 0.01}, Floors{}, nil)
	require.NoError(t, err)
	require.Less(t, rs[0].Extra[ExtraSpans], float64(rs[0].Cranks), "1% of 400 host requests")
	require.Equal(t, 0.01, rs[0].Params.TraceSample)
}
