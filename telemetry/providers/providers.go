package providers

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
)

// ServiceName is the service.name resource attribute of everything the
// binary exports.
const ServiceName = "kernel-actors"

// Options say what to build.
type Options struct {
	// Version, if set, is the service.version resource attribute.
	Version string
}

// Providers are the SDK providers of one kernel process.
type Providers struct {
	// MeterProvider is for actors.Config.MeterProvider.
	MeterProvider *sdkmetric.MeterProvider
	// Metrics serves the MeterProvider's metrics as Prometheus text, for
	// control.Server.Metrics.
	Metrics http.Handler
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
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithResource(res), sdkmetric.WithReader(exp))
	return &Providers{
		MeterProvider: mp,
		Metrics:       promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}),
	}, nil
}

// Shutdown flushes and stops the providers. Call it after the kernel has
// stopped.
func (p *Providers) Shutdown(ctx context.Context) error {
	var errs []error
	if err := p.MeterProvider.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("providers: metrics: %w", err))
	}
	return errors.Join(errs...)
}
