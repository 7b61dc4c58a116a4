package kernelsim

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/persistence"
)

// Features are kernel behaviours the model expects that older kernels
// lack. Options.Pending names those a kernel under test lacks: the
// generator then makes no step that needs them, and the model does not
// hold the kernel to them.
type Features uint8

// The features.
const (
	// FeatureEOrder: a send to an unresolved promise joins the promise's
	// queue at once, so E-order holds through promises. Pending, E-order
	// is checked only for messages sent to objects.
	FeatureEOrder Features = 1 << iota
	// FeatureAbandon: restart and upgrade abandon the old incarnation's
	// non-durable exports. Pending, a restarted vat keeps answering for
	// them.
	FeatureAbandon
	// FeatureResume: a kernel restart restarts every vat (decided promises
	// rejected, non-durable exports abandoned). Pending, vats keep their
	// heaps across a kernel restart, as if all of it were durable.
	FeatureResume
	// FeatureSendOnly: syscall.send without a result. Pending, no vat
	// sends one.
	FeatureSendOnly
	// FeatureValidate: CapData is validated at the syscall. Pending, no
	// hostile vat sends malformed CapData.
	FeatureValidate
	numFeatures = 5
)

var featureNames = [numFeatures]string{"eorder", "abandon", "resume", "sendonly", "validate"}

// Has reports whether f includes x.
func (f Features) Has(x Features) bool { return f&x != 0 }

func (f Features) String() string {
	var parts []string
	for i, n := range featureNames {
		if f.Has(1 << i) {
			parts = append(parts, n)
		}
	}
	return strings.Join(parts, ",")
}

// ParseFeatures reads a comma-separated list of feature names ("all" for
// every one).
func ParseFeatures(s string) (Features, error) {
	var f Features
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if name == "all" {
			f |= 1<<numFeatures - 1
			continue
		}
		found := false
		for i, n := range featureNames {
			if n == name {
				f |= 1 << i
				found = true
			}
		}
		if !found {
			return 0, fmt.Errorf("kernelsim: unknown feature %q (want %s or all)", name, strings.Join(featureNames[:], ", "))
		}
	}
	return f, nil
}

// Options configure a run.
type Options struct {
	// Pending names the features the kernel does not have yet.
	Pending Features
	// Dir holds the file stores of programs with Program.File; "" means
	// the system's temporary directory. Each run removes its file.
	Dir string
	// Known names checks whose violations are counted (Stats.Known) but
	// do not fail the run: kernel bugs already reported, so that a long
	// run can look past them.
	Known []string
	// Log, if set, gets one line per step and per crank.
	Log func(format string, args ...any)
}

// Run runs program p against a fresh kernel and returns what it found. It
// does not fail t: the caller reports the Result. The run stops at the
// end of the first step that broke the model; a program that gets through
// every step is then finished (every vat settles what it owes, the kernel
// runs until idle) and checked for what was lost.
func Run(t testing.TB, p Program, opts Options) *Result {
	w := newWorld(t, p, opts)
	defer w.tb.cleanup()
	func() {
		defer w.recoverFatal()
		if !w.open() {
			return
		}
		w.launch()
		for i, s := range p.Steps {
			w.step = i
			w.runStep(s)
			if len(w.viol) > 0 {
				return
			}
		}
		w.step = len(p.Steps)
		w.finish()
	}()
	return w.result()
}

// newWorld makes the world of a run, with nothing opened yet.
func newWorld(t testing.TB, p Program, opts Options) *world {
	w := &world{p: p, opts: opts, tb: &simTB{TB: t}, seq: map[seqKey]int{}, last: map[seqKey]int{},
		refs: []*ref{nil}, stats: newStats()}
	w.host = hostState{known: map[kernel.KRef]refID{}, pins: map[kernel.KRef]int{},
		roots: map[kernel.KRef]bool{}, results: map[kernel.KRef]*message{}, awaited: map[kernel.KRef]bool{}, stale: map[kernel.KRef]bool{}}
	return w
}

// world is one run: the driver, the vats, the host and the model. It is
// used from the test's goroutine only (the crank calls the vats' handlers
// on it too).
type world struct {
	p    Program
	opts Options
	tb   *simTB
	// d drives the kernel; RestartKernel replaces its store and kernel.
	d *kerneltest.Driver

	vats []*simVat // by index, in launch order
	host hostState
	refs []*ref     // by id; refs[0] is unused
	msgs []*message // by id, committed or not
	// seq is the last sequence number sent, last the last delivered, per
	// (sender, reference).
	seq  map[seqKey]int
	last map[seqKey]int

	cur  *crankCtx // the crank in progress, nil between cranks
	step int       // the step running (len(Steps) at the end)
	// finale: the end is running; reactions settle and send nothing.
	finale bool

	viol    []violation
	stats   Stats
	trace   []string // the last lines of the log, for a failure's report
	outSeen int      // how much of d.Released has been checked
}

// crankCtx is what the model learns during one crank.
type crankCtx struct {
	vat *simVat  // the vat delivered to, if any
	msg *message // the message delivered, if any
	// effects change the model if the crank commits its delivery.
	effects []func()
	// expect is how the crank must end, given what the vat did.
	expect  expectation
	refused bool // the kernel refused a syscall: the vat stops
}

