package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
	collmetrics "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	colltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// getNoToken fetches base+path with no Authorization header.
func getNoToken(t *testing.T, base, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(base + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// A real serve answers /healthz, /readyz and /metrics over loopback with
// no token, and /metrics counts the sends a client made through it.
func TestServeOpsEndpoints(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "k.db")
	d := serve(t, db)
	launched := launchCounter(t, dir, db)
	for i := 0; i < 3; i++ {
		code, _, errOut := cli(t, "send", "--db", db, launched.RootKref, "incr")
		require.Equal(t, 0, code, errOut)
	}

	code, body := getNoToken(t, d.client.Base, "/healthz")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "ok\n", body)
	code, body = getNoToken(t, d.client.Base, "/readyz")
	require.Equal(t, http.StatusOK, code)
	require.JSONEq(t, `{"ready":true}`, body)
	code, body = getNoToken(t, d.client.Base, "/metrics")
	require.Equal(t, http.StatusOK, code)
	var sends string
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, "kernel_host_requests_total{") && strings.Contains(line, `kind="queue_message"`) && strings.Contains(line, `outcome="ok"`) {
			sends = line[strings.LastIndexByte(line, ' ')+1:]
		}
	}
	require.Equal(t, "3", sends, "three sends through the API:\n%s", body)
	code, _ = getNoToken(t, d.client.Base, "/v1/status")
	require.Equal(t, http.StatusUnauthorized, code)
}

// A serve with --otlp sends its spans and metrics to a collector on
// loopback: after three sends and a clean stop (SIGTERM, which shuts the
// exporters down after the kernel), the collector holds a span per crank
// of the sends and the kernel's cranks counter.
func TestServeOTLP(t *testing.T) {
	var mu sync.Mutex
	spans := map[string]int{}
	metrics := map[string]bool{}
	col := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		switch r.URL.Path {
		case "/v1/traces":
			var req colltrace.ExportTraceServiceRequest
			if err := proto.Unmarshal(b, &req); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			for _, rs := range req.ResourceSpans {
				for _, ss := range rs.ScopeSpans {
					for _, s := range ss.Spans {
						spans[s.Name]++
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
						metrics[m.Name] = true
					}
				}
			}
		default:
			http.NotFound(w, r)
		}
	}))
	defer col.Close()

	dir := t.TempDir()
	db := filepath.Join(dir, "k.db")
	d := serve(t, db, "--otlp", col.URL)
	launched := launchCounter(t, dir, db)
	for i := 0; i < 3; i++ {
		code, _, errOut := cli(t, "send", "--db", db, launched.RootKref, "incr")
		require.Equal(t, 0, code, errOut)
	}
	require.NoError(t, d.cmd.Process.Signal(syscall.SIGTERM))
	require.Equal(t, 0, d.wait(t), d.output())

	mu.Lock()
	defer mu.Unlock()
	require.GreaterOrEqual(t, spans["crank send"], 4, "bootstrap and three sends: %v", spans)
	require.True(t, metrics["kernel.cranks"], "metrics: %v", metrics)
	require.True(t, metrics["kernel.host.requests"])
}
