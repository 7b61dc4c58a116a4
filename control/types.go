package control

import (
	"encoding/json"
	"slices"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/persistence"
)

// The API's JSON shapes.

// SendRequest is the body of POST /v1/send.
type SendRequest struct {
	Target string `json:"target"`
	Method string `json:"method"`
	Args   []any  `json:"args"` // JSON values; {"@kref": ...} for references
	// IdempotencyKey, if present, makes the send idempotent (see
	// idempotency.go); the Idempotency-Key header may carry it instead.
	// A pointer, so that a key given empty is refused, not ignored.
	IdempotencyKey *string `json:"idempotencyKey,omitempty"`
}

// SendResponse is the answer of POST /v1/send.
type SendResponse struct {
	Result json.RawMessage `json:"result"`
}

// Vat describes one vat.
type Vat struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Subcluster string `json:"subcluster"`
	// Bundle is the registered bundle of a Go vat, "" for a JavaScript
	// one.
	Bundle string `json:"bundle"`
	// BundleSpec is the code of a JavaScript vat, with the Globals it
	// was given.
	BundleSpec string   `json:"bundleSpec,omitempty"`
	Globals    []string `json:"globals,omitempty"`
	// Code names the vat's code, whichever kind: its bundle or its
	// bundleSpec.
	Code          string `json:"code"`
	FailurePolicy string `json:"failurePolicy"`
	Active        bool   `json:"active"`
	Incarnation   int64  `json:"incarnation"`
	Root          string `json:"root,omitempty"`
	// Pageable: its config lets the kernel page it out when idle;
	// PagedOut: it is paged out now (docs/paging.md): active, with no
	// instance until its next delivery.
	Pageable bool `json:"pageable,omitempty"`
	PagedOut bool `json:"pagedOut,omitempty"`
}

// Subcluster describes one subcluster.
type Subcluster struct {
	ID        string            `json:"id"`
	Bootstrap string            `json:"bootstrap"`
	Vats      map[string]string `json:"vats"` // config name -> vat id
}

// Status is the answer of GET /v1/status.
type Status struct {
	Vats         []Vat        `json:"vats"`
	Subclusters  []Subcluster `json:"subclusters"`
	QueueLength  int          `json:"queueLength"`
	Cranks       uint64       `json:"cranks"`
	CommitPolicy string       `json:"commitPolicy"`
	DBPath       string       `json:"dbPath"`
	// LiveVats is how many vat instances are alive (the rest of the
	// active vats are paged out).
	LiveVats int `json:"liveVats"`
	// Peer is the kernel's identity on the network (its peer id and the
	// address peers reach it at), absent when serve has no
	// --remote-listen.
	Peer *Peer `json:"peer,omitempty"`
}

// LaunchResponse is the answer of POST /v1/subclusters.
type LaunchResponse struct {
	SubclusterID    string            `json:"subclusterId"`
	RootKref        string            `json:"rootKref"`
	VatIDs          map[string]string `json:"vatIds"`
	Roots           map[string]string `json:"roots"`
	BootstrapResult json.RawMessage   `json:"bootstrapResult"`
}

// TerminateRequest is the body of POST /v1/vats/{id}/terminate.
type TerminateRequest struct {
	Reason string `json:"reason"`
}

// UpgradeRequest is the body of POST /v1/vats/{id}/upgrade: a registered
// bundle for a Go vat, or a bundleSpec (with its globals) for a
// JavaScript one; exactly one of Bundle and BundleSpec. A relative
// BundleSpec is resolved in the daemon's working directory, so clients
// send an absolute path or a file:// URL.
type UpgradeRequest struct {
	Bundle     string   `json:"bundle,omitempty"`
	BundleSpec string   `json:"bundleSpec,omitempty"`
	Globals    []string `json:"globals,omitempty"`
}

// KRefRequest is the body of POST /v1/revoke and /v1/release.
type KRefRequest struct {
	KRef string `json:"kref"`
}

// PingResponse is the answer of GET /v1/vats/{id}/ping.
type PingResponse struct {
	Incarnation int64 `json:"incarnation"`
}

// VatEvent is one entry of GET /v1/vats/{id}/log.
type VatEvent struct {
	Incarnation int64  `json:"incarnation"`
	Event       string `json:"event"`
	Reason      string `json:"reason,omitempty"`
	AtCrank     uint64 `json:"atCrank,omitempty"`
}

func vatJSON(v kernel.VatInfo) Vat {
	policy := string(v.Config.FailurePolicy)
	if policy == "" {
		policy = string(kernel.PolicyTerminate)
	}
	return Vat{ID: string(v.ID), Name: v.Name, Subcluster: string(v.Subcluster), Bundle: v.Config.Bundle,
		BundleSpec: v.Config.BundleSpec, Globals: v.Config.Globals, Code: v.Config.Code(),
		FailurePolicy: policy, Active: v.Active, Incarnation: v.Incarnation, Root: string(v.Root),
		Pageable: v.Config.Pageable}
}

func statusJSON(st actors.Status) Status {
	out := Status{Vats: []Vat{}, Subclusters: []Subcluster{}, QueueLength: st.QueueLength, Cranks: st.Cranks,
		CommitPolicy: string(st.CommitPolicy), DBPath: st.DBPath, LiveVats: st.LiveVats}
	if st.Peer != nil {
		out.Peer = &Peer{ID: st.Peer.ID, Address: st.Peer.Address}
	}
	out.Vats = slices.Grow(out.Vats, len(st.Vats))
	paged := map[kernel.VatID]bool{}
	for _, id := range st.PagedOut {
		paged[id] = true
	}
	for _, v := range st.Vats {
		j := vatJSON(v)
		j.PagedOut = paged[v.ID]
		out.Vats = append(out.Vats, j)
	}
	for _, s := range st.Subclusters {
		sc := Subcluster{ID: string(s.ID), Bootstrap: s.Bootstrap, Vats: map[string]string{}}
		for name, id := range s.Vats {
			sc.Vats[name] = string(id)
		}
		out.Subclusters = append(out.Subclusters, sc)
	}
	return out
}

func eventJSON(e persistence.VatEvent) VatEvent {
	return VatEvent{Incarnation: e.Incarnation, Event: e.Event, Reason: e.Reason, AtCrank: e.AtCrank}
}
