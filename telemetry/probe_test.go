package telemetry_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/goleak"

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
// flushes settled at once share their rows out. It reads the counters only
// once a flush has reached its commit.
func TestFlushProbe(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	m, err := telemetry.NewMetrics(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)), telemetry.MetricsOptions{})
	t.Cleanup(func() { m.Close() })
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
	reads := 0
	p := &telemetry.FlushProbe{Inner: inner, Now: clock.now, Metrics: m, Stats: func() persistence.Stats { reads++; return stats }}

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
	// No flush has reached its commit since: Settle does not read the
	// store's counters (they cannot have moved).
	before := reads
	p.Settle()
	require.Equal(t, before, reads)
	stats.Flushes += 2 // two flushes in one piece of work: 9 rows between them
	stats.Rows += 9
	require.NoError(t, p.Fault(persistence.FaultAfterCommit)) // the second's last boundary
	p.Settle()
	require.Equal(t, before+1, reads)
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

// Cranks and syscalls are summed by Metrics and reach the SDK's counters
// at Flush (or Publish), all at once; so do the durations, which reach
// their histograms at Flush or when a batch of them is full.
func TestCountsReachTheCountersAtFlush(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	m, err := telemetry.NewMetrics(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)), telemetry.MetricsOptions{})
	t.Cleanup(func() { m.Close() })
	require.NoError(t, err)
	read := func() (cranks, sends int64, durations uint64) {
		tot := collectTotals(t, reader)
		return tot["kernel.cranks"], tot["kernel.syscalls/send"], uint64(tot["kernel.crank.duration"])
	}
	var c telemetry.SyscallCounts
	c[kernel.SyscallSend] = 2
	for i := 0; i < 3; i++ {
		m.Crank("v1", kernel.WorkSend, kernel.Committed, time.Millisecond)
		m.Syscalls(&c)
	}
	cranks, sends, durations := read()
	require.Zero(t, cranks)
	require.Zero(t, sends)
	require.Zero(t, durations)
	m.Publish(telemetry.Gauges{})
	cranks, sends, durations = read()
	require.Equal(t, int64(3), cranks)
	require.Equal(t, int64(6), sends)
	require.Equal(t, uint64(3), durations)
	m.Flush() // nothing more to add
	cranks, _, durations = read()
	require.Equal(t, int64(3), cranks)
	require.Equal(t, uint64(3), durations)

	// A busy kernel that does not Flush for a while still gets its
	// durations recorded, a full batch at a time: the batch is bounded.
	for range telemetry.DurBatch + 1 {
		m.Crank("v1", kernel.WorkSend, kernel.Committed, time.Millisecond)
	}
	_, _, durations = read()
	require.Equal(t, uint64(3+telemetry.DurBatch), durations)
	m.Flush()
	_, _, durations = read()
	require.Equal(t, uint64(3+telemetry.DurBatch+1), durations)
}

// The recorder adds batches off the recording goroutine: however many
// batches a busy kernel fills (the recorder behind or not), every crank,
// syscall and duration is counted once, a collection after Flush sees
// them all, and Close records what is left and ends the goroutine.
func TestRecorderCountsEveryBatchOnce(t *testing.T) {
	before := goleak.IgnoreCurrent()
	reader := sdkmetric.NewManualReader()
	m, err := telemetry.NewMetrics(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)), telemetry.MetricsOptions{VatSeries: 2})
	require.NoError(t, err)
	totals := func() (cranks, syscalls int64, crankDurs, deliveryDurs uint64) {
		tot := collectTotals(t, reader)
		return tot["kernel.cranks"], tot["kernel.syscalls"], uint64(tot["kernel.crank.duration"]), uint64(tot["kernel.delivery.duration"])
	}
	var c telemetry.SyscallCounts
	c[kernel.SyscallSend] = 1
	const n = 10*telemetry.DurBatch + 7
	vats := []kernel.VatID{"v1", "v2", "v3", ""} // v3 is past VatSeries: "other"
	for i := range n {
		v := vats[i%len(vats)]
		m.Delivery(v, kernel.DeliverMessage, time.Microsecond)
		m.Syscalls(&c)
		m.Crank(v, kernel.WorkSend, kernel.Committed, time.Microsecond)
		if i%1000 == 999 {
			m.Publish(telemetry.Gauges{}) // now and then, as the kernel actor does
		}
	}
	m.Flush()
	cranks, syscalls, crankDurs, deliveryDurs := totals()
	require.Equal(t, int64(n), cranks)
	require.Equal(t, int64(n), syscalls)
	require.Equal(t, uint64(n), crankDurs)
	require.Equal(t, uint64(n), deliveryDurs)

	m.Crank("v1", kernel.WorkSend, kernel.Committed, time.Microsecond)
	require.NoError(t, m.Close()) // records the one crank not yet flushed
	require.NoError(t, m.Close()) // and a second Close is harmless
	_, _, crankDurs, _ = totals()
	require.Equal(t, uint64(n+1), crankDurs)
	goleak.VerifyNone(t, before) // the recorder's goroutine is gone
}

// collectTotals reads reader once and sums each instrument over its data
// points: a counter's value under its name (and under name/kind for the
// points with a kind attribute), a histogram's count under its name.
func collectTotals(t *testing.T, reader *sdkmetric.ManualReader) map[string]int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	tot := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, mm := range sm.Metrics {
			switch d := mm.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					tot[mm.Name] += p.Value
					if v, ok := p.Attributes.Value("kind"); ok {
						tot[mm.Name+"/"+v.AsString()] += p.Value
					}
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					tot[mm.Name] += int64(p.Count)
				}
			}
		}
	}
	return tot
}
