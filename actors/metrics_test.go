package actors_test

import (
	"context"
	"path/filepath"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/goleak"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/persistence"
)

// readings is one collection of a manual reader, by instrument name.
type readings map[string]metricdata.Aggregation

func collect(t *testing.T, r *sdkmetric.ManualReader) readings {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, r.Collect(context.Background(), &rm))
	out := readings{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			out[m.Name] = m.Data
		}
	}
	return out
}

// matches reports whether set has every attribute of want (key=value).
func matches(set attribute.Set, want []string) bool {
	for i := 0; i+1 < len(want); i += 2 {
		v, ok := set.Value(attribute.Key(want[i]))
		if !ok || v.Emit() != want[i+1] {
			return false
		}
	}
	return true
}

// sum adds up the counter (or gauge) points of name whose attributes
// include want.
func (rs readings) sum(t *testing.T, name string, want ...string) int64 {
	t.Helper()
	var n int64
	switch d := rs[name].(type) {
	case metricdata.Sum[int64]:
		for _, p := range d.DataPoints {
			if matches(p.Attributes, want) {
				n += p.Value
			}
		}
	case metricdata.Gauge[int64]:
		for _, p := range d.DataPoints {
			if matches(p.Attributes, want) {
				n += p.Value
			}
		}
	case nil:
	default:
		t.Fatalf("%s is a %T, not a counter or gauge", name, d)
	}
	return n
}

// count adds up the number of measurements, and their sum, of the
// histogram name whose attributes include want.
func (rs readings) count(t *testing.T, name string, want ...string) (n uint64, total float64) {
	t.Helper()
	switch d := rs[name].(type) {
	case metricdata.Histogram[float64]:
		for _, p := range d.DataPoints {
			if matches(p.Attributes, want) {
				n += p.Count
				total += p.Sum
			}
		}
	case metricdata.Histogram[int64]:
		for _, p := range d.DataPoints {
			if matches(p.Attributes, want) {
				n += p.Count
				total += float64(p.Sum)
			}
		}
	case nil:
	default:
		t.Fatalf("%s is a %T, not a histogram", name, d)
	}
	return n, total
}

// series lists the values attribute key takes among name's points.
func (rs readings) series(name, key string) map[string]bool {
	out := map[string]bool{}
	add := func(set attribute.Set) {
		if v, ok := set.Value(attribute.Key(key)); ok {
			out[v.Emit()] = true
		}
	}
	switch d := rs[name].(type) {
	case metricdata.Sum[int64]:
		for _, p := range d.DataPoints {
			add(p.Attributes)
		}
	case metricdata.Histogram[float64]:
		for _, p := range d.DataPoints {
			add(p.Attributes)
		}
	}
	return out
}

