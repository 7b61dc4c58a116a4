package control

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/clusterfile"
	"github.com/ocapgo/kernel-actors/console"
	"github.com/ocapgo/kernel-actors/inspect"
	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/vat"
)

// Defaults for a Server.
const (
	DefaultMaxBody = 1 << 20 // bytes
	DefaultTimeout = time.Minute
)

// Server serves the control API over a kernel.
type Server struct {
	// Kernel is the kernel to control. Required.
	Kernel *actors.Kernel
	// Token is the bearer token every request must carry. Required.
	Token string
	// Registry, if set, lets a launch name an unknown bundle at its line.
	Registry *vat.Registry
	// MaxBody bounds a request body in bytes; 0 means DefaultMaxBody.
	MaxBody int64
	// Timeout bounds a request's wait for the kernel (a send waits for its
	// result); 0 means DefaultTimeout.
	Timeout time.Duration
	// Logger logs each request at debug level and failures at warn.
	Logger zerolog.Logger

	// The connection limits, used by HTTPServer and Listener (listen.go);
	// 0 means the default.

	// ReadHeaderTimeout bounds the wait for a request's headers
	// (DefaultReadHeaderTimeout; at most ReadTimeout).
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request (DefaultReadTimeout).
	ReadTimeout time.Duration
	// IdleTimeout bounds a kept-alive connection between requests
	// (DefaultIdleTimeout).
	IdleTimeout time.Duration
	// MaxConns bounds the connections open at once (DefaultMaxConns).
	MaxConns int

	// Metrics, if set, serves GET /metrics (the kernel's metrics as
	// Prometheus text) with no token (health.go); nil answers 404 there.
	// /healthz and /readyz are always served, with no token either.
	Metrics http.Handler

	// Console, if set, serves the web console's page at /ui and its live
	// stream at /v1/events (console.go); nil answers 404 at both. The
	// console's other endpoints, /v1/refs and /v1/audit, read the store
	// and are served either way.
	Console *console.Hub
}

// Handler returns the API's handler: the /v1 endpoints behind the bearer
// token, and /healthz, /readyz and /metrics without it (health.go).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	route := func(pattern, method string, h func(w http.ResponseWriter, r *http.Request) (any, error)) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			if r.Method != method {
				w.Header().Set("Allow", method)
				s.fail(w, r, &APIError{Status: http.StatusMethodNotAllowed, Code: "METHOD_NOT_ALLOWED",
					Message: fmt.Sprintf("%s wants %s, not %s", r.URL.Path, method, r.Method)})
				return
			}
			v, err := h(w, r)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, v)
		})
	}
	route("/v1/status", http.MethodGet, s.status)
	route("/v1/vats", http.MethodGet, s.vats)
	route("/v1/subclusters", http.MethodPost, s.launch)
	route("/v1/subclusters/{id}", http.MethodDelete, s.terminateSubcluster)
	route("/v1/send", http.MethodPost, s.send)
	route("/v1/vats/{id}/terminate", http.MethodPost, s.terminateVat)
	route("/v1/vats/{id}/restart", http.MethodPost, s.restartVat)
	route("/v1/vats/{id}/upgrade", http.MethodPost, s.upgradeVat)
	route("/v1/vats/{id}/ping", http.MethodGet, s.ping)
	route("/v1/vats/{id}/log", http.MethodGet, s.vatLog)
	route("/v1/revoke", http.MethodPost, s.revoke)
	route("/v1/release", http.MethodPost, s.release)
	route("/v1/inspect", http.MethodGet, s.inspect)
	s.consoleRoutes(mux, route)
	s.remoteRoutes(mux, route)
	s.urlRoutes(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, &APIError{Status: http.StatusNotFound, Code: "NOT_FOUND", Message: "no endpoint " + r.URL.Path})
	})
	return s.opsHandler(s.authenticate(mux))
}

