package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/control"
	"github.com/ocapgo/kernel-actors/internal/demos/catalog"
)

// liveServe is a `serve` run in this process, on a free loopback port.
type liveServe struct {
	db     string
	client *control.Client
}

// startLiveServe runs serve on a new database until the test ends, and
// returns once it serves (PATH.addr written), with a client for it.
func startLiveServe(t *testing.T) *liveServe {
	t.Helper()
	db := filepath.Join(t.TempDir(), "k.db")
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- Program{Registry: catalog.Registry(), Stdout: &out, Stderr: &errOut}.
			Run(ctx, []string{"serve", "--db", db, "--listen", "127.0.0.1:0"})
	}()
	t.Cleanup(func() {
		cancel()
		// A serve that does not stop on cancel is a failure of its own.
		select {
		case code := <-done:
			require.Equal(t, 0, code, "serve: %s\n%s", out.String(), errOut.String())
		case <-time.After(time.Minute):
			t.Error("serve did not stop within a minute of its cancel")
		}
	})
	// FindDaemon polls for PATH.addr, which serve writes once it listens.
	fctx, fcancel := context.WithTimeout(ctx, time.Minute)
	defer fcancel()
	addr, err := control.FindDaemon(fctx, db)
	require.NoError(t, err)
	token, err := control.ReadToken(control.TokenPath(db))
	require.NoError(t, err)
	return &liveServe{db: db, client: &control.Client{Base: "http://" + addr, Token: token}}
}

// counterWorkload launches std/counter on s and sends it n incr: n+1
// cranks, all sends (the bootstrap and the incrs; each result goes to
// the host, so no notify follows), each of which resolves its result.
func (s *liveServe) counterWorkload(t *testing.T, n int) {
	t.Helper()
	ctx := context.Background()
	res, err := s.client.Launch(ctx, []byte("bootstrap: counter\nvats:\n  counter: {bundle: std/counter}\n"))
	require.NoError(t, err)
	for i := 0; i < n; i++ {
		v, err := s.client.Send(ctx, res.RootKref, "incr", nil)
		require.NoError(t, err)
		require.JSONEq(t, fmt.Sprint(i+1), string(v))
	}
	// A send's answer is released before its crank is measured; a status
	// request is answered only once the kernel actor is done with the
	// crank, measurements included. So from here on /metrics shows every
	// crank of the workload.
	_, err = s.client.Status(ctx)
	require.NoError(t, err)
}

// top runs the top command with args and returns its exit code and
// output.
func top(t *testing.T, ctx context.Context, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Program{Stdout: &out, Stderr: &errOut}.Run(ctx, append([]string{"top"}, args...))
	return code, out.String(), errOut.String()
}

