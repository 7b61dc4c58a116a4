package control

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/ocapgo/kernel-actors/console"
	"github.com/ocapgo/kernel-actors/inspect"
	"github.com/ocapgo/kernel-actors/persistence"
)

// The console's endpoints (docs/console.md): /ui, its page, with no
// token (it holds no data; everything it shows comes from the /v1
// endpoints, with the token the operator types into it), and, behind the
// token, /v1/events (the live stream), /v1/refs (objects and promises,
// searched) and /v1/audit (the auditor's verdict).

// Bounds of GET /v1/refs.
const (
	DefaultRefsLimit = 50
	MaxRefsLimit     = 500
)

// RefsResponse is the answer of GET /v1/refs: the objects and promises
// that match the query, at most limit of each, in kref order.
type RefsResponse struct {
	Objects  []inspect.Object  `json:"objects"`
	Promises []inspect.Promise `json:"promises"`
	// ObjectsMatched and PromisesMatched count all the matches, beyond
	// the limit too.
	ObjectsMatched  int `json:"objectsMatched"`
	PromisesMatched int `json:"promisesMatched"`
}

// AuditResponse is the answer of GET /v1/audit.
type AuditResponse struct {
	// OK: the auditor found nothing and the inspector read every row.
	OK bool `json:"ok"`
	// Cranks is the crank the verdict is about: the audit ran after it.
	Cranks uint64 `json:"cranks"`
	// Audit is the auditor's (kernel.Audit) verdict, Problems what the
	// inspector could not read.
	Audit    inspect.Audit `json:"audit"`
	Problems []string      `json:"problems"`
}

// consoleRoutes adds the console's endpoints behind the token.
func (s *Server) consoleRoutes(mux *http.ServeMux, route func(pattern, method string, h func(w http.ResponseWriter, r *http.Request) (any, error))) {
	// refs and audit answer JSON like every endpoint; events is a stream,
	// so it has a handler of its own, after the same authentication.
	route("/v1/refs", http.MethodGet, s.refs)
	route("/v1/audit", http.MethodGet, s.audit)
	mux.HandleFunc("/v1/events", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", http.MethodGet)
			s.fail(w, r, &APIError{Status: http.StatusMethodNotAllowed, Code: "METHOD_NOT_ALLOWED",
				Message: "/v1/events wants GET, not " + r.Method})
			return
		}
		// A program that embeds the API without a console gets a named
		// 404, not a stream that never sends.
		if s.Console == nil {
			s.fail(w, r, &APIError{Status: http.StatusNotFound, Code: "NOT_FOUND", Message: "this server has no console"})
			return
		}
		// ServeEvents writes nothing when it cannot subscribe, so its
		// error still gets a JSON answer.
		err := s.Console.ServeEvents(w, r)
		switch {
		case errors.Is(err, console.ErrTooManyStreams):
			s.fail(w, r, &APIError{Status: http.StatusServiceUnavailable, Code: "TOO_MANY_STREAMS",
				Message: "the console's event streams are all taken; close one (another tab?) and try again"})
		case err != nil:
			s.fail(w, r, &APIError{Status: http.StatusServiceUnavailable, Code: "UNAVAILABLE", Message: err.Error()})
		}
	})
}

// isUI says whether path is the console's page or one of its files.
func isUI(path string) bool { return path == "/ui" || strings.HasPrefix(path, "/ui/") }

// ui serves the console's files, or 404 when the server has no console.
func (s *Server) ui(w http.ResponseWriter, r *http.Request) {
	if s.Console == nil {
		s.fail(w, r, &APIError{Status: http.StatusNotFound, Code: "NOT_FOUND", Message: "this server has no console"})
		return
	}
	console.Assets().ServeHTTP(w, r)
}

