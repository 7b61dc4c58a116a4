package actors_test

import (
	"context"
	"encoding/binary"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/internal/echovats"
)

// maxUnsampledSpanAllocs is the most allocations an unsampled crank may
// make beyond the same crank with no TracerProvider: what the SDK makes
// for a span its sampler drops (the span, the context Start returns) and
// the boxed start timestamp, with one to spare for the run-to-run noise of
// a whole kernel's count. An unsampled span cost 11 before the crank
// path stopped building what only a recorded span uses.
const maxUnsampledSpanAllocs = 4

// maxInheritedAllocs is the most allocations a crank that inherits an
// unsampled crank's decision (Config.SampleEveryCrank off, the default)
// may make beyond the same crank untraced: it makes no span at all, so
// only the run-to-run noise of a whole kernel's count.
const maxInheritedAllocs = 0.5

// fixedIDs is an sdktrace.IDGenerator whose every trace has the trace id
// traceID and whose span ids count up: with it, a TraceIDRatioBased
// sampler's decision is the same for every trace, so a test can ask for
// traces that the production sampler of docs/observability.md drops
// without relying on chance.
type fixedIDs struct {
	traceID trace.TraceID
	next    atomic.Uint64
}

func (g *fixedIDs) NewIDs(ctx context.Context) (trace.TraceID, trace.SpanID) {
	return g.traceID, g.NewSpanID(ctx, g.traceID)
}

func (g *fixedIDs) NewSpanID(context.Context, trace.TraceID) trace.SpanID {
	var id trace.SpanID
	binary.BigEndian.PutUint64(id[:], g.next.Add(1))
	return id
}

// countingSampler passes every decision to inner, counting the spans it
// was asked about with and without a parent.
type countingSampler struct {
	inner           sdktrace.Sampler
	roots, children atomic.Int64
}

func (s *countingSampler) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	if trace.SpanContextFromContext(p.ParentContext).IsValid() {
		s.children.Add(1)
	} else {
		s.roots.Add(1)
	}
	return s.inner.ShouldSample(p)
}

func (s *countingSampler) Description() string { return "counting(" + s.inner.Description() + ")" }

// unsampledTraceID is a trace id that TraceIDRatioBased(f) samples for no
// f below 1: it compares the id's last 8 bytes, here the largest value.
var unsampledTraceID = trace.TraceID{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// pingPongAllocs runs alice's run(n) on a fresh in-memory kernel with cfg
// and returns the allocations per crank of a run of 100 round trips,
// measured after a warm-up, and the cranks a run takes.
func pingPongAllocs(t *testing.T, cfg actors.Config, hctx context.Context) (perCrank float64, cranks uint64) {
	t.Helper()
	ctx := context.Background()
	cfg.Registry = echovats.Registry()
	k := start(t, cfg)
	res, err := k.LaunchSubcluster(ctx, echovats.Cluster())
	require.NoError(t, err)
	run := func() {
		if v, err := k.QueueMessage(hctx, res.RootKref, "run", 100); err != nil || v != int64(99) {
			t.Fatalf("run: %v %v", v, err)
		}
	}
	for range 5 { // the maps and slices reach their working size
		run()
	}
	before := cranksRunT(t, k)
	run()
	cranks = cranksRunT(t, k) - before
	perRun := testing.AllocsPerRun(20, run)
	return perRun / float64(cranks), cranks
}

func cranksRunT(t *testing.T, k *actors.Kernel) uint64 {
	st, err := k.Status(context.Background())
	require.NoError(t, err)
	return st.CranksRun
}

// A crank whose span the sampler drops costs at most
// maxUnsampledSpanAllocs allocations more than the same crank with no
// TracerProvider, under the sampler docs/observability.md advises (1%,
// parent-based) with trace ids it never samples: from a host with no
// span (the first crank of each request is a root, the rest follow it)
// and from a host whose own span is not sampled (every crank follows the
// host's decision). With Config.SampleEveryCrank the sampler is asked
// about every crank, and about all but the roots with their parent:
// dropping a span does not cut the trace into pieces for the sampler to
// decide afresh. By default it is asked only about the first crank of
// each request (the rest inherit its decision), and the cranks cost
// nothing more than untraced ones.
func TestUnsampledCrankAllocations(t *testing.T) {
	hostSC := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: unsampledTraceID, SpanID: trace.SpanID{1}, Remote: true,
	})
	for _, tt := range []struct {
		name      string
		hctx      context.Context
		wantRoots bool
	}{
		{"no host span", context.Background(), true},
		{"unsampled host span", trace.ContextWithSpanContext(context.Background(), hostSC), false},
	} {
		for _, every := range []bool{false, true} {
			name := tt.name + "/inherit"
			if every {
				name = tt.name + "/every crank"
			}
			t.Run(name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					off, cranks := pingPongAllocs(t, actors.Config{}, tt.hctx)
					require.Equal(t, uint64(201), cranks, "run, then a send and its notify a round trip")
					rec := tracetest.NewSpanRecorder()
					sampler := &countingSampler{inner: sdktrace.ParentBased(sdktrace.TraceIDRatioBased(0.01))}
					tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sampler), sdktrace.WithSpanProcessor(rec),
						sdktrace.WithIDGenerator(&fixedIDs{traceID: unsampledTraceID}))
					defer tp.Shutdown(context.Background())
					traced, _ := pingPongAllocs(t, actors.Config{TracerProvider: tp, SampleEveryCrank: every}, tt.hctx)
					t.Logf("%.2f allocations per crank unset, %.2f with unsampled spans", off, traced)
					require.Empty(t, rec.Started(), "the sampler sampled nothing")
					roots, children := sampler.roots.Load(), sampler.children.Load()
					if !every {
						require.LessOrEqual(t, traced-off, maxInheritedAllocs)
						// 27 requests of 201 cranks (below), the launch's few.
						require.Less(t, roots+children, int64(27+10), "the first crank of each request asked the sampler, the rest inherit")
						require.GreaterOrEqual(t, roots+children, int64(27), "every request's first crank asked the sampler")
						return
					}
					require.LessOrEqual(t, traced-off, float64(maxUnsampledSpanAllocs))

					// 5 warm-up runs, the counted one and AllocsPerRun's 21, each
					// of 201 cranks, and the launch's own.
					require.GreaterOrEqual(t, roots+children, int64(27*201), "every crank asked the sampler")
					if tt.wantRoots {
						require.Less(t, roots, int64(27*2), "a root for each request (and the launch's cranks), not a crank")
					} else {
						require.Less(t, roots, int64(10), "only the launch's cranks, with no host span, are roots")
					}
				})
			})
		}
	}
}

