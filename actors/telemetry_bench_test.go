package actors_test

import (
	"context"
	"flag"
	"slices"
	"strings"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/kernel"
)

// telemetryCase is one telemetry configuration of the ping-pong.
type telemetryCase struct {
	name string
	cfg  func(b *testing.B) actors.Config
}

// telemetryCases are the configurations BenchmarkPingPongTelemetry and
// BenchmarkPingPongTelemetryInterleaved compare: unset, metrics (an SDK
// MeterProvider and a manual reader, as serve has with a Prometheus
// reader), traces (an SDK TracerProvider that records every span and
// exports none), both, and metrics with traces sampled at 1%
// (parent-based, as docs/observability.md advises for production). The
// ping-pong is one chain of cranks caused by one host send, so the 1% case
// samples the whole chain or none of it: what it measures is an unsampled
// span's cost, the common case under sampling.
func telemetryCases() []telemetryCase {
	return []telemetryCase{
		{"off", func(*testing.B) actors.Config { return actors.Config{} }},
		// off_again is off once more: an A/A pair, so the interleaved
		// benchmark shows the spread of its own method.
		{"off_again", func(*testing.B) actors.Config { return actors.Config{} }},
		{"metrics", func(b *testing.B) actors.Config {
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
			b.Cleanup(func() { mp.Shutdown(context.Background()) })
			return actors.Config{MeterProvider: mp}
		}},
		{"traces", func(b *testing.B) actors.Config {
			tp := sdktrace.NewTracerProvider()
			b.Cleanup(func() { tp.Shutdown(context.Background()) })
			return actors.Config{TracerProvider: tp}
		}},
		{"both", func(b *testing.B) actors.Config {
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
			tp := sdktrace.NewTracerProvider()
			b.Cleanup(func() { mp.Shutdown(context.Background()); tp.Shutdown(context.Background()) })
			return actors.Config{MeterProvider: mp, TracerProvider: tp}
		}},
		{"metrics_traces1pct", func(b *testing.B) actors.Config {
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
			tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(0.01))))
			b.Cleanup(func() { mp.Shutdown(context.Background()); tp.Shutdown(context.Background()) })
			return actors.Config{MeterProvider: mp, TracerProvider: tp}
		}},
	}
}

// BenchmarkPingPongTelemetry is BenchmarkPingPong on the in-memory store
// under each of telemetryCases, one sub-benchmark each: the cost of each
// on the crank path, in one process so that the ratios compare.
func BenchmarkPingPongTelemetry(b *testing.B) {
	cases := telemetryCases()
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			k, res := benchKernel(b, c.cfg(b))
			if _, err := k.QueueMessage(ctx, res.RootKref, "run", 100); err != nil { // warm up
				b.Fatal(err)
			}
			c0 := cranksRun(b, k)
			b.ReportAllocs()
			b.ResetTimer()
			start, cpu0 := time.Now(), processCPU()
			v, err := k.QueueMessage(ctx, res.RootKref, "run", b.N)
			elapsed, cpu := time.Since(start), processCPU()-cpu0
			b.StopTimer()
			if err != nil || v != int64(b.N-1) {
				b.Fatalf("run: %v %v", v, err)
			}
			cranks := cranksRun(b, k) - c0 - 1
			b.ReportMetric(float64(cranks)/elapsed.Seconds(), "cranks/s")
			// CPU time as well as wall time: on a machine others share, the
			// process's CPU per crank moves less with their load than the
			// wall clock does (processCPU is -1 where it cannot tell).
			if cpu0 >= 0 {
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(cranks), "cpu-ns/crank")
			}
		})
	}
}

// interleaveSlice is how many round trips each configuration runs in one
// turn of BenchmarkPingPongTelemetryInterleaved: a few milliseconds, short
// enough that the turns of all five see the same load from the rest of
// the machine, long enough that a turn's own overhead (one host send) is
// lost in it.
const interleaveSlice = 200

// interleaveOnly narrows BenchmarkPingPongTelemetryInterleaved to some of
// telemetryCases. The cases that record every span make garbage that
// the others' turns pay to collect (the collector's workers run in
// whichever turn is on, and processCPU counts them there); comparing
// off, metrics and metrics_traces1pct alone keeps the costs each its own.
var interleaveOnly = flag.String("telemetry-cases", "", "BenchmarkPingPongTelemetryInterleaved: comma-separated cases to run, off first (default: all)")

// BenchmarkPingPongTelemetryInterleaved runs every configuration of
// telemetryCases in one process, side by side: five kernels, and turns of
// interleaveSlice round trips each, in an order rotated every round, until
// each has made b.N. On a machine that others share, whose load moves by
// the second, this compares the configurations under the same load, where
// separate sub-benchmarks a few seconds apart do not. It reports each
// configuration's wall and CPU time per crank (NAME-ns/crank,
// NAME-cpu-ns/crank) and their ratios to "off" (NAME/off, NAME/off-cpu).
func BenchmarkPingPongTelemetryInterleaved(b *testing.B) {
	ctx := context.Background()
	cases := telemetryCases()
	if *interleaveOnly != "" {
		names := strings.Split(*interleaveOnly, ",")
		if names[0] != "off" {
			b.Fatalf("-telemetry-cases %q: the first case must be off, the one the others are compared with", *interleaveOnly)
		}
		cases = slices.DeleteFunc(cases, func(c telemetryCase) bool { return !slices.Contains(names, c.name) })
		if len(cases) != len(names) {
			b.Fatalf("-telemetry-cases %q: a name is not one of telemetryCases' (off, metrics, traces, both, metrics_traces1pct)", *interleaveOnly)
		}
	}
	type run struct {
		k           *actors.Kernel
		root        kernel.KRef
		wall, cpu   time.Duration
		cranks      uint64
		trips, left int
	}
	runs := make([]*run, len(cases))
	for i, c := range cases {
		k, res := benchKernel(b, c.cfg(b))
		if _, err := k.QueueMessage(ctx, res.RootKref, "run", 100); err != nil { // warm up
			b.Fatal(err)
		}
		runs[i] = &run{k: k, root: res.RootKref, left: b.N}
	}
	b.ResetTimer()
	for round := 0; runs[0].left > 0; round++ {
		for j := range runs {
			// Rotated, so that no configuration always follows the same one.
			r := runs[(j+round)%len(runs)]
			n := min(interleaveSlice, r.left)
			c0 := cranksRun(b, r.k)
			start, cpu0 := time.Now(), processCPU()
			v, err := r.k.QueueMessage(ctx, r.root, "run", n)
			r.wall += time.Since(start)
			r.cpu += processCPU() - cpu0
			if err != nil || v != int64(n-1) {
				b.Fatalf("run: %v %v", v, err)
			}
			r.cranks += cranksRun(b, r.k) - c0
			r.left -= n
		}
	}
	b.StopTimer()
	perCrank := func(d time.Duration, r *run) float64 { return float64(d.Nanoseconds()) / float64(r.cranks) }
	off := runs[0]
	for i, r := range runs {
		name := cases[i].name
		b.ReportMetric(perCrank(r.wall, r), name+"-ns/crank")
		if i > 0 {
			b.ReportMetric(perCrank(r.wall, r)/perCrank(off.wall, off), name+"/off")
		}
		// processCPU is -1 where it cannot tell: no CPU figures then.
		if processCPU() >= 0 {
			b.ReportMetric(perCrank(r.cpu, r), name+"-cpu-ns/crank")
			if i > 0 {
				b.ReportMetric(perCrank(r.cpu, r)/perCrank(off.cpu, off), name+"/off-cpu")
			}
		}
	}
}
