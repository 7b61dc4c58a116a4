//go:build jsvat

package jsvat_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/jsvat"
)

// A traced kernel shows each delivery to a JavaScript worker vat as a
// child span of its crank's: the part of the crank spent in the worker
// process. A ping-pong of two JavaScript vats has one per crank.
func TestJSDeliveriesAreChildSpans(t *testing.T) {
	ctx := context.Background()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	rt := newRuntime(t, jsvat.Options{})
	k := startKernel(t, actors.Config{JS: rt, TracerProvider: tp})
	res, err := k.LaunchSubcluster(ctx, pingPongCluster(t))
	require.NoError(t, err)
	require.NoError(t, k.WaitIdle(ctx))
	n := len(rec.Ended())
	_, err = k.QueueMessage(ctx, res.RootKref, "run", 3)
	require.NoError(t, err)
	require.NoError(t, k.WaitIdle(ctx))

	cranks := map[string]sdktrace.ReadOnlySpan{} // by span id
	var deliveries []sdktrace.ReadOnlySpan
	for _, s := range rec.Ended()[n:] {
		switch {
		case strings.HasPrefix(s.Name(), "crank "):
			cranks[s.SpanContext().SpanID().String()] = s
		case strings.HasPrefix(s.Name(), "deliver "):
			deliveries = append(deliveries, s)
		}
	}
	require.NotEmpty(t, cranks)
	require.Len(t, deliveries, len(cranks), "one worker delivery a crank")
	for _, d := range deliveries {
		c, ok := cranks[d.Parent().SpanID().String()]
		require.True(t, ok, "%s is a child of a crank", d.Name())
		require.Equal(t, c.SpanContext().TraceID(), d.SpanContext().TraceID())
		require.False(t, d.StartTime().Before(c.StartTime()), "within its crank")
		require.False(t, d.EndTime().After(c.EndTime()), "within its crank")
		var runtime string
		for _, kv := range d.Attributes() {
			if kv.Key == "kernel.vat.runtime" {
				runtime = kv.Value.AsString()
			}
		}
		require.Equal(t, "js", runtime)
	}
}