// top --once --json on a real serve shows the cranks of a known workload:
// the bootstrap and n incr sends are n+1 committed send cranks, each with
// one duration in the crank histogram, one running vat, and the vats
// table with the counter in it.
func TestTopShowsTheCranksOfAWorkload(t *testing.T) {
	s := startLiveServe(t)
	const n = 7
	s.counterWorkload(t, n)

	code, out, errOut := top(t, context.Background(), "--db", s.db, "--once", "--json", "--interval", "20ms")
	require.Equal(t, 0, code, errOut)
	var snap topSnapshot
	require.NoError(t, json.Unmarshal([]byte(out), &snap), out)
	// The bootstrap and the n incrs: every crank this serve ran.
	require.Equal(t, uint64(n+1), snap.Cranks)
	require.Equal(t, map[string]int64{"send": n + 1}, snap.CranksByKind)
	require.Equal(t, map[string]int64{"committed": n + 1}, snap.CranksByOutcome)
	require.Equal(t, int64(n+1), snap.Syscalls["resolve"], "each crank resolves its result")
	require.Equal(t, map[string]int64{"running": 1, "paged_out": 0, "restarting": 0, "terminated": 0}, snap.VatsByState)
	// Every send waited for its result, so nothing is queued, and nothing
	// ran between top's two readings.
	require.Zero(t, snap.RunQueue)
	require.Zero(t, snap.CranksPerSecond, "no crank ran in the interval")
	require.Greater(t, snap.IntervalSeconds, 0.0)
	// No crank in the interval: the latencies are of all the cranks.
	require.Equal(t, topLatency{P50: snap.CrankLatency.P50, P99: snap.CrankLatency.P99, Count: n + 1, Window: "all"}, snap.CrankLatency)
	require.NotNil(t, snap.CrankLatency.P50)
	require.LessOrEqual(t, *snap.CrankLatency.P50, *snap.CrankLatency.P99)
	// Under --commit durable every unit is flushed: each send is two (the
	// host's queueing of the message, then its crank), and the start, the
	// launch and the bootstrap's crank make three more.
	require.Equal(t, int64(2*n+3), snap.FlushLatency.Count)
	require.Equal(t, "all", snap.FlushLatency.Window)
	require.Equal(t, "durable", snap.CommitPolicy)
	require.Equal(t, 1, snap.Subclusters)
	require.Equal(t, []topVat{{ID: "v1", Name: "counter", Subcluster: "s1", Code: "std/counter", State: "active", Incarnation: 0}}, snap.Vats)
	require.Zero(t, snap.Terminations["host"])

	// The plain snapshot (stdout is not a terminal: no --once needed) says
	// the same for a person.
	code, out, errOut = top(t, context.Background(), "--db", s.db, "--interval", "20ms")
	require.Equal(t, 0, code, errOut)
	require.NotContains(t, out, "\033[", "no ANSI off a terminal")
	for _, want := range []string{
		fmt.Sprintf("cranks       %d in all, 0/s", n+1),
		fmt.Sprintf("  by kind    send %d\n", n+1),
		fmt.Sprintf("  outcome    committed %d\n", n+1),
		"run queue    0\n",
		"vats         running 1, paged_out 0, restarting 0, terminated 0\n",
		fmt.Sprintf("(all %d cranks, none in the interval)", n+1),
		"commit       durable, 1 subclusters, 1 vats\n",
		"VAT  NAME     SUBCLUSTER  CODE         STATE   INCARNATION\n",
		"v1   counter  s1          std/counter  active  0\n",
	} {
		require.Contains(t, out, want)
	}
}

// Cranks that run between top's two readings are its rate, and the
// latencies are then of those cranks alone.
func TestTopRateOfTheInterval(t *testing.T) {
	s := startLiveServe(t)
	s.counterWorkload(t, 1)
	cf := clientFlags{db: s.db, timeout: time.Minute}
	c, err := cf.client(context.Background(), &env{name: DefaultName, getenv: func(string) string { return "" }})
	require.NoError(t, err)
	sm := &topSampler{c: c, hc: &http.Client{}, timeout: time.Minute}
	ctx := context.Background()
	// A send's answer is released before its crank is measured; a status
	// request is answered only after the kernel actor has done with the
	// crank, measurements included. So a status before each reading makes
	// the reading see every crank so far.
	res, err := s.client.Status(ctx)
	require.NoError(t, err)
	// The sampler itself, so that the sends can be made between its two
	// readings.
	first, err := sm.next(ctx)
	require.NoError(t, err)
	require.Zero(t, first.IntervalSeconds, "a first reading has no interval")
	require.Equal(t, "all", first.CrankLatency.Window)
	const more = 5
	for i := 0; i < more; i++ {
		_, err := s.client.Send(ctx, res.Vats[0].Root, "incr", nil)
		require.NoError(t, err)
	}
	_, err = s.client.Status(ctx)
	require.NoError(t, err)
	snap, err := sm.next(ctx)
	require.NoError(t, err)
	// Exactly the sends' cranks over the time between the readings.
	require.InDelta(t, more/snap.IntervalSeconds, snap.CranksPerSecond, 1e-9)
	require.Equal(t, "interval", snap.CrankLatency.Window)
	require.Equal(t, int64(more), snap.CrankLatency.Count)
	require.Equal(t, map[string]int64{"send": 2 + more}, snap.CranksByKind)
	require.Len(t, sm.rates, 1)
}