// authenticate refuses a request without the right bearer token, before
// reading its body.
func (s *Server) authenticate(next http.Handler) http.Handler {
	want := []byte("Bearer " + s.Token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := []byte(r.Header.Get("Authorization"))
		if s.Token == "" || subtle.ConstantTimeCompare(got, want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="kernel-actors"`)
			msg := "missing bearer token (Authorization: Bearer <token from the .token file beside the database>)"
			if len(got) > 0 {
				msg = "wrong bearer token"
			}
			s.fail(w, r, &APIError{Status: http.StatusUnauthorized, Code: "UNAUTHORIZED", Message: msg})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// ctx bounds a request's wait for the kernel by Timeout, and ends it when
// the client goes away: a send whose client left stops waiting (the
// message itself stays queued; its result is the kernel's to settle).
func (s *Server) ctx(r *http.Request) (context.Context, context.CancelFunc) {
	d := s.Timeout
	if d <= 0 {
		d = DefaultTimeout
	}
	return context.WithTimeout(r.Context(), d)
}

// decode reads one JSON value into v: size-limited, unknown fields refused,
// numbers kept exact.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := s.body(w, r)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return badRequest("body: %v", err)
	}
	if dec.More() {
		return badRequest("body: more than one JSON value")
	}
	return nil
}

// body reads the request body, at most MaxBody bytes: a larger one is a
// 413 naming the limit, read no further than the limit.
func (s *Server) body(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	limit := s.MaxBody
	if limit <= 0 {
		limit = DefaultMaxBody
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, &APIError{Status: http.StatusRequestEntityTooLarge, Code: "TOO_LARGE",
			Message: fmt.Sprintf("request body over %d bytes", limit)}
	}
	if err != nil {
		return nil, badRequest("body: %v", err)
	}
	return body, nil
}

// badRequest is the 400 for a request this API cannot read.
func badRequest(format string, args ...any) *APIError {
	return &APIError{Status: http.StatusBadRequest, Code: "BAD_REQUEST", Message: fmt.Sprintf(format, args...)}
}

// fail answers err as an ErrorBody. A 5xx is logged at warn: it is the
// server's problem (or a bug); a 4xx only at debug, since clients cause
// them at will.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	e := classify(err)
	ev := s.Logger.Debug()
	if e.Status >= 500 {
		ev = s.Logger.Warn()
	}
	ev.Str("method", r.Method).Str("path", r.URL.Path).Int("status", e.Status).Str("code", e.Code).Msg("request failed")
	writeJSON(w, e.Status, ErrorBody{Error: *e})
}

// writeJSON answers v, indented for a person reading curl's output.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // the client went away: nothing to do
}

// status answers GET /v1/status.
func (s *Server) status(w http.ResponseWriter, r *http.Request) (any, error) {
	ctx, cancel := s.ctx(r)
	defer cancel()
	st, err := s.Kernel.Status(ctx)
	if err != nil {
		return nil, err
	}
	return statusJSON(st), nil
}

// vats answers GET /v1/vats: status's list of vats alone.
func (s *Server) vats(w http.ResponseWriter, r *http.Request) (any, error) {
	st, err := s.status(w, r)
	if err != nil {
		return nil, err
	}
	return st.(Status).Vats, nil
}

// launch reads the body as a cluster config with the same strict reader
// as config files, so errors name the line and the field.
func (s *Server) launch(w http.ResponseWriter, r *http.Request) (any, error) {
	body, err := s.body(w, r)
	if err != nil {
		return nil, err
	}
	var opts clusterfile.Options
	if s.Registry != nil {
		opts.Bundle = func(name string) error { _, _, err := s.Registry.LookupAny(name); return err }
	}
	cfg, err := clusterfile.Parse(body, opts)
	if err != nil {
		return nil, err
	}
	ctx, cancel := s.ctx(r)
	defer cancel()
	res, err := s.Kernel.LaunchSubcluster(ctx, cfg)
	if err != nil {
		return nil, err
	}
	out := LaunchResponse{SubclusterID: string(res.SubclusterID), RootKref: string(res.RootKref),
		VatIDs: map[string]string{}, Roots: map[string]string{}}
	for name, id := range res.VatIDs {
		out.VatIDs[name] = string(id)
	}
	for name, kref := range res.Roots {
		out.Roots[name] = string(kref)
	}
	if out.BootstrapResult, err = json.Marshal(ToJSON(res.BootstrapResult)); err != nil {
		return nil, err
	}
	return out, nil
}

// terminateSubcluster answers DELETE /v1/subclusters/{id}; the id is
// the kernel's to check (an unknown one is a 404).
func (s *Server) terminateSubcluster(w http.ResponseWriter, r *http.Request) (any, error) {
	ctx, cancel := s.ctx(r)
	defer cancel()
	return struct{}{}, s.Kernel.TerminateSubcluster(ctx, kernel.SubclusterID(r.PathValue("id")))
}

// send answers POST /v1/send once the message's result settles (or the
// request's Timeout runs out: 504). With an idempotency key (header or
// body) it is QueueMessageOnce: a retry applies nothing and gets the first
// result. Target, key and arguments are checked here,
// where a mistake can be named by its place in the body; what a value may
// not be (an integer past 2^53 or nesting too deep) the marshaller says,
// and classify makes it a 400.
func (s *Server) send(w http.ResponseWriter, r *http.Request) (any, error) {
	var req SendRequest
	if err := s.decode(w, r, &req); err != nil {
		return nil, err
	}
	if req.Target == "" || req.Method == "" {
		return nil, badRequest("body: target and method are required")
	}
	if _, err := kernel.ParseKRef(req.Target); err != nil {
		return nil, fmt.Errorf("target: %w", err)
	}
	key, err := sendKey(r, req.IdempotencyKey)
	if err != nil {
		return nil, err
	}
	args := make([]any, len(req.Args))
	for i, a := range req.Args {
		v, err := FromJSON(a, fmt.Sprintf("args[%d]", i))
		if err != nil {
			return nil, err
		}
		args[i] = v
	}
	ctx, cancel := s.ctx(r)
	defer cancel()
	var v any
	if key == "" {
		v, err = s.Kernel.QueueMessage(ctx, kernel.KRef(req.Target), req.Method, args...)
	} else {
		// A retry of an earlier send under key is answered with that
		// send's result; the kernel decides, in its own unit.
		v, err = s.Kernel.QueueMessageOnce(ctx, key, kernel.KRef(req.Target), req.Method, args...)
	}
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(ToJSON(v))
	if err != nil {
		return nil, err
	}
	return SendResponse{Result: raw}, nil
}

// terminateVat answers POST /v1/vats/{id}/terminate, with a reason for
// the vat's log.
func (s *Server) terminateVat(w http.ResponseWriter, r *http.Request) (any, error) {
	var req TerminateRequest
	if err := s.decode(w, r, &req); err != nil {
		return nil, err
	}
	if req.Reason == "" {
		req.Reason = "terminated through the control API"
	}
	ctx, cancel := s.ctx(r)
	defer cancel()
	return struct{}{}, s.Kernel.TerminateVat(ctx, kernel.VatID(r.PathValue("id")), req.Reason)
}

// restartVat answers POST /v1/vats/{id}/restart with the new
// incarnation, read back by a ping so the answer is the running one.
func (s *Server) restartVat(w http.ResponseWriter, r *http.Request) (any, error) {
	ctx, cancel := s.ctx(r)
	defer cancel()
	id := kernel.VatID(r.PathValue("id"))
	if err := s.Kernel.RestartVat(ctx, id); err != nil {
		return nil, err
	}
	inc, err := s.Kernel.PingVat(ctx, id)
	return PingResponse{Incarnation: inc}, err
}

// upgradeVat answers POST /v1/vats/{id}/upgrade with the new
// incarnation; an unknown bundle, a bundleSpec for a Go vat or a bundle
// for a JavaScript one is the kernel's to refuse (400).
func (s *Server) upgradeVat(w http.ResponseWriter, r *http.Request) (any, error) {
	var req UpgradeRequest
	if err := s.decode(w, r, &req); err != nil {
		return nil, err
	}
	switch {
	case req.Bundle == "" && req.BundleSpec == "":
		return nil, badRequest("body: bundle (a Go vat's) or bundleSpec (a JavaScript vat's) is required")
	case req.Bundle != "" && req.BundleSpec != "":
		return nil, badRequest("body: bundle and bundleSpec are both given; want one")
	case req.Bundle != "" && len(req.Globals) > 0:
		return nil, badRequest("body: globals go with a bundleSpec, not a bundle")
	}
	ctx, cancel := s.ctx(r)
	defer cancel()
	id := kernel.VatID(r.PathValue("id"))
	if req.BundleSpec != "" {
		if err := s.Kernel.UpgradeJSVat(ctx, id, req.BundleSpec, req.Globals); err != nil {
			return nil, err
		}
	} else if err := s.Kernel.UpgradeVat(ctx, id, req.Bundle); err != nil {
		return nil, err
	}
	inc, err := s.Kernel.PingVat(ctx, id)
	return PingResponse{Incarnation: inc}, err
}

// ping answers GET /v1/vats/{id}/ping: the incarnation of the vat's
// running actor, or 409 if it has none.
func (s *Server) ping(w http.ResponseWriter, r *http.Request) (any, error) {
	ctx, cancel := s.ctx(r)
	defer cancel()
	inc, err := s.Kernel.PingVat(ctx, kernel.VatID(r.PathValue("id")))
	return PingResponse{Incarnation: inc}, err
}

// vatLog answers a vat's lifecycle log; a vat the store does not know is
// a 404 (the kernel's VatLog answers an empty log for it, which would
// pass for a vat that never failed).
func (s *Server) vatLog(w http.ResponseWriter, r *http.Request) (any, error) {
	ctx, cancel := s.ctx(r)
	defer cancel()
	id := kernel.VatID(r.PathValue("id"))
	if err := s.Kernel.ReadStore(ctx, func(st *persistence.Store) error {
		if _, ok := st.Vat(string(id)); !ok {
			return fmt.Errorf("vat %q: %w", id, kernel.ErrUnknownVat)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	evs, err := s.Kernel.VatLog(ctx, id)
	if err != nil {
		return nil, err
	}
	out := []VatEvent{}
	for _, e := range evs {
		out = append(out, eventJSON(e))
	}
	return out, nil
}

// kref reads the body {"kref": ...} of revoke and release, refusing one
// that does not parse before it reaches the kernel.
func (s *Server) kref(w http.ResponseWriter, r *http.Request) (kernel.KRef, error) {
	var req KRefRequest
	if err := s.decode(w, r, &req); err != nil {
		return "", err
	}
	if _, err := kernel.ParseKRef(req.KRef); err != nil {
		return "", fmt.Errorf("kref: %w", err)
	}
	return kernel.KRef(req.KRef), nil
}

// revoke answers POST /v1/revoke.
func (s *Server) revoke(w http.ResponseWriter, r *http.Request) (any, error) {
	kref, err := s.kref(w, r)
	if err != nil {
		return nil, err
	}
	ctx, cancel := s.ctx(r)
	defer cancel()
	return struct{}{}, s.Kernel.Revoke(ctx, kref)
}

// release answers POST /v1/release: the host lets go of one pin.
func (s *Server) release(w http.ResponseWriter, r *http.Request) (any, error) {
	kref, err := s.kref(w, r)
	if err != nil {
		return nil, err
	}
	ctx, cancel := s.ctx(r)
	defer cancel()
	return struct{}{}, s.Kernel.Release(ctx, kref)
}

// inspect answers GET /v1/inspect with the inspector's report, read
// between cranks (ReadStore) so it is one consistent state; ?audit=0
// skips the auditor, whose cost grows with the store.
func (s *Server) inspect(w http.ResponseWriter, r *http.Request) (any, error) {
	ctx, cancel := s.ctx(r)
	defer cancel()
	var rep inspect.Report
	err := s.Kernel.ReadStore(ctx, func(st *persistence.Store) error {
		var err error
		rep, err = inspect.Read(ctx, st, r.URL.Query().Get("audit") != "0")
		return err
	})
	if err != nil {
		return rep, err
	}
	// The store says active; the runtime knows which active vats are
	// paged out (docs/paging.md), and a live view shows it.
	status, err := s.Kernel.Status(ctx)
	if err != nil {
		return rep, err
	}
	paged := map[string]bool{}
	for _, id := range status.PagedOut {
		paged[string(id)] = true
	}
	for i := range rep.Vats {
		if paged[rep.Vats[i].ID] {
			rep.Vats[i].State = "paged-out"
		}
	}
	return rep, nil
}
