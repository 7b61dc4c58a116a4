package crashtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sync"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/persistence"
)

// The side ledger is the child's account of what the host was told, kept
// outside the kernel's database: one JSON line per event, each written
// with one write and fsynced before the child goes on. A line cut short
// by the kill has no newline and is ignored. Every child of a trial
// appends to the same file, so it holds the trial's whole history.

// Side-ledger events.
const (
	evBegin = "begin" // an operation (or one effect of a burst) is about to be asked
	evAck   = "ack"   // the host got a successful answer
	evFail  = "fail"  // the host got an error; the effect may or may not have happened
	evKill  = "kill"  // the crash hook is about to kill the process
)

// entry is one side-ledger line.
type entry struct {
	Ev   string `json:"ev"`
	Op   int    `json:"op"`   // schedule index of the operation
	Kind opKind `json:"kind"` // kind of the operation (or what the kill cut)
	// Effect is the effect id of a send (apply, relay, pipeline, cross,
	// and each send of a burst), and Ledger the vat it lands on.
	Effect string       `json:"effect,omitempty"`
	Ledger kernel.VatID `json:"ledger,omitempty"`
	// Vat, Bundle, Subcluster and Launch describe lifecycle operations;
	// Vats lists the vats a TerminateSubcluster ends.
	Vat        kernel.VatID        `json:"vat,omitempty"`
	Vats       []kernel.VatID      `json:"vats,omitempty"`
	Bundle     string              `json:"bundle,omitempty"`
	Subcluster kernel.SubclusterID `json:"subcluster,omitempty"`
	Launch     string              `json:"launch,omitempty"`
	Result     string              `json:"result,omitempty"`
	Err        string              `json:"err,omitempty"`
	// Point and Flush say where a flush kill landed: the commit boundary,
	// and which flush of the operation it was (1 = its first).
	Point persistence.FaultPoint `json:"point,omitempty"`
	Flush int                    `json:"flush,omitempty"`
}

// sideLedger appends entries to the side-ledger file.
type sideLedger struct {
	mu sync.Mutex // the host's goroutines and the crash hook write
	f  *os.File
}

func openSideLedger(path string) (*sideLedger, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("side ledger: %w", err)
	}
	return &sideLedger{f: f}, nil
}

// write appends e and fsyncs: once write returns, the line survives a
// kill.
func (s *sideLedger) write(e entry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("side ledger: %w", err)
	}
	b = append(b, '\n')
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.f.Write(b); err != nil {
		return fmt.Errorf("side ledger: %w", err)
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("side ledger: %w", err)
	}
	return nil
}

// readSideLedger returns every complete line of the file ("" if it does
// not exist yet).
func readSideLedger(path string) ([]entry, error) {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("side ledger: %w", err)
	}
	if i := bytes.LastIndexByte(b, '\n'); i+1 < len(b) {
		b = b[:i+1] // the kill cut the last line short
	}
	var out []entry
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		var e entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, fmt.Errorf("side ledger: line %d: %w", len(out)+1, err)
		}
		out = append(out, e)
	}
	return out, sc.Err()
}

// launchRecord is what the side ledger says of one launch.
type launchRecord struct {
	begun, acked bool
	subcluster   kernel.SubclusterID // once acked
	result       string              // the bootstrap result the host got
}

// history is a trial's side ledger, digested.
type history struct {
	entries  []entry
	nextOp   int                      // first schedule index not yet used
	begun    map[string]entry         // effect id -> its begin line
	acked    map[string]entry         // effect id -> its ack line
	failed   map[string]bool          // effect id -> the host got an error
	launches map[string]*launchRecord // launch id -> record
	// doomed holds the vats that some terminate (of the vat, or of its
	// subcluster) was asked to end: their durable state may be gone.
	doomed            map[kernel.VatID]bool
	doomedSubclusters map[kernel.SubclusterID]bool
	// ended holds the vats and subclusters whose termination was
	// acknowledged: they must be gone.
	endedVats        map[kernel.VatID]bool
	endedSubclusters map[kernel.SubclusterID]bool
	// upgraded is the bundle of each vat's last acknowledged upgrade, when
	// no later upgrade or terminate of it was begun.
	upgraded map[kernel.VatID]string
}

func digest(entries []entry) *history {
	h := &history{
		entries: entries, begun: map[string]entry{}, acked: map[string]entry{}, failed: map[string]bool{},
		launches: map[string]*launchRecord{}, doomed: map[kernel.VatID]bool{},
		doomedSubclusters: map[kernel.SubclusterID]bool{},
		endedVats:         map[kernel.VatID]bool{}, endedSubclusters: map[kernel.SubclusterID]bool{},
		upgraded: map[kernel.VatID]string{},
	}
	for _, e := range entries {
		h.nextOp = max(h.nextOp, e.Op+1)
		switch e.Ev {
		case evBegin:
			if e.Effect != "" {
				h.begun[e.Effect] = e
			}
			switch e.Kind {
			case opLaunch:
				h.launch(e.Launch).begun = true
			case opUpgrade:
				delete(h.upgraded, e.Vat)
			case opTerminateVat:
				h.doomed[e.Vat] = true
				delete(h.upgraded, e.Vat)
			case opTerminateSubcluster:
				h.doomedSubclusters[e.Subcluster] = true
				for _, v := range e.Vats {
					h.doomed[v] = true
					delete(h.upgraded, v)
				}
			}
		case evAck:
			if e.Effect != "" {
				h.acked[e.Effect] = e
			}
			switch e.Kind {
			case opLaunch:
				l := h.launch(e.Launch)
				l.acked, l.subcluster, l.result = true, e.Subcluster, e.Result
			case opUpgrade:
				h.upgraded[e.Vat] = e.Bundle
			case opTerminateVat:
				h.endedVats[e.Vat] = true
			case opTerminateSubcluster:
				h.endedSubclusters[e.Subcluster] = true
				for _, v := range e.Vats {
					h.endedVats[v] = true
				}
			}
		case evFail:
			if e.Effect != "" {
				h.failed[e.Effect] = true
			}
		}
	}
	return h
}

// cut returns the operation that entries (one child's lines) began last
// and never answered: what the kill cut, if it came inside an operation.
func cut(entries []entry) (entry, bool) {
	open := map[string]entry{}
	key := func(e entry) string { return fmt.Sprintf("%d/%s", e.Op, e.Effect) }
	for _, e := range entries {
		switch e.Ev {
		case evBegin:
			open[key(e)] = e
		case evAck, evFail:
			delete(open, key(e))
		}
	}
	var last entry
	found := false
	for _, e := range open {
		if !found || e.Op > last.Op {
			last, found = e, true
		}
	}
	return last, found
}

func (h *history) launch(id string) *launchRecord {
	l := h.launches[id]
	if l == nil {
		l = &launchRecord{}
		h.launches[id] = l
	}
	return l
}

// killLine is the line the crash hook wrote before it killed the child
// whose lines are entries, if it did.
func killLine(entries []entry) (entry, bool) {
	for i := len(entries) - 1; i >= 0; i-- {
		if entries[i].Ev == evKill {
			return entries[i], true
		}
	}
	return entry{}, false
}
