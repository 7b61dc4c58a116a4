package control

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/ocapgo/kernel-actors/kernel"
)

// The remote endpoints (docs/remote.md, "Serving"): the kernel's peer
// kernels and the introductions between them, for a kernel started with
// a remote (serve --remote-listen). A kernel without one answers them
// 409 NO_REMOTE.

// Remote is one peer kernel, as GET /v1/remotes lists it.
type Remote struct {
	ID      string `json:"id"`
	Peer    string `json:"peer"`
	Address string `json:"address"`
	// Pending is how many messages wait in its outbox for its ack.
	Pending int  `json:"pending"`
	GivenUp bool `json:"givenUp"`
}

// Peer is a kernel's identity on the network: the peer id others pin,
// and the address they reach it at.
type Peer struct {
	ID      string `json:"id"`
	Address string `json:"address"`
}

// AddRemoteRequest is the body of POST /v1/remotes.
type AddRemoteRequest struct {
	Peer    string `json:"peer"`
	Address string `json:"address"`
}

// AddRemoteResponse is its answer: the remote's id.
type AddRemoteResponse struct {
	ID string `json:"id"`
}

// ExportRequest is the body of POST /v1/remotes/{id}/export: an object
// the host holds.
type ExportRequest struct {
	KRef string `json:"kref"`
}

// ExportResponse is its answer: the ref the peer knows the object by,
// for the peer's POST /v1/remotes/{id}/import.
type ExportResponse struct {
	Ref string `json:"ref"`
}

// ImportRequest is the body of POST /v1/remotes/{id}/import.
type ImportRequest struct {
	Ref string `json:"ref"`
}

// ImportResponse is its answer: the presence, a kref pinned for the host
// (POST /v1/release lets go of it).
type ImportResponse struct {
	KRef string `json:"kref"`
}

// remoteRoutes adds the remote endpoints behind the token.
func (s *Server) remoteRoutes(mux *http.ServeMux, route func(pattern, method string, h func(w http.ResponseWriter, r *http.Request) (any, error))) {
	// One path, two methods: a pattern is registered once, so the method
	// is chosen here.
	mux.HandleFunc("/v1/remotes", func(w http.ResponseWriter, r *http.Request) {
		var h func(http.ResponseWriter, *http.Request) (any, error)
		switch r.Method {
		case http.MethodGet:
			h = s.remotes
		case http.MethodPost:
			h = s.addRemote
		default:
			w.Header().Set("Allow", "GET, POST")
			s.fail(w, r, &APIError{Status: http.StatusMethodNotAllowed, Code: "METHOD_NOT_ALLOWED",
				Message: "/v1/remotes wants GET or POST, not " + r.Method})
			return
		}
		v, err := h(w, r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, v)
	})
	route("/v1/remotes/{id}/export", http.MethodPost, s.exportToRemote)
	route("/v1/remotes/{id}/import", http.MethodPost, s.importFromRemote)
	route("/v1/remotes/{id}/give-up", http.MethodPost, s.giveUpRemote)
}

// remotes answers GET /v1/remotes.
func (s *Server) remotes(w http.ResponseWriter, r *http.Request) (any, error) {
	ctx, cancel := s.ctx(r)
	defer cancel()
	infos, err := s.Kernel.Remotes(ctx)
	if err != nil {
		return nil, err
	}
	out := []Remote{}
	for _, i := range infos {
		out = append(out, remoteJSON(i))
	}
	return out, nil
}

func remoteJSON(i kernel.RemoteInfo) Remote {
	return Remote{ID: string(i.ID), Peer: i.PeerID, Address: i.Address, Pending: i.Pending, GivenUp: i.GivenUp}
}

// addRemote answers POST /v1/remotes; the kernel checks the peer id (64
// lower-case hex digits, a 400 otherwise).
func (s *Server) addRemote(w http.ResponseWriter, r *http.Request) (any, error) {
	var req AddRemoteRequest
	if err := s.decode(w, r, &req); err != nil {
		return nil, err
	}
	if req.Peer == "" || req.Address == "" {
		return nil, badRequest("body: peer and address are required")
	}
	if err := checkAddress(req.Address); err != nil {
		return nil, err
	}
	ctx, cancel := s.ctx(r)
	defer cancel()
	id, err := s.Kernel.AddRemote(ctx, req.Peer, req.Address)
	if err != nil {
		return nil, err
	}
	return AddRemoteResponse{ID: string(id)}, nil
}

