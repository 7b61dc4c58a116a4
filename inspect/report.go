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
//
// The report is plain data with JSON tags so that the text a person
// reads and the JSON a program reads are the same facts; a tool built
// on the JSON never sees less than the text shows.
//
// Audit is kept apart from Problems: one is the kernel's own
// recomputation of reference counts, the other what the inspector
// could not parse, and a reader fixing a store needs to know which.
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
	//
	// omitempty keeps the JSON of a sound store free of an empty list,
	// so "problems" present means something was found.
	Problems []string `json:"problems,omitempty"`
	Audit    Audit    `json:"audit"`
}

// OK reports whether the store is sound as far as the report can tell:
// audited, with no problem found by the auditor or the inspector.
//
// INVARIANT: a report is OK only if audited and nothing was unreadable;
// a report read without audit is never OK, so skipping the audit
// cannot pass for a clean bill.
func (r Report) OK() bool { return r.Audit.OK && len(r.Problems) == 0 }

// Subcluster is one launched subcluster.
//
// The subclusters section guards against vats launched together being
// read as unrelated: it ties each config name to the vat id it became.
type Subcluster struct {
	ID        string            `json:"id"`
	Bootstrap string            `json:"bootstrap"`
	Vats      map[string]string `json:"vats"` // config name -> vat id
}

// Vat is one vat and its c-list.
//
// The vats section, with each c-list, shows what each vat can reach:
// in an ocap kernel the c-list is the vat's authority, so a reference
// a vat should not hold is found here.
//
// Only the count of vatstore keys is shown, never their values: they
// are the vat's own data, opaque to the kernel and possibly large.
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
//
// Reachable is shown per entry because a recognizable but unreachable
// import is what GC will drop next; seeing it explains pending GC work.
type CListEntry struct {
	KRef      string `json:"kref"`
	VRef      string `json:"vref"`
	Reachable bool   `json:"reachable"`
}

// Object is one kernel object.
//
// The objects section guards against leaks and dangling references:
// counts, pins and importers side by side show an object kept alive by
// nothing, or dropped while still held.
//
// Importers are listed without the owner, since the owner holds its
// own export and listing it would hide who else can reach the object.
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
//
// The promises section guards against stuck promises: an unresolved
// promise with a decider that no longer runs, or messages queued on a
// promise nobody will settle, show here.
//
// Value is a pointer so an unresolved promise has none in the JSON,
// rather than an empty body that could be read as settled to "".
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
//
// Body and slots are shown as stored, not decoded, so a value that
// does not decode is still visible exactly as the store holds it.
type Value struct {
	Body  string   `json:"body"`
	Slots []string `json:"slots,omitempty"`
}

// QueueItem is one run-queue item.
//
// The run-queue section shows the work the kernel will do next when
// it starts, so a message that would crash a vat can be seen first.
type QueueItem struct {
	Kind   string `json:"kind"` // "send" or "notify"
	Target string `json:"target,omitempty"`
	Method string `json:"method,omitempty"`
	Result string `json:"result,omitempty"`
	Vat    string `json:"vat,omitempty"`
	KPID   string `json:"kpid,omitempty"`
}

// GCAction is one pending GC action.
//
// The GC section guards against garbage collection stalling: actions
// that stay queued across inspections point at a vat not taking them.
type GCAction struct {
	Vat  string `json:"vat"`
	Kind string `json:"kind"`
	KRef string `json:"kref"`
}

// Audit is the auditor's verdict (kernel.Audit).
//
// It is copied out of kernel.Audit's result so that the JSON shape of
// the report does not change if the kernel's internal types do.
type Audit struct {
	OK       bool     `json:"ok"`
	Problems []string `json:"problems,omitempty"`
}

// unreadable stands in the report for a value its row does not hold.
//
// A fixed marker rather than an empty string: empty is a real value
// in several columns (an orphaned owner), and "?" cannot be confused
// with one.
const unreadable = "?"

