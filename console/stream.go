package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

const (
	// writeTimeout bounds writing one event to a stream: a client that
	// takes longer (it stopped reading, its network stalled) is dropped.
	writeTimeout = 10 * time.Second
	// keepAlive is how often a stream with no snapshot to send (a kernel
	// that stays in one long crank) gets a comment line, so proxies and
	// the browser keep it open.
	keepAlive = 15 * time.Second
)

// wireFrame is Frame as written: the view comes marshalled, shared by
// every stream.
type wireFrame struct {
	Counts
	View    json.RawMessage `json:"view,omitempty"`
	History []Point         `json:"history,omitempty"`
	Missed  uint64          `json:"missed"`
}

// ServeEvents streams snapshots to one client as Server-Sent Events
// (text/event-stream), until the client goes, the hub closes (the server
// stops, or the kernel did) or a write takes longer than writeTimeout.
// The caller authenticates the request first. It returns ErrTooManyStreams
// or ErrClosed, having written nothing, when it cannot subscribe, and nil
// once a stream it started has ended.
func (h *Hub) ServeEvents(w http.ResponseWriter, r *http.Request) error {
	sub, err := h.Subscribe()
	if err != nil {
		return err
	}
	defer sub.Close()
	rc := http.NewResponseController(w)
	// The server's ReadTimeout does not reach the stream: net/http
	// clears the read deadline once the request is read, for the
	// background read that sees the client go (and ends r.Context()).
	// Its WriteTimeout would; write sets a deadline per event instead.
	hdr := w.Header()
	hdr.Set("Content-Type", "text/event-stream")
	hdr.Set("Cache-Control", "no-store")
	// A proxy that buffers would hold the stream back (nginx reads this).
	hdr.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	// The retry hint is for a client that reconnects on its own; the
	// console's does, after the interval.
	if err := h.write(w, rc, fmt.Appendf(nil, "retry: %d\n\n", h.opts.Interval.Milliseconds())); err != nil {
		return nil
	}
	ka := time.NewTicker(keepAlive)
	defer ka.Stop()
	var lastView []byte
	first := true
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-sub.Gone():
			return nil
		case <-ka.C:
			if err := h.write(w, rc, []byte(": keep-alive\n\n")); err != nil {
				return nil
			}
		case snap := <-sub.Snapshots():
			f := wireFrame{Counts: snap.counts, Missed: sub.Missed()}
			if first || !bytes.Equal(snap.viewJS, lastView) {
				f.View, lastView = snap.viewJS, snap.viewJS
			}
			if first {
				f.History = h.historyCopy()
				first = false
			}
			ev := fmt.Appendf(nil, "id: %d\nevent: snapshot\ndata: %s\n\n", snap.counts.Seq, mustJSON(f))
			if err := h.write(w, rc, ev); err != nil {
				return nil
			}
		}
	}
}

// write writes one event and flushes it, within writeTimeout. The
// deadline also replaces the server's WriteTimeout, which a stream would
// otherwise outlive.
func (h *Hub) write(w http.ResponseWriter, rc *http.ResponseController, b []byte) error {
	// A deadline the connection cannot take (a test's recorder) leaves the
	// server's own limits in force.
	_ = rc.SetWriteDeadline(time.Now().Add(writeTimeout))
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("console: write event: %w", err)
	}
	if err := rc.Flush(); err != nil {
		return fmt.Errorf("console: flush event: %w", err)
	}
	return nil
}
