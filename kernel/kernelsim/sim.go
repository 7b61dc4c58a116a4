package kernelsim

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/persistence"
)

// Features are kernel behaviours the model expects that the kernel is
// moving to. Options.Pending names those that have not landed: the
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
// does not fail t: the caller reports the Result. t provides only the
// temporary directory and logging.
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

func newWorld(t testing.TB, p Program, opts Options) *world {
	w := &world{p: p, opts: opts, tb: &simTB{TB: t}, seq: map[seqKey]int{}, last: map[seqKey]int{},
		refs: []*ref{nil}, stats: newStats(), failedStep: -1}
	w.host = hostState{known: map[kernel.KRef]refID{}, pins: map[kernel.KRef]int{},
		roots: map[kernel.KRef]bool{}, results: map[kernel.KRef]*message{}, awaited: map[kernel.KRef]bool{}}
	return w
}

// world is one run: the driver, the vats, the host and the model.
type world struct {
	p    Program
	opts Options
	tb   *simTB
	d    *kerneltest.Driver
	dir  string

	vats []*simVat
	host hostState
	refs []*ref     // by id; refs[0] is unused
	msgs []*message // by id
	seq  map[seqKey]int
	last map[seqKey]int // the last sequence number delivered, per key

	cur    *crankCtx // the crank in progress
	step   int
	finale bool

	viol       []violation
	failedStep int
	stats      Stats
	trace      []string // the last lines of the log, for a failure's report
	outSeen    int      // d.Released already processed
}

// crankCtx is what the model learns during one crank.
type crankCtx struct {
	vat     *simVat
	msg     *message
	effects []func()
	expect  expectation
	refused bool // the kernel refused a syscall: the vat stops
}

// effect records a change to the model that holds only if the crank
// commits.
func (c *crankCtx) effect(f func()) { c.effects = append(c.effects, f) }

// hostState is what the host holds.
type hostState struct {
	known   map[kernel.KRef]refID
	order   []kernel.KRef // in the order the host came to hold them
	pins    map[kernel.KRef]int
	roots   map[kernel.KRef]bool
	results map[kernel.KRef]*message // every host message, by its result
	awaited map[kernel.KRef]bool     // the results not settled yet
	last    kernel.KRef              // where the last host-send step sent
}

func (h *hostState) add(k kernel.KRef, r refID) {
	if _, ok := h.known[k]; !ok {
		h.order = append(h.order, k)
	}
	h.known[k] = r
}

// refs lists what the host may send to or pass: its objects and the
// results it awaits (a settled result may be freed at once).
func (h *hostState) refs(objectsOnly bool) []kernel.KRef {
	var out []kernel.KRef
	live := h.order[:0]
	for _, k := range h.order {
		if _, ok := h.known[k]; !ok {
			continue
		}
		live = append(live, k)
		if k.IsObject() || (!objectsOnly && h.awaited[k]) {
			out = append(out, k)
		}
	}
	h.order = live
	return out
}

func pickKRef(ks []kernel.KRef, i int) (kernel.KRef, bool) {
	if len(ks) == 0 {
		return "", false
	}
	return ks[i%len(ks)], true
}

// simTB turns the Driver's fatal errors into a panic the run recovers, so
// that a failing program is a Result rather than the end of the test.
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
// with kernel restarts.
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
		w.dir = dir
		w.tb.Cleanup(func() { os.RemoveAll(dir) })
		path = filepath.Join(dir, "kernel.db")
		opts.Synchronous = persistence.SyncNormal // a crash here is a process crash, not a power cut
	}
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

// ctx is the context of every kernel call: the simulation has no
// deadlines.
var ctx = context.Background()

// runStep runs one step and the cranks after it.
func (w *world) runStep(s Step) {
	w.log("step %d: %s", w.step, s)
	if !w.doStep(s) {
		w.stats.Skipped[s.Kind]++
		return
	}
	w.stats.Steps[s.Kind]++
	if s.Kind == KindIdle {
		w.runIdle()
		return
	}
	for i := 0; i < s.Cranks && len(w.viol) == 0; i++ {
		if !w.crank() {
			break
		}
	}
}

