package inspect

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/persistence"
)

// Report is the store as read at one moment.
type Report struct {
	Path        string       `json:"path"` // "" for an in-memory store
	Cranks      uint64       `json:"cranks"`
	Subclusters []Subcluster `json:"subclusters"`
	Vats        []Vat        `json:"vats"`
	Objects     []Object     `json:"objects"`
	Promises    []Promise    `json:"promises"`
	Queue       []QueueItem  `json:"queue"`
	GCActions   []GCAction   `json:"gcActions"`
	Reaps       []string     `json:"reaps"` // vats waiting for bring-out-your-dead, in order
	// Problems lists what the inspector itself could not make sense of
	// (a vat config that is not one, a promise queue whose bounds are
	// reversed): the report shows such a row as best it can, and says so
	// here, rather than failing whole or showing nonsense.
	Problems []string `json:"problems,omitempty"`
	Audit    Audit    `json:"audit"`
}

// OK reports whether the store is sound as far as the report can tell:
// audited, with no problem found by the auditor or the inspector.
func (r Report) OK() bool { return r.Audit.OK && len(r.Problems) == 0 }

// Subcluster is one launched subcluster.
type Subcluster struct {
	ID        string            `json:"id"`
	Bootstrap string            `json:"bootstrap"`
	Vats      map[string]string `json:"vats"` // config name -> vat id
}

// Vat is one vat and its c-list.
type Vat struct {
	ID            string       `json:"id"`
	Name          string       `json:"name"`
	Subcluster    string       `json:"subcluster"`
	Bundle        string       `json:"bundle"`
	FailurePolicy string       `json:"failurePolicy"`
	State         string       `json:"state"`
	Incarnation   int64        `json:"incarnation"`
	Root          string       `json:"root,omitempty"`
	CList         []CListEntry `json:"clist"`
	Vatstore      int          `json:"vatstoreKeys"` // how many keys its vatstore holds
}

// CListEntry maps a kernel ref to the vat's ref for it.
type CListEntry struct {
	KRef      string `json:"kref"`
	VRef      string `json:"vref"`
	Reachable bool   `json:"reachable"`
}

// Object is one kernel object.
type Object struct {
	KRef         string   `json:"kref"`
	Owner        string   `json:"owner"` // "" once orphaned
	Reachable    int64    `json:"reachable"`
	Recognizable int64    `json:"recognizable"`
	Pins         int64    `json:"pins,omitempty"`
	Revoked      bool     `json:"revoked,omitempty"`
	Importers    []string `json:"importers,omitempty"`
}

// Promise is one kernel promise.
type Promise struct {
	KPID           string   `json:"kpid"`
	State          string   `json:"state"`
	Decider        string   `json:"decider,omitempty"` // "" = the kernel
	Subscribers    []string `json:"subscribers,omitempty"`
	HostSubscribed bool     `json:"hostSubscribed,omitempty"`
	RefCount       int64    `json:"refCount"`
	Queued         int      `json:"queued,omitempty"` // messages waiting on it
	Value          *Value   `json:"value,omitempty"`
}

// Value is CapData as stored.
type Value struct {
	Body  string   `json:"body"`
	Slots []string `json:"slots,omitempty"`
}

// QueueItem is one run-queue item.
type QueueItem struct {
	Kind   string `json:"kind"` // "send" or "notify"
	Target string `json:"target,omitempty"`
	Method string `json:"method,omitempty"`
	Result string `json:"result,omitempty"`
	Vat    string `json:"vat,omitempty"`
	KPID   string `json:"kpid,omitempty"`
}

// GCAction is one pending GC action.
type GCAction struct {
	Vat  string `json:"vat"`
	Kind string `json:"kind"`
	KRef string `json:"kref"`
}

// Audit is the auditor's verdict (kernel.Audit).
type Audit struct {
	OK       bool     `json:"ok"`
	Problems []string `json:"problems,omitempty"`
}

// unreadable stands in the report for a value its row does not hold.
const unreadable = "?"

