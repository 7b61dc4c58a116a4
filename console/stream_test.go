package console

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// stalledWriter is a client connection that stopped reading: the first
// write (the retry line) goes through, and every later one fails as a
// write past its deadline does. It records the deadlines it was given.
type stalledWriter struct {
	*httptest.ResponseRecorder
	mu        sync.Mutex
	writes    int
	deadlines []time.Time
}

func (w *stalledWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes++
	if w.writes > 1 {
		return 0, os.ErrDeadlineExceeded
	}
	return w.ResponseRecorder.Write(b)
}

// SetWriteDeadline is what http.ResponseController calls.
func (w *stalledWriter) SetWriteDeadline(t time.Time) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.deadlines = append(w.deadlines, t)
	return nil
}

// A stream whose client stalls is dropped at its first failed write:
// ServeEvents returns and the subscription is gone, while the hub keeps
// publishing. Every write was given a deadline of writeTimeout.
func TestStalledClientDropped(t *testing.T) {
	h := New(Options{})
	defer h.Close()
	w := &stalledWriter{ResponseRecorder: httptest.NewRecorder()}
	r := httptest.NewRequestWithContext(context.Background(), http.MethodGet, "/v1/events", nil)
	done := make(chan error, 1)
	began := time.Now()
	go func() { done <- h.ServeEvents(w, r) }()
	// Once the stream has its subscription, one snapshot: its write
	// fails, and the stream goes. The hub itself never waits for it.
	for h.Streams() == 0 {
		runtime.Gosched() // the handler's goroutine subscribing
	}
	h.publish(newSnapshot(Counts{Seq: 1}, View{}))
	select {
	case err := <-done:
		require.NoError(t, err, "a dropped stream is an ended stream, not an error")
	case <-time.After(30 * time.Second):
		t.Fatal("the stalled stream was never dropped")
	}
	require.Zero(t, h.Streams(), "its subscription was released")
	w.mu.Lock()
	defer w.mu.Unlock()
	require.Equal(t, 2, w.writes, "the retry line, then the first snapshot, which failed")
	require.Len(t, w.deadlines, 2, "a deadline before each write")
	for _, d := range w.deadlines {
		require.False(t, d.Before(began.Add(writeTimeout)), "each deadline is writeTimeout ahead")
	}
	require.Equal(t, "text/event-stream", w.Header().Get("Content-Type"))
}
