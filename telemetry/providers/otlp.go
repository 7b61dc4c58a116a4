package providers

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// ErrEndpoint is wrapped by New's error for an OTLP endpoint it cannot
// use. (The exporters themselves keep their default endpoint, silently,
// when handed a URL that does not parse; the binary refuses it instead.)
var ErrEndpoint = errors.New("providers: bad OTLP endpoint")

// DefaultOTLPInterval is how often metrics are pushed to a collector.
const DefaultOTLPInterval = 15 * time.Second

// otlpURLs checks a collector's OTLP/HTTP base URL
// (http://127.0.0.1:4318) and returns the URLs of its traces and
// metrics receivers. A URL that names a path is refused: OTLP/HTTP's
// paths are fixed (/v1/traces, /v1/metrics), and a path given by
// mistake would send everything nowhere.
func otlpURLs(endpoint string) (traces, metrics string, err error) {
	u, err := url.Parse(endpoint)
	switch {
	case !strings.Contains(endpoint, "://"):
		return "", "", fmt.Errorf("%w %q: want http://HOST:PORT or https://HOST:PORT (a collector's OTLP/HTTP receiver, port 4318 by default)", ErrEndpoint, endpoint)
	case err != nil:
		return "", "", fmt.Errorf("%w %q: %v", ErrEndpoint, endpoint, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return "", "", fmt.Errorf("%w %q: want http://HOST:PORT or https://HOST:PORT (a collector's OTLP/HTTP receiver, port 4318 by default)", ErrEndpoint, endpoint)
	case u.Host == "":
		return "", "", fmt.Errorf("%w %q: no host", ErrEndpoint, endpoint)
	case strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "":
		return "", "", fmt.Errorf("%w %q: give the receiver's base URL, with no path (the paths /v1/traces and /v1/metrics are added)", ErrEndpoint, endpoint)
	}
	base := u.Scheme + "://" + u.Host
	return base + "/v1/traces", base + "/v1/metrics", nil
}

// CheckEndpoint reports whether endpoint is a collector's OTLP/HTTP base
// URL that New can use, and if not, why (an error wrapping ErrEndpoint).
func CheckEndpoint(endpoint string) error {
	_, _, err := otlpURLs(endpoint)
	return err
}

// newOTLP makes the span and metric exporters for endpoint: a tracer
// provider that batches spans to it, and a periodic reader of metrics.
func newOTLP(ctx context.Context, endpoint string, interval time.Duration, res *resource.Resource) (*sdktrace.TracerProvider, sdkmetric.Reader, error) {
	traces, metrics, err := otlpURLs(endpoint)
	if err != nil {
		return nil, nil, err
	}
	te, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(traces))
	if err != nil {
		return nil, nil, fmt.Errorf("providers: the OTLP span exporter: %w", err)
	}
	me, err := otlpmetrichttp.New(ctx, otlpmetrichttp.WithEndpointURL(metrics))
	if err != nil {
		te.Shutdown(ctx)
		return nil, nil, fmt.Errorf("providers: the OTLP metric exporter: %w", err)
	}
	if interval <= 0 {
		interval = DefaultOTLPInterval
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithBatcher(te))
	return tp, sdkmetric.NewPeriodicReader(me, sdkmetric.WithInterval(interval)), nil
}
