package actors_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/actors"
)

// Each crank that runs gets exactly one debug line (the kernel actor's,
// not also the kernel's), and it says how long the crank took, as a
// duration with its unit.
func TestCrankLineCarriesDuration(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		var sink syncBuffer
		k := start(t, actors.Config{Logger: zerolog.New(&sink).Level(zerolog.DebugLevel)})
		res, err := k.LaunchSubcluster(ctx, twoVats())
		require.NoError(t, err)
		_, err = k.QueueMessage(ctx, res.RootKref, "ask", "host")
		require.NoError(t, err)
		require.NoError(t, k.WaitIdle(ctx))
		st, err := k.Status(ctx)
		require.NoError(t, err)

		var cranks int
		seen := map[float64]bool{}
		for _, line := range sink.lines() {
			var rec map[string]any
			require.NoError(t, json.Unmarshal([]byte(line), &rec), line)
			if rec["message"] != "crank" {
				continue
			}
			cranks++
			n, _ := rec["crank"].(float64)
			require.False(t, seen[n], "crank %v logged twice", n)
			seen[n] = true
			took, ok := rec["took"].(string)
			require.True(t, ok, "no took: %s", line)
			d, err := time.ParseDuration(took)
			require.NoError(t, err, line)
			require.GreaterOrEqual(t, d, time.Duration(0))
			require.Equal(t, "kernel", rec["component"])
		}
		require.Equal(t, int(st.CranksRun), cranks)
	})
}

// recordHandler keeps every slog record it handles, as JSON lines.
type recordHandler struct {
	mu  *sync.Mutex
	buf *bytes.Buffer
	slog.Handler
}

func newRecordHandler(level slog.Level) *recordHandler {
	h := &recordHandler{mu: &sync.Mutex{}, buf: &bytes.Buffer{}}
	h.Handler = slog.NewJSONHandler(lockedWriter{h}, &slog.HandlerOptions{Level: level})
	return h
}

type lockedWriter struct{ h *recordHandler }

func (w lockedWriter) Write(p []byte) (int, error) {
	w.h.mu.Lock()
	defer w.h.mu.Unlock()
	return w.h.buf.Write(p)
}

func (h *recordHandler) records(t *testing.T) []map[string]any {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(h.buf.String()), "\n") {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec), line)
		out = append(out, rec)
	}
	return out
}

// With Config.Slog the kernel's logs arrive as slog records: the crank
// lines at debug level with their fields (numbers as numbers) and
// duration, a vat's failure at warn, and protoactor's own logs, which go
// to slog directly, with their component.
func TestSlogLogger(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		h := newRecordHandler(slog.LevelDebug)
		k := start(t, actors.Config{Registry: troubleRegistry(nil), Slog: slog.New(h)})
		res, err := k.LaunchSubcluster(ctx, troubleCluster())
		require.NoError(t, err)
		_, err = k.QueueMessage(ctx, res.RootKref, "panic")
		require.Error(t, err)
		k.System().Root.Send(k.System().NewLocalPID("nobody"), "hello") // a dead letter
		synctest.Wait()
		require.NoError(t, k.Stop(ctx))

		var cranks, warns, protoactor int
		for _, rec := range h.records(t) {
			switch {
			case rec["msg"] == "crank":
				cranks++
				require.Equal(t, "DEBUG", rec["level"])
				require.IsType(t, float64(0), rec["crank"], "a number stays a number")
				require.Contains(t, rec, "took")
				require.Contains(t, rec, "vat")
			case rec["level"] == "WARN" && rec["component"] == "kernel":
				warns++
			}
			if rec["component"] == "protoactor" {
				protoactor++
			}
		}
		require.NotZero(t, cranks)
		require.NotZero(t, warns, "the vat's failure")
		require.NotZero(t, protoactor)
	})
}

// A handler at info level gets no debug records: the kernel does not even
// build them (its zerolog level follows the handler's).
func TestSlogLevel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		h := newRecordHandler(slog.LevelInfo)
		k := start(t, actors.Config{Registry: troubleRegistry(nil), Slog: slog.New(h)})
		res, err := k.LaunchSubcluster(ctx, troubleCluster())
		require.NoError(t, err)
		_, err = k.QueueMessage(ctx, res.RootKref, "panic")
		require.Error(t, err)
		require.NoError(t, k.Stop(ctx))
		recs := h.records(t)
		require.NotEmpty(t, recs)
		for _, rec := range recs {
			require.NotEqual(t, "DEBUG", rec["level"], "%v", rec)
		}
	})
}

// Logger and Slog together are refused, naming both.
func TestLoggerAndSlogAreExclusive(t *testing.T) {
	var sink syncBuffer
	_, err := actors.Start(context.Background(), actors.Config{Registry: registry(),
		Logger: zerolog.New(&sink), Slog: slog.New(slog.DiscardHandler)})
	require.ErrorIs(t, err, actors.ErrConfig)
	require.ErrorContains(t, err, "Config.Logger and Config.Slog")
}