// The metrics of a known workload on a file: launch alice and bob, then
// n asks, each of which is three cranks (the host's ask to alice; alice's
// hello to bob; the notify of bob's answer back to alice). Every counter
// agrees with what the kernel reports of itself (Status, the store's
// counters), and the cranks, syscalls and host requests have the counts
// the workload implies.
func TestMetricsOfAKnownWorkload(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ignore := goleak.IgnoreCurrent()
		ctx := context.Background()
		reader := sdkmetric.NewManualReader()
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
		k, err := actors.Start(ctx, actors.Config{
			Registry:      registry(),
			DBPath:        filepath.Join(t.TempDir(), "k.db"),
			MeterProvider: mp,
		})
		require.NoError(t, err)
		res, err := k.LaunchSubcluster(ctx, twoVats())
		require.NoError(t, err)
		launchCranks, err := k.Status(ctx)
		require.NoError(t, err)
		const n = 5
		for i := 0; i < n; i++ {
			_, err = k.QueueMessage(ctx, res.RootKref, "ask", "host")
			require.NoError(t, err)
		}
		require.NoError(t, k.WaitIdle(ctx))
		st, err := k.Status(ctx)
		require.NoError(t, err)
		var stats persistence.Stats
		var promises int
		require.NoError(t, k.ReadStore(ctx, func(s *persistence.Store) error {
			stats, promises = s.Stats(), s.PromiseCount()
			return nil
		}))
		rs := collect(t, reader)

		// Cranks: every crank run is counted once, by kind and outcome;
		// the asks add 2n sends and n notifies, all committed.
		require.Equal(t, int64(st.CranksRun), rs.sum(t, "kernel.cranks"))
		require.Equal(t, int64(st.CranksRun-launchCranks.CranksRun), int64(3*n))
		require.Equal(t, int64(st.CranksRun), rs.sum(t, "kernel.cranks", "outcome", "committed"))
		sends := rs.sum(t, "kernel.cranks", "kind", "send")
		notifies := rs.sum(t, "kernel.cranks", "kind", "notify")
		require.GreaterOrEqual(t, sends, int64(2*n))
		require.GreaterOrEqual(t, notifies, int64(n))
		got, _ := rs.count(t, "kernel.crank.duration")
		require.Equal(t, st.CranksRun, got, "one duration per crank")
		// Deliveries: one per crank that delivered, plus the two startVats
		// of the launch.
		got, _ = rs.count(t, "kernel.delivery.duration", "kind", "startVat")
		require.Equal(t, uint64(2), got)
		got, _ = rs.count(t, "kernel.delivery.duration", "kind", "message")
		require.Equal(t, uint64(sends), got)
		// Syscalls: each ask makes alice send hello (with a subscribe to
		// its result), and bob resolve it, and alice resolve the host's.
		require.GreaterOrEqual(t, rs.sum(t, "kernel.syscalls", "kind", "send"), int64(n))
		require.GreaterOrEqual(t, rs.sum(t, "kernel.syscalls", "kind", "resolve"), int64(2*n))
		require.Zero(t, rs.sum(t, "kernel.syscalls", "kind", "exit"))
		// Flushes: one duration per flush of the store, and the rows
		// per flush add up to the store's own row counter.
		got, _ = rs.count(t, "kernel.flush.duration")
		require.Equal(t, stats.Flushes, got)
		got, rows := rs.count(t, "kernel.flush.rows")
		require.Equal(t, stats.Flushes, got)
		require.Equal(t, float64(stats.Rows), rows)
		// Host requests, by kind and outcome.
		require.Equal(t, int64(n), rs.sum(t, "kernel.host.requests", "kind", "queue_message", "outcome", "ok"))
		require.Equal(t, int64(1), rs.sum(t, "kernel.host.requests", "kind", "launch", "outcome", "ok"))
		require.Equal(t, int64(1), rs.sum(t, "kernel.host.requests", "kind", "resume", "outcome", "ok"))
		require.Zero(t, rs.sum(t, "kernel.host.requests", "outcome", "error"))
		// Gauges, published when the kernel went idle.
		require.Zero(t, rs.sum(t, "kernel.run_queue.length"))
		require.Equal(t, int64(promises), rs.sum(t, "kernel.promises"))
		require.Equal(t, int64(2), rs.sum(t, "kernel.vats", "state", "running"))
		require.Zero(t, rs.sum(t, "kernel.vats", "state", "restarting"))
		// No per-vat series unless asked for.
		require.Empty(t, rs.series("kernel.cranks", "vat"))

		require.NoError(t, k.Stop(ctx))
		require.NoError(t, mp.Shutdown(ctx))
		settle()
		goleak.VerifyNone(t, ignore)
	})
}

