package control

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/ocapgo/kernel-actors/persistence"
)

// The operations endpoints: /healthz, /readyz and /metrics. They need no
// token, since a load balancer, a container runtime's probe or a
// Prometheus scrape holds none, and so they say nothing a token guards:
// no kref, no vat id or name, no error text (which could carry a path),
// only fixed words and counts. docs/observability.md describes them.

// readyTimeout bounds /readyz's wait for the kernel: a kernel that cannot
// answer a read between cranks within it is not ready to serve.
const readyTimeout = 5 * time.Second

// Readiness says why the kernel is, or is not, ready (/readyz's body).
type Readiness struct {
	Ready bool `json:"ready"`
	// Reason is one of the fixed words below when not ready.
	Reason string `json:"reason,omitempty"`
}

// The reasons /readyz gives when the kernel is not ready.
const (
	// NotReadyStopped: the kernel stopped (or stopped itself).
	NotReadyStopped = "kernel stopped"
	// NotReadyStore: the store refuses writes (a failed flush, or closed).
	NotReadyStore = "store not writable"
	// NotReadyBusy: the kernel did not answer within the probe's time.
	NotReadyBusy = "kernel not answering"
)

// opsHandler serves the operations endpoints of mux that need no token;
// every other path goes to api (behind the token).
func (s *Server) opsHandler(api http.Handler) http.Handler {
	ops := http.NewServeMux()
	ops.HandleFunc("/healthz", s.onlyGet(s.healthz))
	ops.HandleFunc("/readyz", s.onlyGet(s.readyz))
	ops.HandleFunc("/metrics", s.onlyGet(s.metrics))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz", "/readyz", "/metrics":
			ops.ServeHTTP(w, r)
		default:
			if isUI(r.URL.Path) {
				// The console's page: no data in it, so no token
				// (console.go); what it shows comes from /v1, with one.
				s.onlyGet(s.ui)(w, r)
				return
			}
			api.ServeHTTP(w, r)
		}
	})
}

// onlyGet refuses every method but GET (and HEAD, which net/http answers
// from GET's headers).
func (s *Server) onlyGet(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", http.MethodGet)
			s.fail(w, r, &APIError{Status: http.StatusMethodNotAllowed, Code: "METHOD_NOT_ALLOWED",
				Message: r.URL.Path + " wants GET, not " + r.Method})
			return
		}
		h(w, r)
	}
}

// healthz answers 200 while the process serves HTTP at all: a liveness
// probe. It does not ask the kernel, so a kernel busy with a long crank
// is not taken for a dead process.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write([]byte("ok\n"))
}

// readyz answers 200 when the kernel takes work and its store takes
// writes, and 503 naming which is not so: a readiness probe.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	rd := s.readiness(r.Context())
	status := http.StatusOK
	if !rd.Ready {
		status = http.StatusServiceUnavailable
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, rd)
}

// readiness asks the kernel, between cranks, whether its store still
// takes writes (persistence.Store.Err: nil unless a flush failed or the
// store is closed).
func (s *Server) readiness(ctx context.Context) Readiness {
	if s.Kernel.Err() != nil {
		return Readiness{Reason: NotReadyStopped}
	}
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	err := s.Kernel.ReadStore(ctx, func(st *persistence.Store) error { return st.Err() })
	switch {
	case err == nil:
		return Readiness{Ready: true}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return Readiness{Reason: NotReadyBusy}
	case s.Kernel.Err() != nil:
		return Readiness{Reason: NotReadyStopped}
	default:
		return Readiness{Reason: NotReadyStore}
	}
}

// metrics serves Server.Metrics (Prometheus text), or 404 when the
// server has none.
func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	if s.Metrics == nil {
		s.fail(w, r, &APIError{Status: http.StatusNotFound, Code: "NOT_FOUND", Message: "this server exports no metrics"})
		return
	}
	s.Metrics.ServeHTTP(w, r)
}
