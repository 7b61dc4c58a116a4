package bench

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/ocapgo/kernel-actors/actors"
)

// Telemetry configurations a run can measure (Options.Telemetry): the
// kernel with no MeterProvider or TracerProvider (off), with an SDK
// MeterProvider and a manual reader (metrics, what serve has behind
// /metrics), with an SDK TracerProvider that samples Options.TraceSample
// of the host's requests and exports nothing (traces), and with both.
const (
	TelemetryOff     = "off"
	TelemetryMetrics = "metrics"
	TelemetryTraces  = "traces"
	TelemetryBoth    = "both"
)

// Telemetries are the configurations, in the order the help lists them.
func Telemetries() []string {
	return []string{TelemetryOff, TelemetryMetrics, TelemetryTraces, TelemetryBoth}
}

// Extra keys a repetition under telemetry reports: what its providers saw
// over the whole repetition (set-up and warm-up included), so a run shows
// that the telemetry it claims to measure was on.
const (
	// ExtraMeteredCranks is the cranks the MeterProvider's kernel.cranks
	// counter holds at the end of the repetition.
	ExtraMeteredCranks = "metered_cranks"
	// ExtraSpans is the spans the TracerProvider ended (the sampled ones).
	ExtraSpans = "spans"
)

// checkTelemetry fills o.Telemetry's default and refuses what a run
// cannot take, naming the field.
func (o *Options) checkTelemetry() error {
	if len(o.Telemetry) == 0 {
		o.Telemetry = []string{TelemetryOff}
	}
	for i, t := range o.Telemetry {
		if !slices.Contains(Telemetries(), t) {
			return fmt.Errorf("%w: Telemetry[%d] is %q; want one of %s", ErrBadOptions, i, t, strings.Join(Telemetries(), ", "))
		}
		if slices.Index(o.Telemetry, t) != i {
			return fmt.Errorf("%w: Telemetry names %q twice", ErrBadOptions, t)
		}
	}
	switch {
	case o.TraceSample == 0:
		o.TraceSample = 1
	case !(o.TraceSample > 0 && o.TraceSample <= 1): // NaN too
		return fmt.Errorf("%w: TraceSample is %v; want a fraction in (0, 1]", ErrBadOptions, o.TraceSample)
	}
	return nil
}

// providers are one repetition's telemetry: what it set in the kernel's
// Config, and what reads their counts back at the end.
type providers struct {
	mp     *sdkmetric.MeterProvider
	reader *sdkmetric.ManualReader
	tp     *sdktrace.TracerProvider
	spans  *spanCounter
}

// newProviders makes the providers of configuration t and sets them in
// cfg. Off makes none.
func newProviders(t string, sample float64, cfg *actors.Config) *providers {
	p := &providers{}
	if t == TelemetryMetrics || t == TelemetryBoth {
		p.reader = sdkmetric.NewManualReader()
		p.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(p.reader))
		cfg.MeterProvider = p.mp
	}
	if t == TelemetryTraces || t == TelemetryBoth {
		// Parent-based, as docs/observability.md advises: a host request
		// is sampled at the ratio, and the cranks it causes follow it.
		p.spans = &spanCounter{}
		p.tp = sdktrace.NewTracerProvider(
			sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(sample))),
			sdktrace.WithSpanProcessor(p.spans))
		cfg.TracerProvider = p.tp
	}
	return p
}

// counts reads what the providers saw into extra, after the kernel has
// stopped (its Stop hands the metrics their last counts).
func (p *providers) counts(ctx context.Context, extra map[string]float64) error {
	if p.reader != nil {
		var rm metricdata.ResourceMetrics
		if err := p.reader.Collect(ctx, &rm); err != nil {
			return fmt.Errorf("bench: reading the metrics: %w", err)
		}
		var cranks int64
		for _, sm := range rm.ScopeMetrics {
			for _, m := range sm.Metrics {
				if sum, ok := m.Data.(metricdata.Sum[int64]); ok && m.Name == "kernel.cranks" {
					for _, dp := range sum.DataPoints {
						cranks += dp.Value
					}
				}
			}
		}
		extra[ExtraMeteredCranks] = float64(cranks)
	}
	if p.spans != nil {
		extra[ExtraSpans] = float64(p.spans.ended.Load())
	}
	return nil
}

// shutdown releases the providers.
func (p *providers) shutdown(ctx context.Context) error {
	var errs []error
	if p.mp != nil {
		errs = append(errs, p.mp.Shutdown(ctx))
	}
	if p.tp != nil {
		errs = append(errs, p.tp.Shutdown(ctx))
	}
	return errors.Join(errs...)
}

// spanCounter counts ended spans and keeps none: the traces
// configuration pays for making and ending spans, not for exporting them.
type spanCounter struct{ ended atomic.Int64 }

func (c *spanCounter) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (c *spanCounter) OnEnd(sdktrace.ReadOnlySpan)                     { c.ended.Add(1) }
func (c *spanCounter) Shutdown(context.Context) error                  { return nil }
func (c *spanCounter) ForceFlush(context.Context) error                { return nil }

// Cost is what one telemetry configuration cost a workload, against the
// first configuration of the run (Options.Telemetry[0], off by default).
type Cost struct {
	Workload, Telemetry string
	// CrankTime is the median over the repetitions of the wall time a
	// crank took under Telemetry over the time a crank took under the
	// first configuration in the same repetition (1.05: 5% slower).
	// Pairing each repetition's runs, which ran one after another,
	// leaves out most of a shared machine's drift.
	CrankTime float64
	// CranksPerSec is the median crank rate under Telemetry.
	CranksPerSec float64
}

// Costs pairs the results of an interleaved run (Run with more than one
// Telemetry configuration) by workload and repetition, and returns the
// cost of each configuration after the first. rs may hold several
// workloads' runs; median lines are skipped.
func Costs(rs []Result) []Cost {
	type run struct {
		workload string
		rep      int
	}
	type config struct{ workload, telemetry string }
	first := map[string]string{} // each workload's first configuration
	base := map[run]Result{}     // its runs, by repetition
	var order []config           // the other configurations, in order
	for _, r := range rs {
		if r.Median {
			continue
		}
		if _, ok := first[r.Workload]; !ok {
			first[r.Workload] = r.Params.Telemetry
		}
		c := config{r.Workload, r.Params.Telemetry}
		switch {
		case c.telemetry == first[r.Workload]:
			base[run{r.Workload, r.Rep}] = r
		case !slices.Contains(order, c):
			order = append(order, c)
		}
	}
	perCrank := func(r Result) float64 { return r.WallMS / float64(r.Cranks) }
	var out []Cost
	for _, c := range order {
		var ratios, rates []float64
		for _, r := range rs {
			b, ok := base[run{r.Workload, r.Rep}]
			if r.Median || (config{r.Workload, r.Params.Telemetry}) != c || !ok || r.Cranks == 0 || b.Cranks == 0 {
				continue
			}
			ratios = append(ratios, perCrank(r)/perCrank(b))
			rates = append(rates, r.CranksPerSec)
		}
		out = append(out, Cost{Workload: c.workload, Telemetry: c.telemetry, CrankTime: median(ratios), CranksPerSec: median(rates)})
	}
	return out
}
