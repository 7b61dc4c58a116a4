//go:build jsvat

package conformance

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/internal/invariants"
	"github.com/ocapgo/kernel-actors/jsvat"
	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/vat"
)

// The harness: a world is one kernel on a SQLite file of its own, with a
// JavaScript vat runtime, a log that keeps every line the kernel and its
// vats write, and the auditor. Each test builds its own world, and the
// world's cleanup stops everything and checks that no goroutine is left.

// bundleCache is where the package's runtimes keep the bundles the worker
// makes of the vats' .js files. Bundling one takes seconds, and a bundle
// depends only on its file's content (the cache is keyed by its hash), so
// the tests share one directory, made and removed by TestMain.
var bundleCache string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "conformance-bundles-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "conformance:", err)
		os.Exit(1)
	}
	bundleCache = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// deliveryDeadline bounds one delivery. A JavaScript vat's startVat loads
// (and, the first time, bundles) its code inside its delivery, which on a
// loaded two-core machine under -race takes seconds; the deadline is here
// only so that a hung scenario fails rather than hangs.
const deliveryDeadline = 2 * time.Minute

// stepTimeout bounds each host call a test makes.
const stepTimeout = 3 * time.Minute

// world is one test's kernel, runtime, log and auditor.
type world struct {
	t     *testing.T
	rt    *jsvat.Runtime
	log   *logBook
	path  string // the kernel's database file
	k     *actors.Kernel
	audit *crankAuditor
}

// newWorld starts a kernel with a fresh database and a JavaScript vat
// runtime over the repository's worker. Without Node.js or the worker's
// dependencies it fails the test saying what to install: these tests run
// only under the jsvat tag, whose point is to run them.
func newWorld(t *testing.T) *world {
	t.Helper()
	// The goroutines alive now are the test binary's; any other still
	// alive at the end is the world's, leaked. Registered first, so it
	// runs last: after the kernel has stopped and the runtime has reaped
	// its workers.
	before := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, before) })
	w := &world{t: t, log: &logBook{}, path: filepath.Join(t.TempDir(), "kernel.db")}
	worker, err := filepath.Abs("../worker")
	require.NoError(t, err)
	rt, err := jsvat.NewRuntime(jsvat.Options{
		WorkerDir:   worker,
		BundleCache: bundleCache,
		Logger:      zerolog.New(w.log).With().Str("source", "jsvat runtime").Logger(),
	})
	require.NoError(t, err)
	w.rt = rt
	t.Cleanup(func() {
		w.stop()
		require.NoError(t, rt.Close())
		require.Empty(t, rt.PIDs(), "every worker process was reaped")
	})
	ctx, cancel := w.ctx()
	defer cancel()
	if err := rt.Check(ctx); err != nil {
		t.Fatalf("the conformance tests need Node.js and the worker's npm dependencies (npm ci --prefix jsvat/worker): %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			w.dumpLog()
		}
	})
	w.start(false)
	return w
}

// ctx is the context of one host call.
func (w *world) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), stepTimeout)
}

// start starts a kernel on the world's file: a new one, or, if the file
// holds a kernel, that kernel resumed (reset empties it first).
func (w *world) start(reset bool) {
	w.t.Helper()
	require.Nil(w.t, w.k, "a kernel is running already")
	cfg := actors.Config{
		DBPath:           w.path,
		ResetStorage:     reset,
		Registry:         vat.NewRegistry(), // no Go vats: every vat here is JavaScript
		Logger:           zerolog.New(w.log),
		JS:               w.rt,
		DeliveryDeadline: deliveryDeadline,
	}
	if invariants.Enabled {
		w.audit = &crankAuditor{}
		cfg.StoreFaults = w.audit
	}
	ctx, cancel := w.ctx()
	defer cancel()
	k, err := actors.Start(ctx, cfg)
	require.NoError(w.t, err)
	w.k = k
	if w.audit != nil {
		require.NoError(w.t, k.ReadStore(ctx, func(st *persistence.Store) error {
			w.audit.watch(st)
			return nil
		}))
	}
}

// stop stops the running kernel, if any, after a last audit.
func (w *world) stop() {
	w.t.Helper()
	if w.k == nil {
		return
	}
	if !w.t.Failed() {
		w.idle()
	}
	if w.audit != nil {
		w.t.Logf("the auditor ran after %d commits of this kernel", w.audit.count())
	}
	ctx, cancel := w.ctx()
	defer cancel()
	err := w.k.Stop(ctx)
	w.k = nil
	require.NoError(w.t, err)
}

// restartKernel stops the kernel and starts it again on the same file, as
// a new process would: every vat resumes as a new incarnation.
func (w *world) restartKernel() {
	w.t.Helper()
	w.stop()
	w.start(false)
}

