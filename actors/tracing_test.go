package actors_test

import (
	"context"
	"path/filepath"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/ocapgo/kernel-actors/actors"
)

// attr reads one attribute of a recorded span ("" if absent).
func attr(s sdktrace.ReadOnlySpan, key string) attribute.Value {
	for _, kv := range s.Attributes() {
		if string(kv.Key) == key {
			return kv.Value
		}
	}
	return attribute.Value{}
}

// A host's ask, made under a span of the host's own, is followed across
// vats in one trace: the crank that delivers ask to alice is a child of
// the host's span; the crank that delivers alice's hello to bob is a
// child of (and links to) that crank; the notify of bob's answer back to
// alice is a child of bob's crank. Each crank span says its vat, method,
// outcome and syscall counts, and there is one per crank run.
func TestTracesFollowARequestAcrossVats(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		rec := tracetest.NewSpanRecorder()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
		k := start(t, actors.Config{TracerProvider: tp, DBPath: filepath.Join(t.TempDir(), "k.db")})
		res, err := k.LaunchSubcluster(ctx, twoVats())
		require.NoError(t, err)
		require.NoError(t, k.WaitIdle(ctx))
		before, err := k.Status(ctx)
		require.NoError(t, err)
		launchSpans := len(rec.Ended())

		hctx, host := tp.Tracer("host").Start(ctx, "host request")
		v, err := k.QueueMessage(hctx, res.RootKref, "ask", "host")
		require.NoError(t, err)
		require.Equal(t, "hello, host", v)
		host.End()
		require.NoError(t, k.WaitIdle(ctx))
		after, err := k.Status(ctx)
		require.NoError(t, err)

		var cranks []sdktrace.ReadOnlySpan
		for _, s := range rec.Ended()[launchSpans:] {
			if s.Name() != "host request" {
				cranks = append(cranks, s)
			}
		}
		require.Len(t, cranks, int(after.CranksRun-before.CranksRun), "one span per crank")
		require.Len(t, cranks, 3)
		ask, hello, notify := cranks[0], cranks[1], cranks[2]
		alice, bob := string(res.VatIDs["alice"]), string(res.VatIDs["bob"])

		hostSC := host.SpanContext()
		for _, s := range cranks {
			require.Equal(t, hostSC.TraceID(), s.SpanContext().TraceID(), "%s is in the host's trace", s.Name())
			require.Equal(t, "committed", attr(s, "kernel.outcome").AsString())
		}
		require.Equal(t, hostSC.SpanID(), ask.Parent().SpanID())
		require.Equal(t, ask.SpanContext().SpanID(), hello.Parent().SpanID())
		require.Equal(t, hello.SpanContext().SpanID(), notify.Parent().SpanID())
		require.Len(t, hello.Links(), 1)
		require.Equal(t, ask.SpanContext(), hello.Links()[0].SpanContext.WithRemote(false))

		require.Equal(t, "crank send", ask.Name())
		require.Equal(t, alice, attr(ask, "kernel.vat").AsString())
		require.Equal(t, "ask", attr(ask, "kernel.method").AsString())
		require.Equal(t, int64(1), attr(ask, "kernel.syscalls.send").AsInt64(), "alice sends hello")
		require.Equal(t, bob, attr(hello, "kernel.vat").AsString())
		require.Equal(t, "hello", attr(hello, "kernel.method").AsString())
		require.Equal(t, int64(1), attr(hello, "kernel.syscalls.resolve").AsInt64(), "bob answers")
		require.Equal(t, "crank notify", notify.Name())
		require.Equal(t, alice, attr(notify, "kernel.vat").AsString())
		for _, s := range cranks {
			require.Positive(t, attr(s, "kernel.flush.rows").AsInt64(), "a durable crank on a file flushes")
			require.GreaterOrEqual(t, attr(s, "kernel.commit_wait").AsFloat64(), 0.0)
		}
		require.Equal(t, attr(ask, "kernel.crank").AsInt64()+1, attr(hello, "kernel.crank").AsInt64())
		require.Equal(t, int64(after.Cranks), attr(notify, "kernel.crank").AsInt64())
	})
}

// A QueueMessage whose ctx carries no span starts a trace of its own at
// the crank that delivers it, with no parent and no link. (On an
// in-memory store, whose flushes are not timed: no kernel.commit_wait.)
func TestTracesWithoutAHostSpan(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		rec := tracetest.NewSpanRecorder()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
		k := start(t, actors.Config{TracerProvider: tp})
		res, err := k.LaunchSubcluster(ctx, twoVats())
		require.NoError(t, err)
		require.NoError(t, k.WaitIdle(ctx))
		n := len(rec.Ended())
		_, err = k.QueueMessage(ctx, res.RootKref, "ask", "host")
		require.NoError(t, err)
		require.NoError(t, k.WaitIdle(ctx))
		spans := rec.Ended()[n:]
		require.Len(t, spans, 3)
		require.False(t, spans[0].Parent().IsValid())
		require.Empty(t, spans[0].Links())
		require.Equal(t, spans[0].SpanContext().TraceID(), spans[2].SpanContext().TraceID())
		require.NotEqual(t, trace.SpanID{}, spans[2].Parent().SpanID())
		for _, s := range spans {
			// An in-memory store has no backend to wait for: its flushes
			// are not timed, and its spans have no commit wait.
			require.Equal(t, attribute.INVALID, attr(s, "kernel.commit_wait").Type(), s.Name())
			require.Equal(t, attribute.INT64, attr(s, "kernel.flush.rows").Type(), s.Name())
		}
	})
}

// A crank a vat's fault aborts is a span with status Error and the
// kernel's code; its item stays at the head of the queue (the terminate
// policy), and the crank that retries it, and splats it, is in the same
// host trace, as a child of the same host span.
func TestTracesOfAnAbortedCrank(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		rec := tracetest.NewSpanRecorder()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
		k := start(t, actors.Config{Registry: troubleRegistry(nil), TracerProvider: tp})
		res, err := k.LaunchSubcluster(ctx, troubleCluster())
		require.NoError(t, err)
		require.NoError(t, k.WaitIdle(ctx))
		n := len(rec.Ended())

		hctx, host := tp.Tracer("host").Start(ctx, "host request")
		_, err = k.QueueMessage(hctx, res.RootKref, "panic")
		require.Error(t, err)
		host.End()
		require.NoError(t, k.WaitIdle(ctx))

		var cranks []sdktrace.ReadOnlySpan
		for _, s := range rec.Ended()[n:] {
			if s.Name() != "host request" {
				cranks = append(cranks, s)
			}
		}
		require.GreaterOrEqual(t, len(cranks), 2)
		failed, retry := cranks[0], cranks[1]
		require.Equal(t, "aborted", attr(failed, "kernel.outcome").AsString())
		require.Equal(t, codes.Error, failed.Status().Code)
		require.Contains(t, failed.Status().Description, "[KERNEL:VAT_FATAL:INTERNAL_ERROR]")
		require.Equal(t, "committed", attr(retry, "kernel.outcome").AsString())
		require.Equal(t, codes.Unset, retry.Status().Code)
		for _, s := range []sdktrace.ReadOnlySpan{failed, retry} {
			require.Equal(t, host.SpanContext().SpanID(), s.Parent().SpanID(), "%s: a child of the host's span", s.Name())
		}
		require.Greater(t, attr(retry, "kernel.crank").AsInt64(), attr(failed, "kernel.crank").AsInt64())
	})
}
