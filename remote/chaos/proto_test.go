package chaos

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sync"
)

// The conductor and a kernel process talk in JSON lines: commands on the
// kernel's stdin, events on its stdout. Only the introductions and the
// test's bookkeeping go this way; every deposit and its answer go over
// the kernels' own link.

// The kernel processes' parts, as the conductor names them.
const (
	bankName = "bank"
	client1  = "c1"
	client2  = "c2"
)

// kernelNames lists the three kernels, the bank first.
var kernelNames = []string{bankName, client1, client2}

// Commands (msg.Cmd), conductor to kernel.
const (
	cmdPeers  = "peers"  // Peers: AddRemote each (a new peer, or one that moved)
	cmdExport = "export" // bank: export its root to the peer Peer; answered by evRef
	cmdImport = "import" // client: import Ref from the bank; answered by evPresence
	cmdRun    = "run"    // client: deposit to Presence from From on, skipping Skip, Window at a time
	cmdStop   = "stop"   // client: send no new deposits (those sent are still awaited)
	cmdStatus = "status" // answered by evStatus
	cmdReport = "report" // answered by evReport; the kernel then stops and exits
)

// Events (msg.Event), kernel to conductor.
const (
	evReady    = "ready"    // Addr, Peer: the node listens
	evOK       = "ok"       // a command without an answer of its own is done
	evRef      = "ref"      // Ref: the bank's root, in the client's frame
	evPresence = "presence" // Presence: the client's kref for the bank
	evAcked    = "acked"    // N, Count: deposit N settled; Count is the bank's answer
	evPending  = "pending"  // Pending: a new highest outbox length in this incarnation
	evStatus   = "status"   // Status
	evReport   = "report"   // Report
	evProblem  = "problem"  // Problem: something the conductor must fail on
)

// peerAddr is a peer as a kernel's host learns it from the conductor.
type peerAddr struct {
	Name string `json:"name"`
	Peer string `json:"peer"`
	Addr string `json:"addr"`
}

// status is a kernel's state between steps of the conductor.
type status struct {
	// Pending is the total of its remotes' outbox lengths.
	Pending int `json:"pending"`
	// Unsettled is how many deposits a client awaits.
	Unsettled int `json:"unsettled"`
}

// report is what a kernel says at the end of a run.
type report struct {
	// Problems is kernel.Audit's list, run in the kernel's own process.
	Problems []string `json:"problems"`
	// Audits counts the audits this incarnation ran (at start, during the
	// run and now), all of them green or the process would have said so.
	Audits int `json:"audits"`
	// Logs is the bank's record, per client: the deposit numbers in the
	// order its vat took them.
	Logs map[string][]int64 `json:"logs,omitempty"`
	// Pending is the total outbox length, which must be 0.
	Pending int `json:"pending"`
}

// msg is one line either way.
type msg struct {
	Cmd   string `json:"cmd,omitempty"`
	Event string `json:"event,omitempty"`

	Addr     string     `json:"addr,omitempty"`
	Peer     string     `json:"peer,omitempty"`
	Peers    []peerAddr `json:"peers,omitempty"`
	Ref      string     `json:"ref,omitempty"`
	Presence string     `json:"presence,omitempty"`
	From     int64      `json:"from,omitempty"`
	Skip     []int64    `json:"skip,omitempty"`
	Window   int        `json:"window,omitempty"`
	N        int64      `json:"n,omitempty"`
	Count    int64      `json:"count,omitempty"`
	Pending  int        `json:"pending,omitempty"`
	Status   *status    `json:"status,omitempty"`
	Report   *report    `json:"report,omitempty"`
	Problem  string     `json:"problem,omitempty"`
}

// maxLine bounds one line: the bank's report carries every deposit.
const maxLine = 64 << 20

// lineReader reads msgs, skipping lines that are not ours (the test
// framework's own output).
type lineReader struct{ sc *bufio.Scanner }

func newLineReader(r io.Reader) *lineReader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	return &lineReader{sc: sc}
}

// next returns the next msg and the lines skipped before it; io.EOF at
// the end.
func (r *lineReader) next() (msg, []string, error) {
	var other []string
	for r.sc.Scan() {
		var m msg
		if err := json.Unmarshal(r.sc.Bytes(), &m); err == nil && (m.Cmd != "" || m.Event != "") {
			return m, other, nil
		}
		other = append(other, r.sc.Text())
	}
	if err := r.sc.Err(); err != nil {
		return msg{}, other, fmt.Errorf("chaos: read line: %w", err)
	}
	return msg{}, other, io.EOF
}

// lineWriter writes msgs from any goroutine: a client's deposit waiters
// and its command loop share its stdout.
type lineWriter struct {
	mu  sync.Mutex
	enc *json.Encoder
}

func newLineWriter(w io.Writer) *lineWriter { return &lineWriter{enc: json.NewEncoder(w)} }

func (w *lineWriter) write(m msg) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.enc.Encode(m); err != nil {
		return fmt.Errorf("chaos: write line: %w", err)
	}
	return nil
}

// marshalLine is one msg as a line.
func marshalLine(m msg) ([]byte, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("chaos: encode line: %w", err)
	}
	return append(b, '\n'), nil
}
