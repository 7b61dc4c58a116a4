package jsvat

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Options configure a Runtime. The zero value looks for node on PATH and
// for the worker in ./jsvat/worker (the repository's layout, for a binary
// run from the repository's root).
type Options struct {
	// Node is the node binary: a path, or a name looked up on PATH.
	// Default "node". Node.js 20.9 or later is needed.
	Node string
	// WorkerDir is the directory of the worker package (jsvat/worker in
	// the repository), with its npm dependencies installed (npm ci
	// --prefix DIR). Default "jsvat/worker", relative to the working
	// directory.
	WorkerDir string
	// MaxFrame bounds one protocol frame, either way, in bytes (the
	// newline included). A worker that writes a longer one fails its
	// delivery; a delivery or a vatstore too large to send in one fails
	// too. Default 64 MiB, the kernel's default per-delivery byte limit.
	MaxFrame int
	// Warm is how many workers to keep started ahead of need (SES
	// lockdown and liveslots loaded, waiting for initVat), so a launch or
	// restart skips the process start. Each idle worker holds its memory
	// (docs/js-vats.md has the figure). Default 0: none.
	Warm int
	// WarmOnUse is how many warm workers to keep from the first time a
	// vat takes a worker on (Warm, if larger, holds from the start). A
	// daemon that may never run a JavaScript vat keeps none, and one that
	// does gets its next launch or restart without the process start. A
	// vat that resumes counts as a use: its kernel runs JavaScript vats.
	// Default 0.
	WarmOnUse int
	// BundleCache is where the workers keep the bundles they make of
	// single-file (.js) vats, by content hash, so a restart or a second
	// vat of the same file skips the bundling. Default: a directory the
	// Runtime makes and Close removes.
	BundleCache string
	// KillWait bounds how long Stop waits for a killed worker to be
	// reaped before it gives up on it (and logs so). Default 10 s.
	KillWait time.Duration
	// Unbundled runs the worker from its sources (src/main.js) even when
	// its bundle (dist/worker.mjs, built by npm ci) is there and up to
	// date: for debugging the worker with its own file names in stacks.
	// Without a bundle, or with one built from other sources, the sources
	// run anyway (a stale bundle is logged as a warning).
	Unbundled bool
	// Command, if set, is the worker program and its first arguments,
	// run instead of Node on the worker in WorkerDir: a worker written in
	// another language against docs/vat-protocol.md. The kernel appends
	// --max-frame BYTES --bundle-cache DIR [--vat ID] and sets up fds 3
	// and 4 as for its own worker. Node and WorkerDir are then not
	// checked.
	Command []string
	// TierUpBudget is V8's interrupt budget (the bytecode a function runs
	// before V8 considers optimizing it) that the worker sets once its
	// vat has started. A vat's first few thousand deliveries otherwise
	// run mostly in V8's interpreter: at V8's own budget (67,584 in Node
	// 20) a fresh worker used about 1 ms of CPU a ping-pong round trip
	// where a warmed one uses 0.43. It is set only after the start,
	// because a low budget while SES, liveslots and the bundle load
	// makes V8 optimize code that runs once, and a launch took three
	// times as long. 0: DefaultTierUpBudget. Negative: keep V8's own.
	// Not used with Command.
	TierUpBudget int
	// Logger receives the runtime's own logs (worker starts and exits,
	// stderr lines of workers not yet handed to a vat). Vats log through
	// the logger of their VatSpec.
	Logger zerolog.Logger
}

// Defaults for Options.
const (
	DefaultNode      = "node"
	DefaultWorkerDir = "jsvat/worker"
	DefaultMaxFrame  = 64 << 20
	DefaultKillWait  = 10 * time.Second
	// DefaultTierUpBudget is Options.TierUpBudget's default, a 66th of
	// V8's: docs/js-vats.md has the measurements that chose it.
	DefaultTierUpBudget = 1024
	// maxTierUpBudget bounds Options.TierUpBudget: V8 takes an int, and
	// past V8's own default a budget only slows optimization down.
	maxTierUpBudget = 1 << 20
	// minFrame is the smallest MaxFrame allowed: a frame must hold at
	// least a delivery of a few refs and its answer.
	minFrame = 4 << 10
)

// Errors of the runtime. Each is wrapped with the details (the path
// looked at, what to run).
var (
	// ErrNoNode: the node binary is missing or too old.
	ErrNoNode = errors.New("jsvat: Node.js is not available")
	// ErrNoWorker: the worker directory or its npm dependencies are missing.
	ErrNoWorker = errors.New("jsvat: the JavaScript vat worker is not installed")
	// ErrClosed: the Runtime was closed.
	ErrClosed = errors.New("jsvat: the runtime is closed")
	// ErrProtocol: a worker broke the vat protocol (a frame that is not
	// JSON-RPC, too long, out of order, or with a bad field). The worker
	// is killed and its delivery fails.
	ErrProtocol = errors.New("jsvat: the worker broke the vat protocol")
	// ErrWorkerExited: a worker process ended while the kernel needed it.
	ErrWorkerExited = errors.New("jsvat: the worker process exited")
	// ErrAborted: the kernel gave up on the delivery (its deadline passed,
	// the host terminated the vat, or the kernel stopped); the worker was
	// killed.
	ErrAborted = errors.New("jsvat: delivery abandoned by the kernel; worker killed")
)