// idle waits until the kernel has no work, then audits it in full: the
// counts and structure (as after every crank), and memory against the
// file, which the per-crank audit cannot compare while a flush is under
// way.
func (w *world) idle() {
	w.t.Helper()
	ctx, cancel := w.ctx()
	defer cancel()
	require.NoError(w.t, w.k.WaitIdle(ctx))
	var problems []string
	require.NoError(w.t, w.k.ReadStore(ctx, func(st *persistence.Store) error {
		var err error
		problems, err = kernel.Audit(ctx, st)
		return err
	}))
	require.Empty(w.t, problems, "the auditor, with the kernel idle")
	if w.audit != nil {
		require.Empty(w.t, w.audit.take(), "the auditor, after each crank")
	}
}

// launch launches cfg and waits until its bootstrap has settled.
func (w *world) launch(cfg kernel.ClusterConfig) kernel.LaunchResult {
	w.t.Helper()
	res, err := w.launchErr(cfg)
	require.NoError(w.t, err)
	return res
}

// launchErr launches cfg and returns what the launch returned, then waits
// until the kernel is idle (the reference's waitUntilQuiescent), so that
// every log line of the scenario has been written.
func (w *world) launchErr(cfg kernel.ClusterConfig) (kernel.LaunchResult, error) {
	w.t.Helper()
	ctx, cancel := w.ctx()
	defer cancel()
	res, err := w.k.LaunchSubcluster(ctx, cfg)
	w.idle()
	return res, err
}

// send sends method(args...) to target from the host and returns the
// result, failing the test on a rejection.
func (w *world) send(target kernel.KRef, method string, args ...any) any {
	w.t.Helper()
	v, err := w.sendErr(target, method, args...)
	require.NoError(w.t, err, "%s.%s", target, method)
	return v
}

// sendErr sends method(args...) to target and returns the result or the
// rejection, once the kernel is idle again.
func (w *world) sendErr(target kernel.KRef, method string, args ...any) (any, error) {
	w.t.Helper()
	ctx, cancel := w.ctx()
	defer cancel()
	v, err := w.k.QueueMessage(ctx, target, method, args...)
	w.idle()
	return v, err
}

// store runs fn on the kernel's store between cranks.
func (w *world) store(fn func(st *persistence.Store)) {
	w.t.Helper()
	ctx, cancel := w.ctx()
	defer cancel()
	require.NoError(w.t, w.k.ReadStore(ctx, func(st *persistence.Store) error {
		fn(st)
		return nil
	}))
}

// object reads an object's row (ok false once it is gone).
func (w *world) object(kref kernel.KRef) (row persistence.ObjectRow, ok bool) {
	w.store(func(st *persistence.Store) { row, ok = st.Object(string(kref)) })
	return row, ok
}

// promiseStates lists the kernel promises that exist, in id order, as
// their state (and, for an unresolved one, its decider).
func (w *world) promiseStates() []string {
	var out []string
	w.store(func(st *persistence.Store) {
		for _, kpid := range st.PromiseKPIDs() {
			r, _ := st.Promise(kpid)
			line := string(r.State)
			if r.State == persistence.PromiseUnresolved {
				line += " decider=" + r.Decider
			}
			out = append(out, line)
		}
	})
	return out
}

// vatRow reads a vat's row.
func (w *world) vatRow(id kernel.VatID) (row persistence.VatRow, ok bool) {
	w.store(func(st *persistence.Store) { row, ok = st.Vat(string(id)) })
	return row, ok
}

// spec is the bundleSpec of the vat file name under vats/: an absolute
// path, as the kernel stores it.
func spec(t testing.TB, name string) string {
	p, err := filepath.Abs(filepath.Join("vats", name+".js"))
	require.NoError(t, err)
	_, err = os.Stat(p)
	require.NoError(t, err, "vat file %s", p)
	return p
}

// jsVat is the config of a JavaScript vat running file with parameters.
func jsVat(t testing.TB, file string, params map[string]any) kernel.VatConfig {
	return kernel.VatConfig{BundleSpec: spec(t, file), Parameters: params}
}

// trio is the reference's three-vat cluster for the liveslots tests:
// alice (the bootstrap vat, which runs the test), bob and carol, all
// running the same file. Each is told the test (the reference tells only
// alice): where a vat file holds two tests, bob's part depends on it.
func trio(t testing.TB, file, test string) kernel.ClusterConfig {
	return kernel.ClusterConfig{Bootstrap: "alice", Vats: map[string]kernel.VatConfig{
		"alice": jsVat(t, file, map[string]any{"name": "Alice", "test": test}),
		"bob":   jsVat(t, file, map[string]any{"name": "Bob", "test": test}),
		"carol": jsVat(t, file, map[string]any{"name": "Carol", "test": test}),
	}}
}

