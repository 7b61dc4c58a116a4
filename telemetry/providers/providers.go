package providers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
)

// ServiceName is the service.name resource attribute of everything the
// binary exports.
const ServiceName = "kernel-actors"

// Options say what to build.
type Options struct {
	// Version, if set, is the service.version resource attribute.
	Version string
	// OTLPEndpoint, if set, is a collector's OTLP/HTTP receiver
	// (http://127.0.0.1:4318): spans go to it, batched, and metrics every
	// OTLPInterval (beside /metrics). "" exports to no collector, and
	// makes no TracerProvider.
	OTLPEndpoint string
	// OTLPInterval is how often metrics are pushed; 0 means
	// DefaultOTLPInterval.
	OTLPInterval time.Duration
	// Readers are more metric readers for the MeterProvider, beside the
	// Prometheus exporter's: a live view reading the kernel's histograms
	// in process (serve's console reads the flush durations).
	Readers []sdkmetric.Reader
}

// Providers are the SDK providers of one kernel process.
type Providers struct {
	// MeterProvider is for actors.Config.MeterProvider.
	MeterProvider *sdkmetric.MeterProvider
	// Metrics serves the MeterProvider's metrics as Prometheus text, for
	// control.Server.Metrics.
	Metrics http.Handler
	// TracerProvider is for actors.Config.TracerProvider; nil without an
	// OTLPEndpoint (spans would have nowhere to go).
	TracerProvider *sdktrace.TracerProvider
}

// New builds the providers.
func New(ctx context.Context, opts Options) (*Providers, error) {
	attrs := []attribute.KeyValue{semconv.ServiceName(ServiceName)}
	if opts.Version != "" {
		attrs = append(attrs, semconv.ServiceVersion(opts.Version))
	}
	res := resource.NewWithAttributes(semconv.SchemaURL, attrs...)
	// A registry of our own: the default one is global state, and would
	// also carry whatever else in the process registered there.
	reg := prometheus.NewRegistry()
	exp, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return nil, fmt.Errorf("providers: the Prometheus exporter: %w", err)
	}
	mopts := []sdkmetric.Option{sdkmetric.WithResource(res), sdkmetric.WithReader(exp)}
	p := &Providers{Metrics: promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})}
	if opts.OTLPEndpoint != "" {
		tp, reader, err := newOTLP(ctx, opts.OTLPEndpoint, opts.OTLPInterval, res)
		if err != nil {
			return nil, err
		}
		p.TracerProvider = tp
		mopts = append(mopts, sdkmetric.WithReader(reader))
	}
	for _, r := range opts.Readers {
		mopts = append(mopts, sdkmetric.WithReader(r))
	}
	p.MeterProvider = sdkmetric.NewMeterProvider(mopts...)
	return p, nil
}

// Shutdown flushes and stops the providers. Call it after the kernel has
// stopped.
func (p *Providers) Shutdown(ctx context.Context) error {
	var errs []error
	if p.TracerProvider != nil {
		// Exports the spans still batched.
		if err := p.TracerProvider.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("providers: traces: %w", err))
		}
	}
	// Collects and exports the metrics one last time.
	if err := p.MeterProvider.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("providers: metrics: %w", err))
	}
	return errors.Join(errs...)
}