func (r *Report) problem(format string, args ...any) {
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

// Read builds a report from st: each table in its key order, so two
// reads of one state are the same report. A row that does not read as
// what it should is shown as best it can and listed in Problems; only a
// failure to read the store at all (or to audit it) is an error. With audit, it also runs kernel.Audit,
// which compares memory with a fresh read of the file; st must then have
// no unit open and nothing waiting for a flush.
func Read(ctx context.Context, st *persistence.Store, audit bool) (Report, error) {
	r := Report{Path: st.Path(), Cranks: kernel.CrankCount(st)}
	for _, id := range st.SubclusterIDs() {
		row, _ := st.Subcluster(id)
		sc := Subcluster{ID: id, Bootstrap: row.Bootstrap, Vats: map[string]string{}}
		r.Subclusters = append(r.Subclusters, sc)
	}
	for _, id := range st.VatIDs() {
		row, _ := st.Vat(id)
		v := Vat{ID: id, Name: row.Name, Subcluster: row.Subcluster, State: string(row.State), Incarnation: row.Incarnation}
		var cfg kernel.VatConfig
		if err := json.Unmarshal([]byte(row.Config), &cfg); err != nil {
			// A tampered or damaged row: the rest of the vat is still
			// worth showing.
			r.problem("vat %s: its config does not read as a vat config: %v", id, err)
			cfg.Bundle, cfg.FailurePolicy = unreadable, unreadable
		}
		v.Bundle, v.FailurePolicy = cfg.Code(), string(cfg.FailurePolicy) // a JavaScript vat shows its bundleSpec
		if v.FailurePolicy == "" {
			v.FailurePolicy = string(kernel.PolicyTerminate)
		}
		if root, ok := st.KRefOf(id, string(kernel.RootVRef)); ok {
			v.Root = root
		}
		for _, kref := range st.CListKRefs(id) {
			e, _ := st.CList(id, kref)
			v.CList = append(v.CList, CListEntry{KRef: kref, VRef: e.VRef, Reachable: e.Reachable})
		}
		v.Vatstore = len(st.VatstoreKeys(id))
		for i := range r.Subclusters {
			if r.Subclusters[i].ID == row.Subcluster {
				r.Subclusters[i].Vats[row.Name] = id
			}
		}
		r.Vats = append(r.Vats, v)
	}
	for _, kref := range st.ObjectKRefs() {
		o, _ := st.Object(kref)
		obj := Object{KRef: kref, Owner: o.Owner, Reachable: o.Reachable, Recognizable: o.Recognizable, Pins: o.Pins, Revoked: o.Revoked}
		for _, h := range st.Holders(kref) {
			if h != o.Owner {
				obj.Importers = append(obj.Importers, h)
			}
		}
		r.Objects = append(r.Objects, obj)
	}
	for _, kpid := range st.PromiseKPIDs() {
		p, _ := st.Promise(kpid)
		pr := Promise{KPID: kpid, State: string(p.State), Decider: p.Decider, Subscribers: slices.Clone(p.Subscribers),
			HostSubscribed: p.HostSubscribed, RefCount: p.RefCount}
		if p.QueueTail >= p.QueueHead {
			pr.Queued = int(min(p.QueueTail-p.QueueHead, math.MaxInt32))
		} else {
			r.problem("promise %s: its message queue ends (%d) before it starts (%d)", kpid, p.QueueTail, p.QueueHead)
		}
		if p.State != persistence.PromiseUnresolved {
			pr.Value = &Value{Body: p.Value.Body, Slots: slices.Clone(p.Value.Slots)}
			pr.Decider = ""
		}
		r.Promises = append(r.Promises, pr)
	}
	for _, it := range st.QueueItems() {
		q := QueueItem{Kind: string(it.Kind), Target: it.Target, Result: it.Message.Result, Vat: it.Vat, KPID: it.KPID}
		if it.Kind == persistence.QueueSend {
			data := marshal.CapData{Body: it.Message.Methargs.Body, Slots: it.Message.Methargs.Slots}
			var ok bool
			if q.Method, ok = marshal.MethodName(data); !ok {
				q.Method = unreadable
			}
			if _, err := marshal.Decode(data); err != nil || !ok {
				// Syscalls check every message before it is queued: one
				// that does not decode was written by something else.
				r.problem("run queue item %d (to %s): its message is not [method, args] CapData: %v", len(r.Queue)+1, it.Target, err)
			}
		}
		r.Queue = append(r.Queue, q)
	}
	for _, a := range st.GCActions() {
		r.GCActions = append(r.GCActions, GCAction{Vat: a.Vat, Kind: string(a.Kind), KRef: a.KRef})
	}
	r.Reaps = st.Reaps()
	if audit {
		problems, err := kernel.Audit(ctx, st)
		if err != nil {
			return Report{}, fmt.Errorf("inspect: audit: %w", err)
		}
		r.Audit = Audit{OK: len(problems) == 0, Problems: problems}
	}
	return r, nil
}