// top fails, naming the problem, when nothing serves at the address, when
// what serves there is not a kernel, and for a bad flag.
func TestTopErrors(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte("0123456789abcdef0123456789abcdef\n"), 0o600))
	// A port that was free a moment ago: nothing listens there.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := ln.Addr().String()
	ln.Close()
	notProm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<html>hello</html>\n")
	}))
	defer notProm.Close()
	otherProm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "# TYPE up gauge\nup 1\n")
	}))
	defer otherProm.Close()
	notFound := httptest.NewServer(http.NotFoundHandler())
	defer notFound.Close()
	ctx := context.Background()
	// Each case names the address and what was wrong with it; a usage
	// mistake is exit 2, a daemon that is not there exit 1.
	for _, tt := range []struct {
		args     []string
		wantCode int
		wantErr  string
	}{
		{[]string{"--addr", closed, "--token-file", tokenFile, "--once"}, 1,
			"GET http://" + closed + "/metrics: no answer: "},
		{[]string{"--addr", closed, "--token-file", tokenFile, "--once"}, 1,
			"(is `kernel-actors serve` running at " + closed + "? give its --db PATH, or --addr)"},
		{[]string{"--addr", strings.TrimPrefix(notProm.URL, "http://"), "--token-file", tokenFile}, 1,
			"not a kernel-actors serve: its answer is not Prometheus text"},
		{[]string{"--addr", strings.TrimPrefix(otherProm.URL, "http://"), "--token-file", tokenFile}, 1,
			"not a kernel-actors serve: its metrics have no kernel_vats"},
		{[]string{"--addr", strings.TrimPrefix(notFound.URL, "http://"), "--token-file", tokenFile}, 1,
			"not a kernel-actors serve: it answered 404 Not Found"},
		{[]string{"--db", filepath.Join(dir, "none.db")}, 1,
			"is `kernel-actors serve --db " + filepath.Join(dir, "none.db") + "` running?"},
		{[]string{"--addr", closed}, 2, "no token"},
		{[]string{"--interval", "0s", "--token-file", tokenFile}, 2, "--interval 0s: must be above 0"},
		{[]string{"extra"}, 2, `unexpected argument "extra"`},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errOut := top(t, ctx, tt.args...)
			require.Equal(t, tt.wantCode, code, "stdout %q stderr %q", out, errOut)
			require.Contains(t, errOut, tt.wantErr)
			require.Empty(t, out)
		})
	}
}

// A wrong token is named as the status API's refusal, after /metrics
// (which needs none) has shown that a kernel serves there.
func TestTopWrongToken(t *testing.T) {
	s := startLiveServe(t)
	tokenFile := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte("0123456789abcdef0123456789abcdef\n"), 0o600))
	code, _, errOut := top(t, context.Background(), "--addr", strings.TrimPrefix(s.client.Base, "http://"), "--token-file", tokenFile, "--once")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "kernel-actors top: status: ")
	require.Contains(t, errOut, "UNAUTHORIZED")
	require.Contains(t, errOut, "serve writes a new token at each start")
}

// frames collects what the live display writes, and says when it has
// drawn its first frame.
type frames struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	drawn chan struct{}
	once  sync.Once
}

func (f *frames) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.buf.Write(p)
	if bytes.Contains(f.buf.Bytes(), []byte(ansiEOS)) {
		f.once.Do(func() { close(f.drawn) })
	}
	return len(p), nil
}

func (f *frames) String() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.buf.String()
}

