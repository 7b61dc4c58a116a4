package control

import (
	"context"
	"net/http"

	"github.com/ocapgo/kernel-actors/kernel"
)

// The OCAP URL endpoints (docs/remote.md, "OCAP URLs"), for a kernel
// with a remote: issue a URL for an object the host holds, revoke one,
// and redeem another kernel's for a presence.

// IssueURLRequest is the body of POST /v1/urls: the object to issue a
// URL for (a root or any kref the API hands out).
type IssueURLRequest struct {
	KRef string `json:"kref"`
}

// URLBody carries one URL: the answer of POST /v1/urls, and the body of
// DELETE /v1/urls and POST /v1/redeem.
type URLBody struct {
	URL string `json:"url"`
}

// urlRoutes adds the URL endpoints behind the token.
func (s *Server) urlRoutes(mux *http.ServeMux) {
	// One path, two methods: issue and revoke.
	mux.HandleFunc("/v1/urls", func(w http.ResponseWriter, r *http.Request) {
		var h func(http.ResponseWriter, *http.Request) (any, error)
		switch r.Method {
		case http.MethodPost:
			h = s.issueURL
		case http.MethodDelete:
			h = s.revokeURL
		default:
			w.Header().Set("Allow", "POST, DELETE")
			s.fail(w, r, &APIError{Status: http.StatusMethodNotAllowed, Code: "METHOD_NOT_ALLOWED",
				Message: "/v1/urls wants POST or DELETE, not " + r.Method})
			return
		}
		s.answer(w, r, h)
	})
	mux.HandleFunc("/v1/redeem", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			s.fail(w, r, &APIError{Status: http.StatusMethodNotAllowed, Code: "METHOD_NOT_ALLOWED",
				Message: "/v1/redeem wants POST, not " + r.Method})
			return
		}
		s.answer(w, r, s.redeemURL)
	})
}

// answer runs h and writes its answer or its error.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, h func(http.ResponseWriter, *http.Request) (any, error)) {
	v, err := h(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// url reads a {"url": ...} body.
func (s *Server) url(w http.ResponseWriter, r *http.Request) (string, error) {
	var req URLBody
	if err := s.decode(w, r, &req); err != nil {
		return "", err
	}
	if req.URL == "" {
		return "", badRequest("body: url is required")
	}
	return req.URL, nil
}

// issueURL answers POST /v1/urls.
func (s *Server) issueURL(w http.ResponseWriter, r *http.Request) (any, error) {
	var req IssueURLRequest
	if err := s.decode(w, r, &req); err != nil {
		return nil, err
	}
	if _, err := kernel.ParseKRef(req.KRef); err != nil {
		return nil, badRequest("kref: not a kref (want ko<N>)")
	}
	ctx, cancel := s.ctx(r)
	defer cancel()
	url, err := s.Kernel.IssueURL(ctx, kernel.KRef(req.KRef))
	if err != nil {
		return nil, err
	}
	return URLBody{URL: url}, nil
}

// revokeURL answers DELETE /v1/urls.
func (s *Server) revokeURL(w http.ResponseWriter, r *http.Request) (any, error) {
	url, err := s.url(w, r)
	if err != nil {
		return nil, err
	}
	ctx, cancel := s.ctx(r)
	defer cancel()
	return struct{}{}, s.Kernel.RevokeURL(ctx, url)
}

// redeemURL answers POST /v1/redeem once the issuer has answered (or the
// request's Timeout runs out: 504).
func (s *Server) redeemURL(w http.ResponseWriter, r *http.Request) (any, error) {
	url, err := s.url(w, r)
	if err != nil {
		return nil, err
	}
	ctx, cancel := s.ctx(r)
	defer cancel()
	kref, err := s.Kernel.RedeemURL(ctx, url)
	if err != nil {
		return nil, err
	}
	return ImportResponse{KRef: string(kref)}, nil
}

// IssueURL issues an OCAP URL for kref.
func (c *Client) IssueURL(ctx context.Context, kref string) (string, error) {
	var out URLBody
	return out.URL, c.do(ctx, http.MethodPost, "/v1/urls", IssueURLRequest{KRef: kref}, &out)
}

// RevokeURL revokes an OCAP URL the kernel issued.
func (c *Client) RevokeURL(ctx context.Context, url string) error {
	return c.do(ctx, http.MethodDelete, "/v1/urls", URLBody{URL: url}, nil)
}

// RedeemURL redeems an OCAP URL and returns the presence's kref.
func (c *Client) RedeemURL(ctx context.Context, url string) (string, error) {
	var out ImportResponse
	return out.KRef, c.do(ctx, http.MethodPost, "/v1/redeem", URLBody{URL: url}, &out)
}
