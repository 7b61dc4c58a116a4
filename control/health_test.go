package control_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/control"
	"github.com/ocapgo/kernel-actors/telemetry/providers"
	"github.com/ocapgo/kernel-actors/vat"
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
	// A vat whose one method panics: a crank the kernel aborts.
	reg.MustRegister("crasher", func(vc *vat.Context) (any, error) {
		return vat.Far("crasher", vat.Methods{
			"bootstrap": func(*vat.Call) (any, error) { return "ready", nil },
			"boom":      func(*vat.Call) (any, error) { panic("boom") },
		}), nil
	})
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

// scrape fetches /metrics over loopback, as a Prometheus server would, and
// parses it with Prometheus's own text parser.
func (f *opsFixture) scrape() scraped {
	f.t.Helper()
	code, text := f.get("/metrics")
	require.Equal(f.t, http.StatusOK, code)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(text))
	require.NoError(f.t, err, text)
	return scraped(fams)
}

// scraped is one scrape, by family name.
type scraped map[string]*dto.MetricFamily

// sum adds the samples (a histogram's: its count) of family name whose
// labels include every key=value pair of want.
func (s scraped) sum(name string, want ...string) float64 {
	n := 0.0
	f := s[name]
	if f == nil {
		return 0 // a counter appears once first counted
	}
next:
	for _, m := range f.Metric {
		for i := 0; i+1 < len(want); i += 2 {
			found := false
			for _, l := range m.Label {
				found = found || (l.GetName() == want[i] && l.GetValue() == want[i+1])
			}
			if !found {
				continue next
			}
		}
		n += sample(m)
	}
	return n
}

// sample is one sample's value: a counter's or gauge's, or a histogram's
// count of measurements.
func sample(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	}
	return 0
}

// by is family name's samples by the value of label key, with zeros left
// out.
func (s scraped) by(name, key string) map[string]float64 {
	out := map[string]float64{}
	if f := s[name]; f != nil {
		for _, m := range f.Metric {
			for _, l := range m.Label {
				if l.GetName() == key {
					out[l.GetValue()] += sample(m)
				}
			}
		}
	}
	for k, v := range out {
		if v == 0 {
			delete(out, k)
		}
	}
	return out
}

// minus is the change of each count of s since before.
func minus(s, before map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range s {
		if d := v - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

// A Prometheus scrape over loopback sees the exact counts of a known
// workload, as the difference between a scrape before it and one after:
// n echoes to the counter (n committed send cranks, each a resolve and
// nothing else), one boom to the crasher (a send crank aborted by the
// vat's panic, which terminates it: failure; the message, back at the
// head of the run queue, is then taken by a committed send crank that
// rejects its result for the dead vat), and the host's terminate of the
// counter. The host requests are counted by kind and outcome; the
// vats gauge goes from two running to none.
func TestMetricsScrapeOfAKnownWorkload(t *testing.T) {
	f := newOpsFixture(t)
	ctx := f.ctx
	counter := f.launch()
	crasher, err := f.c.Launch(ctx, []byte("bootstrap: crasher\nvats:\n  crasher: {bundle: crasher}\n"))
	require.NoError(t, err)
	// Counters are handed to the SDK when the kernel goes idle.
	require.NoError(t, f.k.WaitIdle(ctx))
	before := f.scrape()
	st0, err := f.k.Status(ctx)
	require.NoError(t, err)
	require.Equal(t, 2.0, before.sum("kernel_vats", "state", "running"))

	const n = 6
	for i := 0; i < n; i++ {
		v, err := f.c.Send(ctx, counter.RootKref, "echo", []any{i})
		require.NoError(t, err)
		require.JSONEq(t, fmt.Sprintf("[%d]", i), string(v))
	}
	_, err = f.c.Send(ctx, crasher.RootKref, "boom", nil)
	require.Equal(t, "VAT_FATAL:INTERNAL_ERROR", apiErr(t, err).Code)
	require.NoError(t, f.c.TerminateVat(ctx, counter.VatIDs["counter"], "done"))
	require.NoError(t, f.k.WaitIdle(ctx))
	after := f.scrape()
	st1, err := f.k.Status(ctx)
	require.NoError(t, err)

	require.Equal(t, float64(st1.CranksRun-st0.CranksRun), after.sum("kernel_cranks_total")-before.sum("kernel_cranks_total"))
	require.Equal(t, map[string]float64{"send": n + 2},
		minus(after.by("kernel_cranks_total", "kind"), before.by("kernel_cranks_total", "kind")))
	require.Equal(t, map[string]float64{"committed": n + 1, "aborted": 1},
		minus(after.by("kernel_cranks_total", "outcome"), before.by("kernel_cranks_total", "outcome")))
	require.Equal(t, 1.0, after.sum("kernel_cranks_total", "kind", "send", "outcome", "aborted"))
	require.Equal(t, float64(n+2), after.sum("kernel_crank_duration_seconds")-before.sum("kernel_crank_duration_seconds"))
	require.Equal(t, map[string]float64{"resolve": n},
		minus(after.by("kernel_syscalls_total", "kind"), before.by("kernel_syscalls_total", "kind")))
	require.Equal(t, map[string]float64{"failure": 1, "host": 1}, after.by("kernel_vat_terminations_total", "reason"))
	require.Empty(t, after.by("kernel_vat_restarts_total", "reason"))
	require.Equal(t, float64(n), after.sum("kernel_host_requests_total", "kind", "queue_message", "outcome", "ok"))
	require.Equal(t, 1.0, after.sum("kernel_host_requests_total", "kind", "queue_message", "outcome", "error"))
	require.Equal(t, 1.0, after.sum("kernel_host_requests_total", "kind", "terminate_vat", "outcome", "ok"))
	require.Equal(t, 2.0, after.sum("kernel_host_requests_total", "kind", "launch", "outcome", "ok"))
	require.Equal(t, 1.0, after.sum("kernel_host_requests_total", "kind", "resume", "outcome", "ok"))
	require.Equal(t, map[string]float64{}, after.by("kernel_vats", "state"), "no vat runs")
	require.Zero(t, after.sum("kernel_run_queue_length"))
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
