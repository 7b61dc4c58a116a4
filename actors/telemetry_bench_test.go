package actors_test

import (
	"context"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/ocapgo/kernel-actors/actors"
)

// BenchmarkPingPongTelemetry is BenchmarkPingPong on the in-memory store
// with telemetry off, with metrics (an SDK MeterProvider and a manual
// reader, as serve has with a Prometheus reader), with traces (an SDK
// TracerProvider that records every span and exports none), with both,
// and with metrics and traces sampled at 1% (parent-based, as
// docs/observability.md advises for production): the cost of each on the
// crank path, measured in one process so that the ratios compare. The
// ping-pong is one chain of cranks caused by one host send, so the 1%
// case samples the whole chain or none of it: what it measures is an
// unsampled span's cost, the common case under sampling.
func BenchmarkPingPongTelemetry(b *testing.B) {
	cases := []struct {
		name string
		cfg  func(b *testing.B) actors.Config
	}{
		{"off", func(*testing.B) actors.Config { return actors.Config{} }},
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
