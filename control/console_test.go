package control_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/console"
	"github.com/ocapgo/kernel-actors/control"
)

// consoleFixture is a kernel on a file (so commits flush), fed to a
// console hub that samples it every 20 ms, behind the control API.
type consoleFixture struct {
	*fixture
	hub *console.Hub
}

func newConsoleFixture(t *testing.T, opts console.Options) *consoleFixture {
	ctx := context.Background()
	reg := registry()
	if opts.Interval == 0 {
		opts.Interval = 20 * time.Millisecond
	}
	hub := console.New(opts)
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(hub.Reader()))
	k, err := actors.Start(ctx, actors.Config{Registry: reg, DBPath: filepath.Join(t.TempDir(), "k.db"),
		MeterProvider: mp, OnCrankDone: hub.OnCrankDone})
	require.NoError(t, err)
	hub.Start(k)
	srv := httptest.NewServer((&control.Server{Kernel: k, Token: token, Registry: reg, Console: hub}).Handler())
	t.Cleanup(func() {
		hub.Close()
		srv.Close()
		k.Stop(ctx)
		mp.Shutdown(ctx)
	})
	return &consoleFixture{fixture: &fixture{t: t, ctx: ctx, k: k, srv: srv, c: &control.Client{Base: srv.URL, Token: token}}, hub: hub}
}

// sse reads Server-Sent Events from a response body.
type sse struct {
	t  *testing.T
	rd *bufio.Reader
}

// next reads events up to the next "snapshot" and decodes its data.
func (s *sse) next() console.Frame {
	s.t.Helper()
	var event, data string
	for {
		line, err := s.rd.ReadString('\n')
		require.NoError(s.t, err, "the stream ended before a snapshot")
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if event == "snapshot" {
				var f console.Frame
				require.NoError(s.t, json.Unmarshal([]byte(data), &f), "data: %s", data)
				return f
			}
			event, data = "", ""
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data += strings.TrimPrefix(line, "data: ")
		}
	}
}

// openEvents opens GET /v1/events with auth (the header as given).
func (f *consoleFixture) openEvents(ctx context.Context, auth string) *http.Response {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.srv.URL+"/v1/events", nil)
	require.NoError(f.t, err)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(f.t, err)
	return resp
}

// The page is served with no token (it holds no data), under a policy
// that runs only its own script and submits no form; without a console
// there is none.
func TestConsolePage(t *testing.T) {
	f := newConsoleFixture(t, console.Options{})
	for _, path := range []string{"/ui", "/ui/", "/ui/index.html"} {
		resp, err := http.Get(f.srv.URL + path)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		require.Contains(t, string(body), `id="login-token"`, path)
		require.Contains(t, resp.Header.Get("Content-Security-Policy"), "form-action 'none'")
		require.Contains(t, resp.Header.Get("Content-Security-Policy"), "script-src 'self'")
		require.Equal(t, "no-referrer", resp.Header.Get("Referrer-Policy"))
	}
	resp, err := http.Get(f.srv.URL + "/ui/console.js")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Content-Type"), "javascript")
	require.Contains(t, string(body), "Authorization")
	require.NotContains(t, string(body), "localStorage", "the token is kept in memory only")

	resp, err = http.Get(f.srv.URL + "/ui/missing.js")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp, err = http.Post(f.srv.URL+"/ui/", "text/plain", nil)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)

	plain := newFixture(t)
	resp, err = http.Get(plain.srv.URL + "/ui/")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "a server with no console has no page")
}

// The event stream needs the token, like every /v1 endpoint.
func TestEventsNeedToken(t *testing.T) {
	f := newConsoleFixture(t, console.Options{})
	for _, auth := range []string{"", "Bearer wrong", token} {
		resp := f.openEvents(f.ctx, auth)
		var eb control.ErrorBody
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&eb))
		resp.Body.Close()
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "auth %q", auth)
		require.Equal(t, "UNAUTHORIZED", eb.Error.Code)
	}
	require.Zero(t, f.hub.Streams(), "no stream was opened")
}