// crankAuditor runs kernel.Audit after every crank. The store calls its
// Fault at each commit boundary of every flush; under the durable commit
// policy (the default, and the only one used here) every unit the kernel
// commits, each crank and each host request, is flushed on its own, so
// the point before BEGIN comes once after each, on the kernel actor's
// goroutine, with the unit committed in memory and no unit open. The
// auditor then checks every count and structure rule; memory against the
// file it cannot compare until the flush is done (world.idle does that).
// It never fails a flush: problems are kept, and the test asserts there
// are none at each step.
type crankAuditor struct {
	mu       sync.Mutex
	st       *persistence.Store
	audits   int
	problems []string
}

var _ persistence.FaultInjector = (*crankAuditor)(nil)

// watch starts auditing st (from the kernel actor's goroutine).
func (a *crankAuditor) watch(st *persistence.Store) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.st = st
}

// Fault audits the store once per flush.
func (a *crankAuditor) Fault(point persistence.FaultPoint) error {
	if point != persistence.FaultBeforeBegin {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.st == nil || a.st.InUnit() {
		return nil
	}
	a.audits++
	problems, err := kernel.Audit(context.Background(), a.st)
	if err != nil {
		problems = append(problems, "audit failed: "+err.Error())
	}
	for _, p := range problems {
		a.problems = append(a.problems, fmt.Sprintf("after flush %d: %s", a.audits, p))
	}
	return nil
}

// count is how many audits have run.
func (a *crankAuditor) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.audits
}

// take returns and forgets the problems found so far.
func (a *crankAuditor) take() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	p := a.problems
	a.problems = nil
	return p
}

// logBook keeps every line the kernel's logger writes: the kernel's own,
// the runtime's, and each vat's (its console and its liveslots logger, in
// zerolog's JSON, with the vat's id). The vats' lines arrive on the
// worker's pipe ahead of the delivery's result, so by the time a crank
// ends its lines are here, in the order the vat wrote them.
type logBook struct {
	mu      sync.Mutex
	raw     []string
	entries []logEntry
}

// logEntry is one parsed line.
type logEntry struct {
	Level       string   `json:"level"`
	Vat         string   `json:"vat"`
	Incarnation int64    `json:"incarnation"`
	Source      string   `json:"source"`
	Tags        []string `json:"tags"`
	Message     string   `json:"message"`
}

func (b *logBook) Write(p []byte) (int, error) {
	line := strings.TrimRight(string(p), "\n")
	var e logEntry
	err := json.Unmarshal([]byte(line), &e)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.raw = append(b.raw, line)
	if err == nil {
		b.entries = append(b.entries, e)
	}
	return len(p), nil
}

// mark is a position in the log, for reading only what came after it
// (the reference's clearLogEntries).
func (b *logBook) mark() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.entries)
}

// pick returns the messages of the vat lines from position from on
// that keep says to keep.
func (b *logBook) pick(from int, keep func(e logEntry) bool) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := []string{}
	for _, e := range b.entries[from:] {
		if e.Source == "vat" && e.Message != "" && keep(e) {
			out = append(out, e.Message)
		}
	}
	return out
}

func hasTag(e logEntry, tag string) bool {
	for _, t := range e.Tags {
		if t == tag {
			return true
		}
	}
	return false
}

// testLog is the reference's extractTestLogs: the lines a vat wrote to
// its test logger (vatPowers.logger.subLogger({tags: ['test', name]})),
// those tagged with one of names, or all of them if none is given.
func (w *world) testLog(names ...string) []string {
	return w.testLogSince(0, names...)
}

// testLogSince is testLog from a mark on.
func (w *world) testLogSince(from int, names ...string) []string {
	return w.log.pick(from, func(e logEntry) bool {
		if !hasTag(e, "test") {
			return false
		}
		if len(names) == 0 {
			return true
		}
		for _, n := range names {
			if hasTag(e, n) {
				return true
			}
		}
		return false
	})
}

// vatTestLog is the test lines of the given vats, by the vat id the kernel
// tags each line with (the reference filters by its vat-id tags, v1, v2).
func (w *world) vatTestLog(ids ...kernel.VatID) []string {
	return w.log.pick(0, func(e logEntry) bool {
		if !hasTag(e, "test") {
			return false
		}
		for _, id := range ids {
			if e.Vat == string(id) {
				return true
			}
		}
		return false
	})
}

// consoleLog is what the vats' code wrote with console.log (and its
// siblings), in order.
func (w *world) consoleLog() []string {
	return w.log.pick(0, func(e logEntry) bool { return hasTag(e, "console") })
}

// dumpLog writes the whole log into the test's output, for a failure.
func (w *world) dumpLog() {
	w.log.mu.Lock()
	defer w.log.mu.Unlock()
	for _, l := range w.log.raw {
		w.t.Log(l)
	}
}