// The live display takes the alternate screen, draws a frame in place,
// and on cancel (Ctrl-C) returns with no error and the terminal given
// back: cursor shown, normal screen.
func TestTopLiveStopsCleanlyOnCancel(t *testing.T) {
	s := startLiveServe(t)
	s.counterWorkload(t, 2)
	cf := clientFlags{db: s.db, timeout: time.Minute}
	c, err := cf.client(context.Background(), &env{name: DefaultName, getenv: func(string) string { return "" }})
	require.NoError(t, err)
	sm := &topSampler{c: c, hc: &http.Client{}, timeout: time.Minute}
	w := &frames{drawn: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	// fd -1 is no terminal: the frame takes the default size. An hour's
	// interval, so that the cancel comes while live waits, as a Ctrl-C does.
	go func() { done <- sm.live(ctx, &env{stdout: w}, -1, time.Hour) }()
	select {
	case <-w.drawn:
	case err := <-done:
		t.Fatalf("live ended before its first frame: %v", err)
	}
	cancel()
	require.NoError(t, <-done)
	text := w.String()
	require.True(t, strings.HasPrefix(text, ansiEnter+ansiHome), "%q", text)
	require.True(t, strings.HasSuffix(text, ansiEOS+ansiLeave), "%q", text)
	require.Contains(t, text, "cranks       3 in all, -"+ansiEOL+"\n", "a first frame has no rate yet")
}

// The quantiles are PromQL's histogram_quantile over the summed buckets:
// linear within the bucket that holds the rank, 0 below the first bound,
// the last finite bound past it.
func TestHistogramQuantile(t *testing.T) {
	h := histogram{bounds: []float64{1, 2, 4}, cum: []float64{10, 30, 40}, count: 50}
	require.InDelta(t, 0.5, h.quantile(0.1), 1e-12)  // rank 5 of the 10 in (0,1]
	require.InDelta(t, 1.75, h.quantile(0.5), 1e-12) // rank 25: 15 of the 20 in (1,2]
	require.InDelta(t, 3.0, h.quantile(0.7), 1e-12)  // rank 35: 5 of the 10 in (2,4]
	require.Equal(t, 4.0, h.quantile(0.99), "in the +Inf bucket")
	require.True(t, math.IsNaN(histogram{}.quantile(0.5)))
	d := h.since(histogram{bounds: []float64{1, 2, 4}, cum: []float64{10, 10, 10}, count: 10})
	require.Equal(t, histogram{bounds: []float64{1, 2, 4}, cum: []float64{0, 20, 30}, count: 40}, d)
	require.Equal(t, h, h.since(histogram{bounds: []float64{1, 2, 4}, cum: []float64{20, 40, 60}, count: 60}), "a reset")
	require.Equal(t, "▁▄█", sparkline([]float64{0, 50, 100}))
}

// A frame fits the terminal: lines cut to its width (by runes, so a
// sparkline is never cut mid-rune), and the lines past its height
// counted on the last row it has.
func TestTopFrameFitsTheTerminal(t *testing.T) {
	lines := []string{"cranks ▁▂▃▄▅▆▇█", "b", "c", "d", "e"}
	require.Equal(t, ansiHome+"cranks ▁▂▃"+ansiEOL+"\nb"+ansiEOL+"\nc"+ansiEOL+"\nd"+ansiEOL+"\ne"+ansiEOL+"\n"+ansiEOS,
		frame(lines, 10, 24))
	require.Equal(t, ansiHome+"cranks ▁▂▃▄▅▆▇█"+ansiEOL+"\nb"+ansiEOL+"\n... 3 more lines (a taller terminal shows them)"+ansiEOL+"\n"+ansiEOS,
		frame(lines, 80, 4))
	require.Equal(t, ansiHome+"cranks ▁▂▃▄▅▆▇█"+ansiEOL+"\n... 4 more lines (a taller terminal shows them)"+ansiEOL+"\n"+ansiEOS,
		frame(lines, 80, 1), "a tiny terminal still shows a line")
}
