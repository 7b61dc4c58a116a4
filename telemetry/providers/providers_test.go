package providers_test

import (
	"context"
	"io"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/telemetry/providers"
)

// What is recorded on the MeterProvider is served by Metrics as
// Prometheus text, under the service's name; two Providers share nothing
// (each has its own registry), and Shutdown stops the provider.
func TestPrometheusHandler(t *testing.T) {
	ctx := context.Background()
	scrape := func(p *providers.Providers) string {
		rec := httptest.NewRecorder()
		p.Metrics.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		b, err := io.ReadAll(rec.Body)
		require.NoError(t, err)
		return string(b)
	}
	a, err := providers.New(ctx, providers.Options{Version: "v9.9.9"})
	require.NoError(t, err)
	b, err := providers.New(ctx, providers.Options{})
	require.NoError(t, err)
	c, err := a.MeterProvider.Meter("test").Int64Counter("things")
	require.NoError(t, err)
	c.Add(ctx, 3)
	text := scrape(a)
	require.Contains(t, text, `things_total{otel_scope_name="test"`)
	require.Contains(t, text, `service_name="kernel-actors"`)
	require.Contains(t, text, `service_version="v9.9.9"`)
	require.NotContains(t, scrape(b), "things_total", "b has a registry of its own")
	require.NoError(t, a.Shutdown(ctx))
	require.NoError(t, b.Shutdown(ctx))
}