// Restarts and terminations are counted by reason: a vat under the
// restart policy that panics is restarted (failure), one the host
// restarts is too (host), and one the host terminates is terminated
// (host); the failed crank is counted as aborted.
func TestMetricsOfRestartsAndTerminations(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		reader := sdkmetric.NewManualReader()
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
		k := start(t, actors.Config{Registry: troubleRegistry(nil), MeterProvider: mp})
		cfg := troubleCluster()
		tr := cfg.Vats["trouble"]
		tr.FailurePolicy = kernel.PolicyRestart
		cfg.Vats["trouble"] = tr
		res, err := k.LaunchSubcluster(ctx, cfg)
		require.NoError(t, err)
		_, err = k.QueueMessage(ctx, res.RootKref, "panic")
		require.Error(t, err)
		require.NoError(t, k.WaitIdle(ctx))
		trouble := res.VatIDs["trouble"]
		require.NoError(t, k.RestartVat(ctx, trouble))
		require.NoError(t, k.TerminateVat(ctx, res.VatIDs["bob"], "test"))
		require.NoError(t, k.WaitIdle(ctx))
		rs := collect(t, reader)

		require.Equal(t, int64(1), rs.sum(t, "kernel.vat.restarts", "reason", "failure"))
		require.Equal(t, int64(1), rs.sum(t, "kernel.vat.restarts", "reason", "host"))
		require.Equal(t, int64(1), rs.sum(t, "kernel.vat.terminations", "reason", "host"))
		require.Equal(t, int64(1), rs.sum(t, "kernel.vat.terminations"))
		require.Equal(t, int64(1), rs.sum(t, "kernel.cranks", "kind", "send", "outcome", "aborted"))
		require.Equal(t, int64(1), rs.sum(t, "kernel.host.requests", "kind", "queue_message", "outcome", "error"))
		require.Equal(t, int64(2), rs.sum(t, "kernel.vats", "state", "running"), "trouble and illegal; bob is gone")
	})
}

// Per-vat series are opt-in and bounded: with MetricsVatSeries 1 the
// first vat to crank has series of its own (with its name), and every
// other vat shares vat="other".
func TestMetricsPerVatSeriesAreBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		reader := sdkmetric.NewManualReader()
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
		k := start(t, actors.Config{MeterProvider: mp, MetricsVatSeries: 1})
		res, err := k.LaunchSubcluster(ctx, twoVats())
		require.NoError(t, err)
		_, err = k.QueueMessage(ctx, res.RootKref, "ask", "host")
		require.NoError(t, err)
		require.NoError(t, k.WaitIdle(ctx))
		rs := collect(t, reader)

		vats := rs.series("kernel.cranks", "vat")
		require.Len(t, vats, 2, "one vat of its own, and other: %v", vats)
		require.True(t, vats["other"])
		names := rs.series("kernel.cranks", "vat.name")
		require.Len(t, names, 1)
		require.Equal(t, rs.sum(t, "kernel.cranks"), rs.sum(t, "kernel.cranks", "vat", "other")+
			rs.sum(t, "kernel.cranks", "vat", string(res.VatIDs["alice"]))+rs.sum(t, "kernel.cranks", "vat", string(res.VatIDs["bob"])))
		require.Len(t, rs.series("kernel.delivery.duration", "vat"), 2)
	})
}

// A MeterProvider does not take Config.StoreFaults' place: the fault
// injector still sees every commit boundary of every flush.
func TestMetricsKeepStoreFaults(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		faults := &countFaults{}
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
		k := start(t, actors.Config{MeterProvider: mp, StoreFaults: faults})
		_, err := k.LaunchSubcluster(ctx, twoVats())
		require.NoError(t, err)
		require.NoError(t, k.WaitIdle(ctx))
		var stats persistence.Stats
		require.NoError(t, k.ReadStore(ctx, func(s *persistence.Store) error { stats = s.Stats(); return nil }))
		require.NotZero(t, stats.Flushes)
		require.Equal(t, stats.Flushes, faults.points[persistence.FaultAfterCommit])
		require.Equal(t, stats.Flushes, faults.points[persistence.FaultBeforeBegin])
	})
}

// countFaults counts the commit boundaries it is called at (on the kernel
// actor's goroutine, read once the kernel is idle).
type countFaults struct {
	points map[persistence.FaultPoint]uint64
}

func (c *countFaults) Fault(p persistence.FaultPoint) error {
	if c.points == nil {
		c.points = map[persistence.FaultPoint]uint64{}
	}
	c.points[p]++
	return nil
}

// A negative MetricsVatSeries is refused, naming the field.
func TestMetricsVatSeriesMustNotBeNegative(t *testing.T) {
	_, err := actors.Start(context.Background(), actors.Config{Registry: registry(), MetricsVatSeries: -1})
	require.ErrorIs(t, err, actors.ErrConfig)
	require.ErrorContains(t, err, "MetricsVatSeries")
}