// problem records a row the inspector could not read. It collects
// rather than returns an error so one bad row does not hide the rest.
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
	// Every read below goes through the store's accessors, none of which
	// writes. Their ok results are ignored on purpose: a row that is
	// missing reads as zero values, which the report then shows as found.
	// INVARIANT: Read never writes to st and never opens a unit of work.
	r := Report{Path: st.Path(), Cranks: kernel.CrankCount(st)}
	for _, id := range st.SubclusterIDs() {
		// A missing row reads as zero; the subcluster is still listed by id,
		// since an id with no row is itself worth seeing.
		row, _ := st.Subcluster(id)
		sc := Subcluster{ID: id, Bootstrap: row.Bootstrap, Vats: map[string]string{}}
		r.Subclusters = append(r.Subclusters, sc)
	}
	for _, id := range st.VatIDs() {
		// As above: a vat id whose row is gone still appears, with zero values.
		row, _ := st.Vat(id)
		v := Vat{ID: id, Name: row.Name, Subcluster: row.Subcluster, State: string(row.State), Incarnation: row.Incarnation}
		var cfg kernel.VatConfig
		// The config is parsed into a value and never executed or trusted: it
		// only supplies the bundle name and policy to show.
		if err := json.Unmarshal([]byte(row.Config), &cfg); err != nil {
			// A tampered or damaged row: the rest of the vat is still
			// worth showing.
			r.problem("vat %s: its config does not read as a vat config: %v", id, err)
			cfg.Bundle, cfg.FailurePolicy = unreadable, unreadable
		}
		v.Bundle, v.FailurePolicy = cfg.Code(), string(cfg.FailurePolicy) // a JavaScript vat shows its bundleSpec
		// The kernel treats an unset policy as terminate; showing the default
		// it will apply is more useful than a blank.
		if v.FailurePolicy == "" {
			v.FailurePolicy = string(kernel.PolicyTerminate)
		}
		if root, ok := st.KRefOf(id, string(kernel.RootVRef)); ok {
			v.Root = root
		}
		// In kref order, so two inspections of the same store are identical
		// and can be compared with diff.
		for _, kref := range st.CListKRefs(id) {
			e, _ := st.CList(id, kref)
			v.CList = append(v.CList, CListEntry{KRef: kref, VRef: e.VRef, Reachable: e.Reachable})
		}
		v.Vatstore = len(st.VatstoreKeys(id))
		// Linear search: subclusters are few, and this keeps vats whose
		// subcluster row is missing from being dropped silently.
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
		// Holders come from the c-lists, so a holder that is not the owner is
		// an importer; this is what an audit of authority wants to see.
		for _, h := range st.Holders(kref) {
			if h != o.Owner {
				obj.Importers = append(obj.Importers, h)
			}
		}
		r.Objects = append(r.Objects, obj)
	}
	for _, kpid := range st.PromiseKPIDs() {
		p, _ := st.Promise(kpid)
		// Slices are cloned so the report owns its data: a caller holding it
		// (the control API) must not see it change under a later store read.
		pr := Promise{KPID: kpid, State: string(p.State), Decider: p.Decider, Subscribers: slices.Clone(p.Subscribers),
			HostSubscribed: p.HostSubscribed, RefCount: p.RefCount}
		// INVARIANT: the queue length is computed only from ordered bounds and
		// clamped to int32, so tampered bounds can neither wrap negative nor
		// overflow int on a 32-bit build.
		if p.QueueTail >= p.QueueHead {
			pr.Queued = int(min(p.QueueTail-p.QueueHead, math.MaxInt32))
		} else {
			r.problem("promise %s: its message queue ends (%d) before it starts (%d)", kpid, p.QueueTail, p.QueueHead)
		}
		// A settled promise has no decider any more; clearing it keeps the
		// report from naming a vat as responsible for a promise it settled.
		if p.State != persistence.PromiseUnresolved {
			pr.Value = &Value{Body: p.Value.Body, Slots: slices.Clone(p.Value.Slots)}
			pr.Decider = ""
		}
		r.Promises = append(r.Promises, pr)
	}
	// Queue items are shown in queue order, the order they will run.
	for _, it := range st.QueueItems() {
		q := QueueItem{Kind: string(it.Kind), Target: it.Target, Result: it.Message.Result, Vat: it.Vat, KPID: it.KPID}
		if it.Kind == persistence.QueueSend {
			data := marshal.CapData{Body: it.Message.Methargs.Body, Slots: it.Message.Methargs.Slots}
			var ok bool
			// The method is read without decoding the arguments: a person wants
			// to see what is being called even when the arguments are damaged.
			if q.Method, ok = marshal.MethodName(data); !ok {
				q.Method = unreadable
			}
			// Decoded only to check; the decoded value is thrown away, so nothing
			// from a bad message reaches the report but its method name.
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
	// Reaps are kept in the store's order: it is the order the kernel
	// will deliver bringOutYourDead.
	r.Reaps = st.Reaps()
	// The audit is optional because it re-reads the whole file and needs
	// a quiet store; the binary's inspect always asks for it, a caller
	// whose store is busy may not be able to.
	if audit {
		problems, err := kernel.Audit(ctx, st)
		if err != nil {
			// An audit that could not run is an error, not a problem: a report
			// without it would look clean when nothing was checked.
			return Report{}, fmt.Errorf("inspect: audit: %w", err)
		}
		r.Audit = Audit{OK: len(problems) == 0, Problems: problems}
	}
	return r, nil
}