// doStep does the step itself; false means it did not apply (its vat is
// gone, there was nothing to pick).
func (w *world) doStep(s Step) bool {
	if s.Kind == KindLaunch {
		w.launchOne(s.Vat)
		return true
	}
	if s.Vat >= len(w.vats) {
		return false // (a program cut short of the launch that makes it)
	}
	if s.Kind.isAct() {
		v := w.vats[s.Vat]
		if !v.active {
			return false
		}
		return w.hostSend(v.root, "act", nil, "", &s) != nil
	}
	switch s.Kind {
	case KindHostSend:
		targets := w.host.refs(false)
		target, ok := pickKRef(targets, s.Target)
		if !ok {
			return false
		}
		if s.OnPromise {
			var ps []kernel.KRef
			for _, k := range targets {
				if k.IsPromise() {
					ps = append(ps, k)
				}
			}
			if p, ok := pickKRef(ps, s.Target); ok {
				target = p
			}
		}
		if s.Again && slices.Contains(targets, w.host.last) {
			target = w.host.last
		}
		w.host.last = target
		var args []kernel.KRef
		for _, a := range s.Args {
			if k, ok := pickKRef(w.host.refs(false), a.Pick); ok {
				args = append(args, k)
			}
		}
		m := w.hostSend(target, "m", args, s.React, nil)
		for i := 0; i < s.Burst; i++ {
			w.hostSend(target, "m", args, s.React, nil)
		}
		for i := 0; i < s.Pipe && m != nil; i++ {
			w.host.last = m.kpid // the next "again" goes down the chain
			m = w.hostSend(m.kpid, "m", nil, s.React, nil)
		}
		return true
	case KindRevoke:
		var objs []kernel.KRef
		for _, k := range w.host.refs(true) {
			if !w.host.roots[k] {
				objs = append(objs, k)
			}
		}
		k, ok := pickKRef(objs, s.Target)
		if !ok {
			return false
		}
		out, err := w.d.K.Revoke(ctx, k)
		if err != nil {
			w.fail("kernel", "Revoke(%s) of an object the host holds: %v", k, err)
			return true
		}
		w.d.Release(out)
		if r := w.refs[w.host.known[k]]; r.revokedAt < 0 {
			r.revokedAt = w.step
		}
		w.afterHost("revoke")
	case KindUnpin:
		var pinned []kernel.KRef
		for _, k := range w.host.refs(true) {
			if w.host.pins[k] > 0 {
				pinned = append(pinned, k)
			}
		}
		k, ok := pickKRef(pinned, s.Target)
		if !ok {
			return false
		}
		out, err := w.d.K.Unpin(ctx, k)
		if err != nil {
			w.fail("kernel", "Unpin(%s) of an object a result pinned: %v", k, err)
			return true
		}
		w.d.Release(out)
		if w.host.pins[k]--; w.host.pins[k] == 0 && !w.host.roots[k] {
			delete(w.host.known, k)
		}
		w.afterHost("unpin")
	case KindTerminate, KindRestart, KindUpgrade, KindReap:
		v := w.vats[s.Vat]
		if !v.active {
			return false
		}
		w.vatStep(v, s)
	case KindKernelRestart:
		if !w.p.File {
			return false
		}
		w.kernelRestart(s.Fail)
	case KindIdle:
	}
	return true
}

// vatStep does a host request about vat v.
func (w *world) vatStep(v *simVat, s Step) {
	k := w.d.K
	switch s.Kind {
	case KindTerminate:
		out, err := k.TerminateVat(ctx, v.id, "terminated by the simulation")
		if err != nil {
			w.fail("kernel", "TerminateVat(%s): %v", v.id, err)
			return
		}
		w.d.Release(out)
		w.terminate(v, "terminate")
	case KindRestart, KindUpgrade:
		before, _ := k.Vat(v.id)
		if s.Fail {
			v.fv.FailStart = errors.New("kernelsim: the new incarnation fails to start")
		}
		var out []kernel.Output
		var err error
		if s.Kind == KindRestart {
			out, err = k.RestartVat(ctx, v.id, w.d, "restarted by the simulation")
		} else {
			out, err = k.UpgradeVat(ctx, v.id, w.d, kernel.VatConfig{Bundle: fmt.Sprintf("fake-v%d", v.inc+2)})
		}
		v.fv.FailStart = nil
		w.d.Release(out)
		after, _ := k.Vat(v.id)
		why := s.Kind.String()
		switch {
		case s.Fail && err == nil:
			w.fail("kernel", "%s of %s succeeded although its start failed", why, v.name)
		case !s.Fail && err != nil:
			w.fail("kernel", "%s of %s: %v", why, v.name, err)
		case s.Fail && s.Kind == KindRestart:
			// A restart that cannot start terminates the vat.
			if after.Active {
				w.fail("termination", "failed restart of %s left it active", v.name)
			}
			w.terminate(v, "restart failed")
		case s.Fail:
			// A failed upgrade changes nothing.
			if !after.Active || after.Incarnation != before.Incarnation {
				w.fail("kernel", "failed upgrade of %s changed it: active=%v incarnation %d -> %d", v.name, after.Active, before.Incarnation, after.Incarnation)
			}
		default:
			if after.Incarnation != before.Incarnation+1 {
				w.fail("kernel", "%s of %s: incarnation %d -> %d", why, v.name, before.Incarnation, after.Incarnation)
			}
			w.restart(v, why)
		}
	case KindReap:
		out, err := k.ScheduleReap(ctx, v.id)
		if err != nil {
			w.fail("kernel", "ScheduleReap(%s): %v", v.id, err)
			return
		}
		w.d.Release(out)
		v.reaps = append(v.reaps, s.Target)
	}
	w.afterHost(s.Kind.String())
}

// kernelRestart stops the kernel (crash: as kill -9) and resumes a new one
// over the file.
func (w *world) kernelRestart(crash bool) {
	w.d.RestartKernel(crash)
	w.stats.KernelRestarts++
	w.processOutputs()
	if w.opts.Pending.Has(FeatureResume) {
		return
	}
	for _, v := range w.vats {
		if v.active {
			v.kernelRestarted = true
			w.restart(v, "kernel restart")
		}
	}
	w.afterHost("kernel restart")
}

// afterHost checks the state after a host request.
func (w *world) afterHost(what string) {
	w.d.AuditNow(what)
	w.processOutputs()
	w.checkActive()
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