// effect records a change to the model that holds only if the crank
// commits.
func (c *crankCtx) effect(f func()) { c.effects = append(c.effects, f) }

// simTB turns the Driver's fatal errors into a panic the run recovers, so
// that a failing program is a Result rather than the end of the test (and
// a long run can go on to the next seed). Everything else is the test's.
// The Driver fails only between cranks, never inside a delivery, so the
// panic never crosses the kernel.
type simTB struct {
	testing.TB
	cleanups []func()
}

type fatal struct{ msg string }

func (s *simTB) Helper()                           {}
func (s *simTB) Fatalf(format string, args ...any) { panic(fatal{fmt.Sprintf(format, args...)}) }
func (s *simTB) Fatal(args ...any)                 { panic(fatal{fmt.Sprint(args...)}) }
func (s *simTB) Errorf(format string, args ...any) { panic(fatal{fmt.Sprintf(format, args...)}) }
func (s *simTB) Error(args ...any)                 { panic(fatal{fmt.Sprint(args...)}) }
func (s *simTB) FailNow()                          { panic(fatal{"FailNow"}) }
func (s *simTB) Cleanup(f func())                  { s.cleanups = append(s.cleanups, f) }

func (s *simTB) cleanup() {
	for i := len(s.cleanups) - 1; i >= 0; i-- {
		s.cleanups[i]()
	}
}

// recoverFatal turns a Driver failure (an audit problem, a kernel error)
// or a bug of the simulation into a violation.
func (w *world) recoverFatal() {
	p := recover()
	if p == nil {
		return
	}
	w.cur = nil
	if f, ok := p.(fatal); ok {
		check := "kernel"
		if strings.Contains(f.msg, "audit") {
			check = "audit"
		}
		w.fail(check, "%s", f.msg)
		return
	}
	w.fail("sim", "panic: %v\n%s", p, debug.Stack())
}

// open makes the driver: a store in memory, or in a file for a program
// with kernel restarts, durable or in commit groups.
func (w *world) open() bool {
	opts := persistence.Options{}
	if w.p.Group > 0 {
		// The group's interval never passes: flushes come every Group
		// cranks and at the end, whatever the machine's speed.
		fixed := time.Unix(0, 0)
		opts.Policy, opts.GroupCranks, opts.GroupInterval = persistence.Group, w.p.Group, time.Hour
		opts.Now = func() time.Time { return fixed }
	}
	path := ""
	if w.p.File {
		dir, err := os.MkdirTemp(w.opts.Dir, "kernelsim-")
		if err != nil {
			w.viol = append(w.viol, violation{check: "sim", what: err.Error()})
			return false
		}
		w.tb.Cleanup(func() { os.RemoveAll(dir) })
		path = filepath.Join(dir, "kernel.db")
		opts.Synchronous = persistence.SyncNormal // a crash here is a process crash, not a power cut
	}
	// Half the in-memory programs run the store's paged code too (see
	// persistence.Options.PagedMemory), chosen by the seed.
	opts.PagedMemory = !w.p.File && w.p.Seed%2 == 1
	w.d = kerneltest.NewWithOptions(w.tb, path, opts)
	return true
}

// launch starts the program's first vats as one subcluster.
func (w *world) launch() {
	names := make([]string, w.p.Vats)
	for i := range names {
		names[i] = vatName(i)
	}
	w.launchVats(names)
}

// launchOne launches vat i, alone in a subcluster: a new party that the
// others meet through the host.
func (w *world) launchOne(i int) {
	if i != len(w.vats) {
		panic(fmt.Sprintf("kernelsim: launch of vat %d with %d vats", i, len(w.vats)))
	}
	w.launchVats([]string{vatName(i)})
	w.afterHost("launch")
}

// launchVats launches names as one subcluster (the Driver starts each
// vat) and gives the host their roots. Roots are durable: they outlive
// every restart, and the kernel pins them while their vat lives.
func (w *world) launchVats(names []string) {
	res := w.d.Launch(names[0], names...)
	base := len(w.vats)
	for j, name := range names {
		i := base + j
		id := res.VatIDs[name]
		v := newSimVat(w, i, id, w.d.Vats[id])
		w.vats = append(w.vats, v)
		root := w.newRef(false, i)
		root.durable, root.root = true, true
		v.add(&entry{vref: kernel.RootVRef, r: root.id, export: true, reachable: true})
		v.root = res.Roots[name]
		w.host.add(res.Roots[name], root.id)
		w.host.roots[res.Roots[name]] = true
	}
}

// log writes a line to Options.Log and to the trace kept for a failure's
// report.
func (w *world) log(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	if w.opts.Log != nil {
		w.opts.Log("%s", line)
	}
	w.trace = append(w.trace, line)
	if len(w.trace) > 2*traceLines {
		w.trace = append(w.trace[:0], w.trace[len(w.trace)-traceLines:]...)
	}
}

// traceLines is how many log lines a failure's report shows.
const traceLines = 40
