// Package providers builds the OpenTelemetry SDK providers that the
// kernel-actors binary runs a kernel with: a MeterProvider whose metrics
// are served as Prometheus text (for serve's /metrics), and, when asked,
// exporters to an OpenTelemetry collector.
//
// It is apart from package telemetry so that a program that embeds a
// kernel and brings its own MeterProvider does not link the SDK or the
// exporters: telemetry needs only the OpenTelemetry API.
//
// It owns no global state: the Prometheus registry is its own (not
// prometheus.DefaultRegisterer), and nothing is installed as
// OpenTelemetry's global provider.
//
// # Usage
//
//	p, err := providers.New(ctx, providers.Options{OTLPEndpoint: "http://127.0.0.1:4318"})
//	cfg := actors.Config{MeterProvider: p.MeterProvider, ...}
//	if p.TracerProvider != nil {
//		cfg.TracerProvider = p.TracerProvider // not a typed nil
//	}
//	k, err := actors.Start(ctx, cfg)
//	srv := &control.Server{Kernel: k, Metrics: p.Metrics, ...}
//	...
//	k.Stop(ctx)
//	p.Shutdown(ctx) // after the kernel: its last measurements go out
//
// The caller's duties: shut the providers down after the kernel has
// stopped, with a context that bounds how long a collector may take.
package providers