// A stream's first frame carries the view (vats, subclusters); the
// counts follow the kernel's work: the cranks counter moves, the vat's
// own count with it, and the commits show in the latency figures.
func TestEventsFollowTheKernel(t *testing.T) {
	f := newConsoleFixture(t, console.Options{})
	res := f.launch()
	vatID := res.VatIDs["counter"]
	ctx, cancel := context.WithCancel(f.ctx)
	defer cancel()
	resp := f.openEvents(ctx, "Bearer "+token)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	s := &sse{t: t, rd: bufio.NewReader(resp.Body)}

	first := s.next()
	require.NotNil(t, first.View, "the first frame has the view")
	require.Len(t, first.View.Vats, 1)
	require.Equal(t, vatID, first.View.Vats[0].ID)
	require.Equal(t, "running", first.View.Vats[0].State)
	require.Len(t, first.View.Subclusters, 1)
	require.Equal(t, res.RootKref, first.View.Subclusters[0].Root)

	for range 5 {
		_, err := f.c.Send(f.ctx, res.RootKref, "incr", nil)
		require.NoError(t, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	var fr console.Frame
	var vatCranks uint64
	var flushes uint64
	for time.Now().Before(deadline) {
		fr = s.next()
		if fr.View != nil {
			vatCranks = fr.View.Vats[0].Cranks
		}
		flushes += fr.Point.Flushes
		if fr.Cranks >= first.Cranks+5 && vatCranks >= 5 && flushes > 0 {
			break
		}
	}
	require.GreaterOrEqual(t, fr.Cranks, first.Cranks+5, "the five sends' cranks are counted")
	require.GreaterOrEqual(t, vatCranks, uint64(5), "and against the vat")
	require.Positive(t, flushes, "their commits were flushed and measured")
	require.Nil(t, fr.History, "history comes in the first frame only")
}

// A client that goes away ends its stream; the hub's Close ends the rest
// (the body reaches its end).
func TestEventsEnd(t *testing.T) {
	f := newConsoleFixture(t, console.Options{})
	ctx, cancel := context.WithCancel(f.ctx)
	resp := f.openEvents(ctx, "Bearer "+token)
	(&sse{t: t, rd: bufio.NewReader(resp.Body)}).next()
	require.Equal(t, 1, f.hub.Streams())
	cancel()
	resp.Body.Close()
	deadline := time.Now().Add(10 * time.Second)
	for f.hub.Streams() != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond) // a real connection closing: polled with a deadline
	}
	require.Zero(t, f.hub.Streams(), "the stream ended when its client went")

	resp = f.openEvents(f.ctx, "Bearer "+token)
	defer resp.Body.Close()
	rd := bufio.NewReader(resp.Body)
	(&sse{t: t, rd: rd}).next()
	f.hub.Close()
	_, err := io.Copy(io.Discard, rd)
	require.NoError(t, err, "the body ends cleanly at Close")
	resp2 := f.openEvents(f.ctx, "Bearer "+token)
	var eb control.ErrorBody
	require.NoError(t, json.NewDecoder(resp2.Body).Decode(&eb))
	resp2.Body.Close()
	require.Equal(t, http.StatusServiceUnavailable, resp2.StatusCode, "a closed hub takes no stream")
}

// Past MaxStreams a stream is refused with a named error.
func TestEventsTooManyStreams(t *testing.T) {
	f := newConsoleFixture(t, console.Options{MaxStreams: 1})
	ctx, cancel := context.WithCancel(f.ctx)
	defer cancel()
	resp := f.openEvents(ctx, "Bearer "+token)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp2 := f.openEvents(ctx, "Bearer "+token)
	var eb control.ErrorBody
	require.NoError(t, json.NewDecoder(resp2.Body).Decode(&eb))
	resp2.Body.Close()
	require.Equal(t, http.StatusServiceUnavailable, resp2.StatusCode)
	require.Equal(t, "TOO_MANY_STREAMS", eb.Error.Code)
}

// /v1/refs finds objects and promises by kref or owner, within its
// limit, counting every match; a bad limit is refused by name.
func TestRefsSearch(t *testing.T) {
	f := newConsoleFixture(t, console.Options{})
	res := f.launch()
	for range 3 {
		_, err := f.c.Send(f.ctx, res.RootKref, "make", nil)
		require.NoError(t, err)
	}
	all, err := f.c.Refs(f.ctx, "", 0)
	require.NoError(t, err)
	require.GreaterOrEqual(t, all.ObjectsMatched, 4, "the root and the three things")
	require.Len(t, all.Objects, all.ObjectsMatched)

	one, err := f.c.Refs(f.ctx, res.RootKref, 0)
	require.NoError(t, err)
	require.Equal(t, res.RootKref, one.Objects[0].KRef)
	for _, o := range one.Objects {
		require.Contains(t, o.KRef, res.RootKref)
	}
	byOwner, err := f.c.Refs(f.ctx, res.VatIDs["counter"], 2)
	require.NoError(t, err)
	require.Len(t, byOwner.Objects, 2, "the limit holds")
	require.GreaterOrEqual(t, byOwner.ObjectsMatched, 4, "the count goes past it")

	none, err := f.c.Refs(f.ctx, "no-such-thing", 0)
	require.NoError(t, err)
	require.Empty(t, none.Objects)
	require.NotNil(t, none.Objects, "an empty list, not null")

	_, err = f.c.Refs(f.ctx, "", control.MaxRefsLimit+1)
	ae := apiErr(t, err)
	require.Equal(t, http.StatusBadRequest, ae.Status)
	require.Contains(t, ae.Message, "limit")
}