// minNode is the oldest Node.js the worker's dependencies support.
var minNode = [3]int{20, 9, 0}

// Runtime starts and supervises the worker processes of JavaScript vats:
// one process per vat incarnation. It is safe for concurrent use. Close
// kills every process it still owns (the warm ones; a vat's process is
// killed by the vat's Stop, which the kernel calls when it stops the vat).
type Runtime struct {
	opts   Options
	entry  string // the worker's main script
	cache  string // Options.BundleCache, or the made one
	ownDir bool   // cache was made here and is removed at Close
	log    zerolog.Logger

	checkOnce sync.Mutex // guards checked: a failed check is retried
	checked   bool

	mu struct {
		sync.Mutex
		closed bool
		warm   []*process
		// filling counts warm workers being started.
		filling int
		// used is set when a vat first takes a worker: from then on
		// Options.WarmOnUse applies.
		used bool
		// live are the processes not yet reaped, warm or a vat's, so
		// Close can wait for them.
		live map[*process]struct{}
	}
	fillers    sync.WaitGroup // warm workers being started
	prewarming sync.WaitGroup // those of them Prewarm started
}

// NewRuntime checks opts and makes a Runtime. It starts no process unless
// Options.Warm asks for warm workers, and never fails for want of Node:
// that is reported when a JavaScript vat launches (ErrNoNode,
// ErrNoWorker), so a kernel with no JavaScript vats runs without Node.
func NewRuntime(opts Options) (*Runtime, error) {
	if opts.Node == "" {
		opts.Node = DefaultNode
	}
	if opts.WorkerDir == "" {
		opts.WorkerDir = DefaultWorkerDir
	}
	switch {
	case opts.MaxFrame == 0:
		opts.MaxFrame = DefaultMaxFrame
	// Refused rather than raised to the minimum: a limit the caller set is a
	// decision about memory, and silently changing it would hide a mistake.
	case opts.MaxFrame < minFrame:
		return nil, fmt.Errorf("jsvat: Options.MaxFrame %d: want at least %d bytes (or 0 for %d)", opts.MaxFrame, minFrame, DefaultMaxFrame)
	}
	if opts.Warm < 0 {
		return nil, fmt.Errorf("jsvat: Options.Warm %d: must not be negative", opts.Warm)
	}
	if opts.WarmOnUse < 0 {
		return nil, fmt.Errorf("jsvat: Options.WarmOnUse %d: must not be negative", opts.WarmOnUse)
	}
	if opts.KillWait <= 0 {
		opts.KillWait = DefaultKillWait
	}
	switch {
	case opts.TierUpBudget == 0:
		opts.TierUpBudget = DefaultTierUpBudget
	case opts.TierUpBudget > maxTierUpBudget:
		return nil, fmt.Errorf("jsvat: Options.TierUpBudget %d: want at most %d (or 0 for %d, negative for V8's own)", opts.TierUpBudget, maxTierUpBudget, DefaultTierUpBudget)
	}
	dir, err := filepath.Abs(opts.WorkerDir)
	if err != nil {
		return nil, fmt.Errorf("jsvat: Options.WorkerDir %q: %w", opts.WorkerDir, err)
	}
	// Absolute now, so that a later change of the kernel's working directory
	// cannot move the worker code it runs.
	opts.WorkerDir = dir
	entry := chooseEntry(dir, opts.Unbundled)
	r := &Runtime{opts: opts, entry: entry.path, log: opts.Logger}
	if entry.stale != "" && len(opts.Command) == 0 {
		r.log.Warn().Str("worker", dir).Msg("jsvat: worker bundle not used: " + entry.stale)
	}
	r.mu.live = map[*process]struct{}{}
	r.cache = opts.BundleCache
	if r.cache == "" {
		if r.cache, err = os.MkdirTemp("", "kernel-actors-bundles-"); err != nil {
			return nil, fmt.Errorf("jsvat: bundle cache: %w", err)
		}
		r.ownDir = true
	}
	// Warm workers start now, in the background: a failure (no Node) is not
	// NewRuntime's, and shows at the first launch.
	r.fill()
	return r, nil
}

