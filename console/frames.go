package console

import (
	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/persistence"
)

// The event stream's JSON shapes (docs/console.md). A frame is one
// Server-Sent Event whose data is a Frame: the counts always, and the
// view (vats, subclusters) only when it differs from the last one the
// stream sent, so an idle console costs a few hundred bytes a second
// however many vats the kernel has.

// Frame is the data of one "snapshot" event.
type Frame struct {
	Counts
	// View is present in a stream's first frame and whenever the vats or
	// subclusters changed since the stream's last frame with a view.
	View *View `json:"view,omitempty"`
	// History is present in a stream's first frame: the points of earlier
	// snapshots, oldest first, so the charts start filled.
	History []Point `json:"history,omitempty"`
	// Missed counts the snapshots this stream did not get because it read
	// too slowly (each was replaced by a newer one), in all.
	Missed uint64 `json:"missed"`
}

// Counts are a snapshot's numbers.
type Counts struct {
	// Seq numbers the hub's snapshots (1, 2, ...), and is the event's id.
	Seq uint64 `json:"seq"`
	// Cranks are the cranks committed in the store's whole life;
	// CranksRun those this process ran (committed or aborted).
	Cranks    uint64 `json:"cranks"`
	CranksRun uint64 `json:"cranksRun"`
	// QueueLength is the run queue's length; Queue its first items.
	QueueLength int         `json:"queueLength"`
	Queue       []QueueItem `json:"queue"`
	LiveVats    int         `json:"liveVats"`
	VatsTotal   int         `json:"vatsTotal"`
	Subclusters int         `json:"subclusters"`
	// Point is this snapshot's point on the charts.
	Point Point `json:"point"`
}

// Point is one snapshot's rates, for the sparkline and the latency chart.
type Point struct {
	// Time is the snapshot's time in Unix milliseconds.
	Time int64 `json:"t"`
	// CranksPerSecond is the crank rate since the previous snapshot.
	CranksPerSecond float64 `json:"cranksPerSecond"`
	QueueLength     int     `json:"queueLength"`
	// Flushes is how many flushes (commits to the file) happened since
	// the previous snapshot, CommitMeanMillis their mean duration and
	// CommitP99Millis the upper bound of the histogram bucket that holds
	// their 99th percentile; all 0 with no flush.
	Flushes          uint64  `json:"flushes"`
	CommitMeanMillis float64 `json:"commitMeanMs"`
	CommitP99Millis  float64 `json:"commitP99Ms"`
}

// QueueItem is one run-queue item as the console shows it.
type QueueItem struct {
	Kind   string `json:"kind"`
	Target string `json:"target,omitempty"`
	Method string `json:"method,omitempty"`
	Vat    string `json:"vat,omitempty"`
	KPID   string `json:"kpid,omitempty"`
}

// View is what changes seldom: the vats and subclusters.
type View struct {
	Vats        []VatRow        `json:"vats"`
	Subclusters []SubclusterRow `json:"subclusters"`
}

// VatRow is one line of the vats table.
type VatRow struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Subcluster string `json:"subcluster"`
	Code       string `json:"code"`
	// State is "running", "paged-out" or "terminated".
	State       string `json:"state"`
	Incarnation int64  `json:"incarnation"`
	Root        string `json:"root,omitempty"`
	// Cranks and Aborted count this process's cranks for the vat, and
	// LastError is the coded failure of its last aborted one (at crank
	// LastErrorCrank).
	Cranks         uint64 `json:"cranks"`
	Aborted        uint64 `json:"aborted"`
	LastError      string `json:"lastError,omitempty"`
	LastErrorCrank uint64 `json:"lastErrorCrank,omitempty"`
}

// SubclusterRow is one subcluster with its vats and its root (the
// bootstrap vat's root object).
type SubclusterRow struct {
	ID        string          `json:"id"`
	Bootstrap string          `json:"bootstrap"`
	Root      string          `json:"root,omitempty"`
	Vats      []SubclusterVat `json:"vats"`
}

// SubclusterVat is one vat of a subcluster, by its config name.
type SubclusterVat struct {
	Name string `json:"name"`
	ID   string `json:"id"`
	Root string `json:"root,omitempty"`
}

// Snapshot is one sample, shared by every stream: its counts, and its
// view marshalled once, with a digest so a stream can tell whether its
// last view is still current.
type Snapshot struct {
	counts Counts
	view   View
	viewJS []byte // the view, marshalled
}

// newSnapshot builds a snapshot.
func newSnapshot(c Counts, v View) *Snapshot {
	return &Snapshot{counts: c, view: v, viewJS: mustJSON(v)}
}

// queueJSON converts the run queue's head.
func queueJSON(items []persistence.QueueItem) []QueueItem {
	out := make([]QueueItem, 0, len(items))
	for _, it := range items {
		q := QueueItem{Kind: string(it.Kind), Target: it.Target, Vat: it.Vat, KPID: it.KPID}
		if it.Kind == persistence.QueueSend {
			// The method alone, read without decoding the arguments.
			data := marshal.CapData{Body: it.Message.Methargs.Body, Slots: it.Message.Methargs.Slots}
			if m, ok := marshal.MethodName(data); ok {
				q.Method = m
			}
		}
		out = append(out, q)
	}
	return out
}
