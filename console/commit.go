package console

import (
	"context"
	"math"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// flushMetric is the kernel's histogram of flush durations
// (docs/observability.md): one flush is one commit to the file.
const flushMetric = "kernel.flush.duration"

// commitReader reads the flush histogram from the hub's metric reader.
// The reader's data is cumulative; a Point's figures are differences of
// two reads.
//
// The figures come from the kernel's own histogram rather than from a
// hook of the console's: the kernel already times each flush for its
// metrics, and a second clock read on the commit path would be a cost
// for a view that may not be open.
type commitReader struct{}

// flushTotals are the flush histogram's cumulative totals.
type flushTotals struct {
	count  uint64
	sum    float64 // seconds
	bounds []float64
	counts []uint64
}

// read collects the reader and sums the flush histogram's points; a
// reader not (yet) registered with a provider gives zeros.
func (commitReader) read(ctx context.Context, r *sdkmetric.ManualReader) flushTotals {
	var rm metricdata.ResourceMetrics
	if err := r.Collect(ctx, &rm); err != nil {
		// Not registered (a program that did not add Reader to its
		// provider) or shut down: no figures, the chart stays flat.
		return flushTotals{}
	}
	var t flushTotals
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != flushMetric {
				continue
			}
			h, ok := m.Data.(metricdata.Histogram[float64])
			if !ok {
				continue
			}
			// One point per attribute set; the flush histogram has none
			// today, and summing keeps this right if it gains some.
			for _, dp := range h.DataPoints {
				t.count += dp.Count
				t.sum += dp.Sum
				if t.counts == nil {
					t.bounds = dp.Bounds
					t.counts = make([]uint64, len(dp.BucketCounts))
				}
				for i := range min(len(t.counts), len(dp.BucketCounts)) {
					t.counts[i] += dp.BucketCounts[i]
				}
			}
		}
	}
	return t
}

// since gives the flushes between prev and t, their mean in milliseconds,
// and the upper bound (ms) of the bucket holding their 99th percentile
// (the last bound when it lies past them all).
func (t flushTotals) since(prev flushTotals) (n uint64, meanMs, p99Ms float64) {
	if t.count <= prev.count {
		return 0, 0, 0
	}
	n = t.count - prev.count
	// Cumulative totals: the interval's mean is the difference of sums
	// over the difference of counts.
	meanMs = (t.sum - prev.sum) / float64(n) * 1000
	// The smallest bucket whose cumulative count reaches 99% of the
	// interval's flushes: a histogram gives a bound, not the value.
	want := uint64(math.Ceil(float64(n) * 0.99))
	var seen uint64
	for i, c := range t.counts {
		if i < len(prev.counts) {
			c -= prev.counts[i]
		}
		seen += c
		if seen >= want {
			if i < len(t.bounds) {
				return n, meanMs, t.bounds[i] * 1000
			}
			break
		}
	}
	// Past the last bound (the +Inf bucket): the last bound is the best
	// the histogram can say, "at least this".
	if len(t.bounds) > 0 {
		p99Ms = t.bounds[len(t.bounds)-1] * 1000
	}
	return n, meanMs, p99Ms
}