// Check verifies that JavaScript vats can run: the node binary is there
// and recent enough, and the worker's dependencies are installed. A
// launch runs it first (once it has passed, not again); a program can run
// it at start to fail early.
//
// A mutex, not a sync.Once: a check that failed (Node not installed yet)
// is run again at the next launch, while one that passed is never rerun.
func (r *Runtime) Check(ctx context.Context) error {
	r.checkOnce.Lock()
	defer r.checkOnce.Unlock()
	if r.checked {
		return nil
	}
	if err := r.check(ctx); err != nil {
		return err
	}
	r.checked = true
	return nil
}

var nodeVersion = regexp.MustCompile(`^v(\d+)\.(\d+)\.(\d+)`)

func (r *Runtime) check(ctx context.Context) error {
	// A worker of another language is the caller's to vouch for: only that it
	// can be found is checked.
	if len(r.opts.Command) > 0 {
		if _, err := exec.LookPath(r.opts.Command[0]); err != nil {
			return fmt.Errorf("%w: the worker program %q (Options.Command): %v", ErrNoWorker, r.opts.Command[0], err)
		}
		return nil
	}
	node, err := exec.LookPath(r.opts.Node)
	if err != nil {
		return fmt.Errorf("%w: %q not found (%v): JavaScript vats need Node.js %d.%d or later; install it (for example `apt-get install nodejs`, or from https://nodejs.org) or set the node binary (jsvat.Options.Node)",
			ErrNoNode, r.opts.Node, err, minNode[0], minNode[1])
	}
	if _, err := os.Stat(r.entry); err != nil {
		return fmt.Errorf("%w: no worker at %s (%v): point jsvat.Options.WorkerDir at the jsvat/worker directory of kernel-actors",
			ErrNoWorker, r.opts.WorkerDir, err)
	}
	// One package stands for all: a worker without its dependencies would die
	// at import with a stack trace; this says to run npm ci instead.
	probe := filepath.Join(r.opts.WorkerDir, "node_modules", "@agoric", "swingset-liveslots", "package.json")
	if _, err := os.Stat(probe); err != nil {
		return fmt.Errorf("%w: its npm dependencies are missing from %s: run `npm ci --prefix %s`",
			ErrNoWorker, filepath.Join(r.opts.WorkerDir, "node_modules"), r.opts.WorkerDir)
	}
	// Bounded: a broken node binary that hangs must not hang every launch.
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(cctx, node, "--version").Output()
	if err != nil {
		return fmt.Errorf("%w: %s --version: %v", ErrNoNode, node, err)
	}
	m := nodeVersion.FindSubmatch(out)
	if m == nil {
		return fmt.Errorf("%w: %s --version printed %q, not a Node.js version", ErrNoNode, node, out)
	}
	var have [3]int
	for i := range have {
		have[i], _ = strconv.Atoi(string(m[i+1]))
	}
	// An older Node would start and then fail inside SES or liveslots in ways
	// that name neither; refused here with the version needed.
	if have[0] < minNode[0] || have[0] == minNode[0] && have[1] < minNode[1] {
		return fmt.Errorf("%w: %s is Node.js %d.%d.%d; JavaScript vats need %d.%d or later",
			ErrNoNode, node, have[0], have[1], have[2], minNode[0], minNode[1])
	}
	return nil
}

// Close kills the warm workers, waits for every process the runtime
// started to be reaped (a vat's process is killed by its Stop: Close
// waits for those the kernel has not stopped yet only up to KillWait,
// then kills them too), and removes the bundle cache it made. It is safe
// to call more than once.
func (r *Runtime) Close() error {
	r.mu.Lock()
	if r.mu.closed {
		r.mu.Unlock()
		return nil
	}
	// closed first, under mu: from here take and fill start nothing new.
	r.mu.closed = true
	warm := r.mu.warm
	r.mu.warm = nil
	r.mu.Unlock()
	// A filler that finishes after closed sees it and kills its worker
	// (addWarm); waiting for them keeps Close from returning with one still
	// being born.
	r.fillers.Wait() // no warm worker starts after this
	for _, p := range warm {
		p.kill("runtime closed")
	}
	r.mu.Lock()
	// A copy, since kill takes mu to remove itself from live.
	live := make([]*process, 0, len(r.mu.live))
	for p := range r.mu.live {
		live = append(live, p)
	}
	r.mu.Unlock()
	for _, p := range live {
		// A vat's process the kernel did not stop (a kernel that was not
		// stopped before its runtime): killed, not left behind.
		// INVARIANT: every worker the runtime still lists is killed and reaped
		// by Close (or given up on after KillWait, and logged).
		p.kill("runtime closed")
	}
	if r.ownDir {
		if err := os.RemoveAll(r.cache); err != nil {
			return fmt.Errorf("jsvat: removing the bundle cache: %w", err)
		}
	}
	return nil
}

// PIDs lists the process ids of the workers alive now (warm ones
// included), for tests and operators.
func (r *Runtime) PIDs() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]int, 0, len(r.mu.live))
	for p := range r.mu.live {
		out = append(out, p.pid)
	}
	return out
}
