package providers_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/ocapgo/kernel-actors/telemetry/providers"
)

// A reader given in Options.Readers sees what is recorded on the
// MeterProvider, beside the Prometheus exporter.
func TestExtraReaders(t *testing.T) {
	ctx := context.Background()
	reader := sdkmetric.NewManualReader()
	p, err := providers.New(ctx, providers.Options{Readers: []sdkmetric.Reader{reader}})
	require.NoError(t, err)
	c, err := p.MeterProvider.Meter("test").Int64Counter("things")
	require.NoError(t, err)
	c.Add(ctx, 5)
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(ctx, &rm))
	require.Len(t, rm.ScopeMetrics, 1)
	sum := rm.ScopeMetrics[0].Metrics[0].Data.(metricdata.Sum[int64])
	require.Equal(t, int64(5), sum.DataPoints[0].Value)
	require.NoError(t, p.Shutdown(ctx))
}
