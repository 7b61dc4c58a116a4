package providers_test

import (
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	collmetrics "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	colltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/telemetry/providers"
	"github.com/ocapgo/kernel-actors/vat"
)

// collector is an OTLP/HTTP receiver on loopback that counts what it is
// sent: spans by name, and the last value of each sum metric.
type collector struct {
	srv *httptest.Server
	mu  struct {
		sync.Mutex
		spans   map[string]int
		sums    map[string]int64
		service map[string]bool
	}
}

func newCollector(t *testing.T) *collector {
	c := &collector{}
	c.mu.spans, c.mu.sums, c.mu.service = map[string]int{}, map[string]int64{}, map[string]bool{}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			body = zr
		}
		b, err := io.ReadAll(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		switch r.URL.Path {
		case "/v1/traces":
			var req colltrace.ExportTraceServiceRequest
			if err := proto.Unmarshal(b, &req); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			for _, rs := range req.ResourceSpans {
				for _, a := range rs.GetResource().GetAttributes() {
					if a.Key == "service.name" {
						c.mu.service[a.GetValue().GetStringValue()] = true
					}
				}
				for _, ss := range rs.ScopeSpans {
					for _, s := range ss.Spans {
						c.mu.spans[s.Name]++
					}
				}
			}
		case "/v1/metrics":
			var req collmetrics.ExportMetricsServiceRequest
			if err := proto.Unmarshal(b, &req); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			for _, rm := range req.ResourceMetrics {
				for _, sm := range rm.ScopeMetrics {
					for _, m := range sm.Metrics {
						if sum := m.GetSum(); sum != nil {
							var n int64
							for _, p := range sum.DataPoints {
								n += p.GetAsInt()
							}
							c.mu.sums[m.Name] = n // cumulative: the last is the total
						}
					}
				}
			}
		default:
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	t.Cleanup(c.srv.Close)
	return c
}

// A kernel run with the providers of an OTLP endpoint sends its spans and
// metrics to a collector on loopback: after a known workload and the
// providers' Shutdown, the collector has one span per crank and the
// cranks counter's total, under service.name kernel-actors.
func TestOTLPToACollector(t *testing.T) {
	ctx := context.Background()
	c := newCollector(t)
	p, err := providers.New(ctx, providers.Options{OTLPEndpoint: c.srv.URL})
	require.NoError(t, err)
	require.NotNil(t, p.TracerProvider)
	reg := vat.NewRegistry()
	reg.MustRegister("echo", func(vc *vat.Context) (any, error) {
		return vat.Far("echo", vat.Methods{
			"bootstrap": func(*vat.Call) (any, error) { return nil, nil },
			"echo":      func(c *vat.Call) (any, error) { return c.Arg(0), nil },
		}), nil
	})
	k, err := actors.Start(ctx, actors.Config{Registry: reg, MeterProvider: p.MeterProvider, TracerProvider: p.TracerProvider})
	require.NoError(t, err)
	res, err := k.LaunchSubcluster(ctx, kernel.ClusterConfig{Bootstrap: "echo", Vats: map[string]kernel.VatConfig{"echo": {Bundle: "echo"}}})
	require.NoError(t, err)
	const n = 5
	for i := 0; i < n; i++ {
		_, err := k.QueueMessage(ctx, res.RootKref, "echo", i)
		require.NoError(t, err)
	}
	st, err := k.Status(ctx)
	require.NoError(t, err)
	require.NoError(t, k.Stop(ctx))
	require.NoError(t, p.Shutdown(ctx))

	c.mu.Lock()
	defer c.mu.Unlock()
	require.Equal(t, int(st.CranksRun), c.mu.spans["crank send"], "one span per crank: bootstrap and the echoes")
	require.Equal(t, int64(st.CranksRun), c.mu.sums["kernel.cranks"])
	require.GreaterOrEqual(t, c.mu.sums["kernel.syscalls"], int64(n), "each echo resolves its result")
	require.True(t, c.mu.service["kernel-actors"])
}

// An endpoint the exporters could not use is refused, naming the problem.
func TestOTLPEndpointChecked(t *testing.T) {
	for _, tt := range []struct{ endpoint, want string }{
		{"127.0.0.1:4318", "want http://HOST:PORT"},
		{"grpc://collector:4317", "want http://HOST:PORT"},
		{"http://", "no host"},
		{"http://collector:4318/v1/traces", "with no path"},
		{"http://collector:4318/?x=1", "with no path"},
		{"http://[::1", "bad OTLP endpoint"},
	} {
		t.Run(tt.endpoint, func(t *testing.T) {
			_, err := providers.New(context.Background(), providers.Options{OTLPEndpoint: tt.endpoint})
			require.ErrorIs(t, err, providers.ErrEndpoint)
			require.ErrorContains(t, err, tt.want)
		})
	}
	p, err := providers.New(context.Background(), providers.Options{OTLPEndpoint: "https://collector.example:4318/"})
	require.NoError(t, err, "a trailing slash is no path")
	_ = p.Shutdown(context.Background()) // its last export finds no such host: the check is New's
}