// checkAddress refuses an address that is not host:port, before it is
// pinned and dialled for ever.
func checkAddress(addr string) error {
	i := strings.LastIndexByte(addr, ':')
	if i <= 0 || i == len(addr)-1 {
		return badRequest("address %q: want HOST:PORT", addr)
	}
	return nil
}

// remoteID reads the {id} of a remote path, refusing what cannot be one.
func remoteID(r *http.Request) (kernel.RemoteID, error) {
	id := r.PathValue("id")
	if len(id) < 2 || id[0] != 'r' {
		return "", &APIError{Status: http.StatusNotFound, Code: "NOT_FOUND", Message: fmt.Sprintf("no remote %q (remote ids are r1, r2, ...)", id)}
	}
	return kernel.RemoteID(id), nil
}

// exportToRemote answers POST /v1/remotes/{id}/export.
func (s *Server) exportToRemote(w http.ResponseWriter, r *http.Request) (any, error) {
	id, err := remoteID(r)
	if err != nil {
		return nil, err
	}
	var req ExportRequest
	if err := s.decode(w, r, &req); err != nil {
		return nil, err
	}
	if _, err := kernel.ParseKRef(req.KRef); err != nil {
		return nil, fmt.Errorf("kref: %w", err)
	}
	ctx, cancel := s.ctx(r)
	defer cancel()
	ref, err := s.Kernel.ExportToRemote(ctx, id, kernel.KRef(req.KRef))
	if err != nil {
		return nil, err
	}
	return ExportResponse{Ref: ref}, nil
}

// importFromRemote answers POST /v1/remotes/{id}/import.
func (s *Server) importFromRemote(w http.ResponseWriter, r *http.Request) (any, error) {
	id, err := remoteID(r)
	if err != nil {
		return nil, err
	}
	var req ImportRequest
	if err := s.decode(w, r, &req); err != nil {
		return nil, err
	}
	if req.Ref == "" {
		return nil, badRequest("body: ref is required")
	}
	ctx, cancel := s.ctx(r)
	defer cancel()
	kref, err := s.Kernel.ImportFromRemote(ctx, id, req.Ref)
	if err != nil {
		return nil, err
	}
	return ImportResponse{KRef: string(kref)}, nil
}

// giveUpRemote answers POST /v1/remotes/{id}/give-up.
func (s *Server) giveUpRemote(w http.ResponseWriter, r *http.Request) (any, error) {
	id, err := remoteID(r)
	if err != nil {
		return nil, err
	}
	ctx, cancel := s.ctx(r)
	defer cancel()
	return struct{}{}, s.Kernel.GiveUpRemote(ctx, id)
}

// Remotes lists the kernel's peer kernels.
func (c *Client) Remotes(ctx context.Context) ([]Remote, error) {
	var out []Remote
	return out, c.do(ctx, http.MethodGet, "/v1/remotes", nil, &out)
}

// AddRemote makes the kernel with peer id peer, at address, a peer of
// this one, and returns its remote id.
func (c *Client) AddRemote(ctx context.Context, peer, address string) (string, error) {
	var out AddRemoteResponse
	return out.ID, c.do(ctx, http.MethodPost, "/v1/remotes", AddRemoteRequest{Peer: peer, Address: address}, &out)
}

// ExportToRemote gives remote a reference to kref and returns the ref
// the peer knows it by.
func (c *Client) ExportToRemote(ctx context.Context, remote, kref string) (string, error) {
	var out ExportResponse
	return out.Ref, c.do(ctx, http.MethodPost, "/v1/remotes/"+url.PathEscape(remote)+"/export", ExportRequest{KRef: kref}, &out)
}

// ImportFromRemote turns the peer's ref into a presence and returns its
// kref.
func (c *Client) ImportFromRemote(ctx context.Context, remote, ref string) (string, error) {
	var out ImportResponse
	return out.KRef, c.do(ctx, http.MethodPost, "/v1/remotes/"+url.PathEscape(remote)+"/import", ImportRequest{Ref: ref}, &out)
}

// GiveUpRemote gives up on a peer now.
func (c *Client) GiveUpRemote(ctx context.Context, remote string) error {
	return c.do(ctx, http.MethodPost, "/v1/remotes/"+url.PathEscape(remote)+"/give-up", nil, nil)
}
