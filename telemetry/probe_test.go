package telemetry_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/telemetry"
)

// fakeClock advances by step at every reading.
type fakeClock struct {
	t    time.Time
	step time.Duration
}

func (c *fakeClock) now() time.Time { c.t = c.t.Add(c.step); return c.t }

func histogram(t *testing.T, r *sdkmetric.ManualReader, name string) metricdata.HistogramDataPoint[int64] {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, r.Collect(context.Background(), &rm))
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				return m.Data.(metricdata.Histogram[int64]).DataPoints[0]
			}
		}
	}
	t.Fatalf("no %s", name)
	return metricdata.HistogramDataPoint[int64]{}
}

// The probe times a flush from before BEGIN to after COMMIT, passes every
// point on to its inner injector (whose error still fails the flush), and
// records each flush's rows from the store's counter once it is over; two
// flushes settled at once share their rows out.
func TestFlushProbe(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	m, err := telemetry.NewMetrics(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)), telemetry.MetricsOptions{})
	require.NoError(t, err)
	var stats persistence.Stats
	var seen []persistence.FaultPoint
	boom := errors.New("boom")
	inner := faultFunc(func(p persistence.FaultPoint) error {
		seen = append(seen, p)
		if p == persistence.FaultBeforeCommit && len(seen) > 3 {
			return boom
		}
		return nil
	})
	clock := &fakeClock{t: time.Unix(0, 0), step: time.Millisecond}
	p := &telemetry.FlushProbe{Inner: inner, Now: clock.now, Metrics: m, Stats: func() persistence.Stats { return stats }}

	flush := func(rows uint64) error {
		for _, pt := range []persistence.FaultPoint{persistence.FaultBeforeBegin, persistence.FaultBeforeCommit, persistence.FaultAfterCommit} {
			if err := p.Fault(pt); err != nil {
				return err
			}
		}
		stats.Flushes++
		stats.Rows += rows
		return nil
	}
	require.NoError(t, flush(7))
	require.Equal(t, time.Millisecond, p.TakeWait(), "BEGIN to COMMIT, one clock step")
	require.Zero(t, p.TakeWait())
	require.ErrorIs(t, flush(100), boom, "the inner injector's fault fails the flush")
	require.Len(t, seen, 5)
	p.Settle()
	require.Equal(t, uint64(1), histogram(t, reader, "kernel.flush.rows").Count, "the failed flush wrote nothing")
	stats.Flushes += 2 // two flushes in one piece of work: 9 rows between them
	stats.Rows += 9
	p.Settle()
	h := histogram(t, reader, "kernel.flush.rows")
	require.Equal(t, uint64(3), h.Count)
	require.Equal(t, int64(16), h.Sum)
	max, _ := h.Max.Value()
	require.Equal(t, int64(7), max)
}

type faultFunc func(persistence.FaultPoint) error

func (f faultFunc) Fault(p persistence.FaultPoint) error { return f(p) }

// The syscall counter counts by kind and passes every syscall on.
func TestSyscallCounter(t *testing.T) {
	var got []kernel.SyscallKind
	var c telemetry.SyscallCounter
	c.Reset(syscallFunc(func(s kernel.Syscall) kernel.SyscallResult {
		got = append(got, s.Kind)
		return kernel.SyscallResult{Found: true}
	}))
	for _, k := range []kernel.SyscallKind{kernel.SyscallSend, kernel.SyscallSend, kernel.SyscallResolve} {
		require.True(t, c.Syscall(kernel.Syscall{Kind: k}).Found)
	}
	require.Equal(t, []kernel.SyscallKind{kernel.SyscallSend, kernel.SyscallSend, kernel.SyscallResolve}, got)
	require.Equal(t, uint32(2), c.Counts[kernel.SyscallSend])
	require.Equal(t, 3, c.Counts.Total())
	c.Reset(nil)
	require.Zero(t, c.Counts.Total())
}

type syscallFunc func(kernel.Syscall) kernel.SyscallResult

func (f syscallFunc) Syscall(s kernel.Syscall) kernel.SyscallResult { return f(s) }

// NewMetrics refuses a nil MeterProvider and a negative VatSeries.
func TestNewMetricsRefusesBadOptions(t *testing.T) {
	_, err := telemetry.NewMetrics(nil, telemetry.MetricsOptions{})
	require.ErrorIs(t, err, telemetry.ErrOptions)
	mp := sdkmetric.NewMeterProvider()
	_, err = telemetry.NewMetrics(mp, telemetry.MetricsOptions{VatSeries: -1})
	require.ErrorIs(t, err, telemetry.ErrOptions)
	require.ErrorContains(t, err, "VatSeries")
}