// refs answers GET /v1/refs?q=TEXT&limit=N: the objects and promises
// whose kref, owner, importers, state, decider or subscribers contain
// TEXT (all of them without q). It reads the store between cranks, as
// inspect does, without the audit.
func (s *Server) refs(w http.ResponseWriter, r *http.Request) (any, error) {
	q := r.URL.Query()
	limit := DefaultRefsLimit
	if l := q.Get("limit"); l != "" {
		// Bounded: the answer is built in memory, and a search is for a
		// person reading a table.
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > MaxRefsLimit {
			return nil, badRequest("limit %q: want a whole number from 1 to %d", l, MaxRefsLimit)
		}
		limit = n
	}
	// Case-insensitive: krefs and vat ids are lower case already, and a
	// promise state typed "Fulfilled" should still match.
	text := strings.ToLower(strings.TrimSpace(q.Get("q")))
	// The inspector's reading, without the audit: one consistent state,
	// read by the code that `inspect` uses, so the console and the
	// command line never disagree about an object.
	rep, err := s.report(r, false)
	if err != nil {
		return nil, err
	}
	// Empty lists, not null: the page iterates them as they come.
	out := RefsResponse{Objects: []inspect.Object{}, Promises: []inspect.Promise{}}
	for _, o := range rep.Objects {
		if matches(text, o.KRef, o.Owner, strings.Join(o.Importers, " ")) {
			// Counted past the limit, so the page can say how many it
			// did not show.
			out.ObjectsMatched++
			if len(out.Objects) < limit {
				out.Objects = append(out.Objects, o)
			}
		}
	}
	for _, p := range rep.Promises {
		if matches(text, p.KPID, p.State, p.Decider, strings.Join(p.Subscribers, " ")) {
			out.PromisesMatched++
			if len(out.Promises) < limit {
				out.Promises = append(out.Promises, p)
			}
		}
	}
	return out, nil
}

// matches says whether any field contains text (lower case); "" matches
// everything.
func matches(text string, fields ...string) bool {
	if text == "" {
		return true
	}
	for _, f := range fields {
		if strings.Contains(strings.ToLower(f), text) {
			return true
		}
	}
	return false
}

// audit answers GET /v1/audit: the auditor's verdict on the state between
// cranks, now.
func (s *Server) audit(w http.ResponseWriter, r *http.Request) (any, error) {
	rep, err := s.report(r, true)
	if err != nil {
		return nil, err
	}
	// OK is the report's: audited, and every row readable; the auditor's
	// own verdict is beside it, so a page can say which failed.
	problems := rep.Problems
	if problems == nil {
		problems = []string{}
	}
	return AuditResponse{OK: rep.OK(), Cranks: rep.Cranks, Audit: rep.Audit, Problems: problems}, nil
}

// report reads the inspector's report between cranks.
func (s *Server) report(r *http.Request, audit bool) (inspect.Report, error) {
	ctx, cancel := s.ctx(r)
	defer cancel()
	var rep inspect.Report
	err := s.Kernel.ReadStore(ctx, func(st *persistence.Store) error {
		var err error
		rep, err = inspect.Read(ctx, st, audit)
		return err
	})
	if err != nil {
		// Wrapped, not replaced: classify still finds ErrStopped (503) or
		// the deadline (504) inside; the inspector's errors name rows,
		// never values.
		return rep, fmt.Errorf("read the store: %w", err)
	}
	return rep, nil
}

// Refs searches the objects and promises (GET /v1/refs); limit 0 means
// the server's default.
func (c *Client) Refs(ctx context.Context, query string, limit int) (RefsResponse, error) {
	v := url.Values{"q": {query}}
	if limit > 0 {
		v.Set("limit", strconv.Itoa(limit))
	}
	var out RefsResponse
	err := c.do(ctx, http.MethodGet, "/v1/refs?"+v.Encode(), nil, &out)
	return out, err
}

// Audit asks for the auditor's verdict (GET /v1/audit).
func (c *Client) Audit(ctx context.Context) (AuditResponse, error) {
	var out AuditResponse
	err := c.do(ctx, http.MethodGet, "/v1/audit", nil, &out)
	return out, err
}
