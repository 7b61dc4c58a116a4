package control_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/control"
	"github.com/ocapgo/kernel-actors/telemetry/providers"
)

// opsFixture is a kernel with metrics behind a control server on
// loopback.
type opsFixture struct {
	*fixture
	p *providers.Providers
}

func newOpsFixture(t *testing.T) *opsFixture {
	ctx := context.Background()
	p, err := providers.New(ctx, providers.Options{})
	require.NoError(t, err)
	reg := registry()
	k, err := actors.Start(ctx, actors.Config{Registry: reg, MeterProvider: p.MeterProvider})
	require.NoError(t, err)
	srv := httptest.NewServer((&control.Server{Kernel: k, Token: token, Registry: reg, Metrics: p.Metrics}).Handler())
	t.Cleanup(func() {
		srv.Close()
		k.Stop(ctx)
		p.Shutdown(ctx)
	})
	return &opsFixture{&fixture{t: t, ctx: ctx, k: k, srv: srv, c: &control.Client{Base: srv.URL, Token: token}}, p}
}

// get fetches path with no token and returns its status and body.
func (f *opsFixture) get(path string) (int, string) {
	f.t.Helper()
	resp, err := http.Get(f.srv.URL + path)
	require.NoError(f.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(f.t, err)
	return resp.StatusCode, string(b)
}

// metric reads one sample of the Prometheus text: the value of the line
// that starts with name{ and has every label of want.
func metric(t *testing.T, text, name string, want ...string) float64 {
	t.Helper()
	total, found := 0.0, false
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		ok := true
		for _, w := range want {
			if !strings.Contains(line, w) {
				ok = false
			}
		}
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		require.NoError(t, err, line)
		total, found = total+v, true
	}
	require.True(t, found, "no %s %v in:\n%s", name, want, text)
	return total
}

// The operations endpoints answer with no token over loopback: /healthz
// says the process is up, /readyz that the kernel runs and its store takes
// writes, and /metrics has the cranks and host requests of a known
// workload in Prometheus text, with no kref in it. The API itself still
// wants the token.
func TestOpsEndpoints(t *testing.T) {
	f := newOpsFixture(t)
	res := f.launch()
	const n = 4
	for i := 0; i < n; i++ {
		_, err := f.c.Send(f.ctx, res.RootKref, "incr", nil)
		require.NoError(t, err)
	}
	require.NoError(t, f.k.WaitIdle(f.ctx))

	code, body := f.get("/healthz")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "ok\n", body)

	code, body = f.get("/readyz")
	require.Equal(t, http.StatusOK, code, body)
	var rd control.Readiness
	require.NoError(t, json.Unmarshal([]byte(body), &rd))
	require.True(t, rd.Ready)

	code, text := f.get("/metrics")
	require.Equal(t, http.StatusOK, code)
	st, err := f.k.Status(f.ctx)
	require.NoError(t, err)
	require.Equal(t, float64(st.CranksRun), metric(t, text, "kernel_cranks_total"))
	require.Equal(t, float64(n), metric(t, text, "kernel_host_requests_total", `kind="queue_message"`, `outcome="ok"`))
	require.Equal(t, float64(1), metric(t, text, "kernel_vats", `state="running"`))
	require.Equal(t, float64(0), metric(t, text, "kernel_run_queue_length"))
	require.Equal(t, float64(st.CranksRun), metric(t, text, "kernel_crank_duration_seconds_count"))
	require.Contains(t, text, `service_name="kernel-actors"`)
	// No kref or vat id: the scrape needs no token, so it says only counts.
	require.False(t, regexp.MustCompile(`\bk[op][0-9]+\b`).MatchString(text), "a kref in /metrics")
	require.False(t, regexp.MustCompile(`"v[0-9]+"`).MatchString(text), "a vat id in /metrics")

	// The API is still behind the token.
	code, _ = f.get("/v1/status")
	require.Equal(t, http.StatusUnauthorized, code)
	// Only GET.
	resp, err := http.Post(f.srv.URL+"/readyz", "text/plain", nil)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

// /readyz says 503, with a fixed reason, once the kernel has stopped,
// while /healthz still answers: the process is up, the kernel is not.
func TestReadyzAfterStop(t *testing.T) {
	f := newOpsFixture(t)
	require.NoError(t, f.k.Stop(f.ctx))
	code, body := f.get("/readyz")
	require.Equal(t, http.StatusServiceUnavailable, code)
	var rd control.Readiness
	require.NoError(t, json.Unmarshal([]byte(body), &rd))
	require.Equal(t, control.Readiness{Reason: control.NotReadyStopped}, rd)
	code, _ = f.get("/healthz")
	require.Equal(t, http.StatusOK, code)
}

// A server with no metrics answers 404 at /metrics, with no token asked.
func TestMetricsWithoutProvider(t *testing.T) {
	f := newFixture(t)
	resp, err := http.Get(f.srv.URL + "/metrics")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
}