// recordOnly records every span without sampling it (a RecordOnly
// decision): the spans are recorded but their contexts say unsampled, so
// each crank's parent is unsampled and yet its span records.
type recordOnly struct{}

func (recordOnly) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	return sdktrace.SamplingResult{Decision: sdktrace.RecordOnly, Tracestate: trace.SpanContextFromContext(p.ParentContext).TraceState()}
}

func (recordOnly) Description() string { return "recordOnly" }

// The sampler, not the kernel, decides what records: a span recorded under
// an unsampled parent (here every one, under a sampler that records
// without sampling) has everything a sampled one has: its parent, its
// link to the crank that queued its item, and its attributes.
func TestTracesRecordedUnderAnUnsampledParent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		rec := tracetest.NewSpanRecorder()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(recordOnly{}), sdktrace.WithSpanProcessor(rec))
		k := start(t, actors.Config{TracerProvider: tp})
		res, err := k.LaunchSubcluster(ctx, twoVats())
		require.NoError(t, err)
		require.NoError(t, k.WaitIdle(ctx))
		n := len(rec.Ended())

		hctx, host := tp.Tracer("host").Start(ctx, "host request")
		require.False(t, host.SpanContext().IsSampled())
		v, err := k.QueueMessage(hctx, res.RootKref, "ask", "host")
		require.NoError(t, err)
		require.Equal(t, "hello, host", v)
		host.End()
		require.NoError(t, k.WaitIdle(ctx))

		var cranks []sdktrace.ReadOnlySpan
		for _, s := range rec.Ended()[n:] {
			if s.Name() != "host request" {
				cranks = append(cranks, s)
			}
		}
		require.Len(t, cranks, 3)
		ask, hello, notify := cranks[0], cranks[1], cranks[2]
		require.Equal(t, host.SpanContext().SpanID(), ask.Parent().SpanID())
		require.Equal(t, ask.SpanContext().SpanID(), hello.Parent().SpanID())
		require.Equal(t, hello.SpanContext().SpanID(), notify.Parent().SpanID())
		for i, s := range cranks {
			require.False(t, s.SpanContext().IsSampled())
			require.Equal(t, host.SpanContext().TraceID(), s.SpanContext().TraceID())
			require.Len(t, s.Links(), 1, "%s links to what queued its item", s.Name())
			require.Equal(t, "queued_by", s.Links()[0].Attributes[0].Value.AsString())
			require.Equal(t, s.Parent().SpanID(), s.Links()[0].SpanContext.SpanID())
			require.Equal(t, "committed", attr(s, "kernel.outcome").AsString())
			require.Equal(t, []string{"send", "send", "notify"}[i], attr(s, "kernel.work").AsString())
		}
		require.Equal(t, "ask", attr(ask, "kernel.method").AsString())
		require.Equal(t, string(res.VatIDs["bob"]), attr(hello, "kernel.vat").AsString())
		require.Equal(t, int64(1), attr(hello, "kernel.syscalls.resolve").AsInt64())
	})
}