// /v1/audit gives the auditor's verdict on the state now.
func TestAuditEndpoint(t *testing.T) {
	f := newConsoleFixture(t, console.Options{})
	res := f.launch()
	_, err := f.c.Send(f.ctx, res.RootKref, "incr", nil)
	require.NoError(t, err)
	a, err := f.c.Audit(f.ctx)
	require.NoError(t, err)
	require.True(t, a.OK, "a sound store: %+v", a)
	require.True(t, a.Audit.OK)
	require.Empty(t, a.Problems)
	require.Positive(t, a.Cranks)
}

// A stream outlives the server's read timeout and a request's timeout:
// it is one long answer. (The write timeout, past the 10 s write grace,
// is replaced by a deadline per event; this test does not wait for it.)
func TestEventsOutliveTimeouts(t *testing.T) {
	f := newConsoleFixture(t, console.Options{Interval: 10 * time.Millisecond})
	cs := &control.Server{Kernel: f.k, Token: token, Console: f.hub,
		ReadTimeout: 100 * time.Millisecond, Timeout: 50 * time.Millisecond}
	srv := cs.HTTPServer()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go srv.Serve(cs.Listener(ln))
	defer srv.Close()
	req, err := http.NewRequest(http.MethodGet, "http://"+ln.Addr().String()+"/v1/events", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	s := &sse{t: t, rd: bufio.NewReader(resp.Body)}
	began := time.Now()
	first := s.next()
	var last console.Frame
	// Read until well past ReadTimeout (100 ms) and Timeout (50 ms).
	for time.Since(began) < time.Second {
		last = s.next()
	}
	require.Greater(t, last.Seq, first.Seq, "frames kept coming past the server's timeouts")
}

// The view (vats, subclusters) is sent only when it changed: a kernel
// with nothing to do sends counts alone.
func TestEventsViewOnlyWhenChanged(t *testing.T) {
	f := newConsoleFixture(t, console.Options{})
	f.launch()
	ctx, cancel := context.WithCancel(f.ctx)
	defer cancel()
	resp := f.openEvents(ctx, "Bearer "+token)
	defer resp.Body.Close()
	s := &sse{t: t, rd: bufio.NewReader(resp.Body)}
	require.NotNil(t, s.next().View)
	// The launch's last crank may be counted a frame late (the kernel
	// answers before it tells the console): it settles within a few.
	quiet := false
	for range 50 {
		if s.next().View == nil {
			quiet = true
			break
		}
	}
	require.True(t, quiet, "an idle kernel's frames carry no view")
	err := f.c.TerminateVat(f.ctx, f.launchedVat(), "gone")
	require.NoError(t, err)
	for range 50 {
		fr := s.next()
		if fr.View != nil && fr.View.Vats[0].State == "terminated" {
			return
		}
	}
	t.Fatal("the terminated vat's view never came")
}

// launchedVat is the one vat the fixture launched.
func (f *consoleFixture) launchedVat() string {
	st, err := f.c.Status(f.ctx)
	require.NoError(f.t, err)
	require.Len(f.t, st.Vats, 1)
	return st.Vats[0].ID
}

// The streams end when the kernel stops, and no new one opens.
func TestEventsEndWhenKernelStops(t *testing.T) {
	f := newConsoleFixture(t, console.Options{})
	resp := f.openEvents(f.ctx, "Bearer "+token)
	defer resp.Body.Close()
	rd := bufio.NewReader(resp.Body)
	(&sse{t: t, rd: rd}).next()
	require.NoError(t, f.k.Stop(f.ctx))
	_, err := io.Copy(io.Discard, rd)
	require.NoError(t, err, "the body ends with the kernel")
	// The hub closes itself as it sees the kernel stop: a real
	// goroutine, polled with a deadline.
	deadline := time.Now().Add(10 * time.Second)
	status := 0
	for time.Now().Before(deadline) && status != http.StatusServiceUnavailable {
		resp2 := f.openEvents(f.ctx, "Bearer "+token)
		resp2.Body.Close()
		status = resp2.StatusCode
	}
	require.Equal(t, http.StatusServiceUnavailable, status, "a stopped kernel's hub takes no stream")
}
