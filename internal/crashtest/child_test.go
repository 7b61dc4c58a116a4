package crashtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/persistence"
)

// The child: a process that runs a kernel on the trial's file and the
// trial's schedule until it is killed. TestMain runs it when envChild is
// set; its value is the childConfig in JSON.

const envChild = "KERNEL_ACTORS_CRASHTEST_CHILD"

// Child exit codes other than death by SIGKILL, each a failure the parent
// reports.
const (
	exitSetup   = 2 // could not start (bad config, side ledger, actors.Start)
	exitOp      = 3 // an operation failed in a way the schedule cannot go on from
	exitNoKill  = 4 // the flush kill never came
	exitStopped = 5 // the kernel stopped itself
)

// Group-commit limits for the group trials: small, so a group holds a few
// cranks and flushes land inside operations.
const (
	groupCranks   = 4
	groupInterval = 5 * time.Millisecond
)

// maxOpsPerChild bounds a child's run: after it, a flush kill that has not
// come fires at the next flush, whatever is running (recorded as such).
const maxOpsPerChild = 400

// opTimeout bounds each host operation: one that takes longer hangs.
const opTimeout = 45 * time.Second

// killMode is how a child dies.
type killMode string

const (
	modeFlush killMode = "flush" // the crash hook kills at a commit boundary
	modeTime  killMode = "time"  // the parent kills after Delay
)

// killPlan says where a child dies. A flush plan kills at the Nth flush,
// at Point, that happens while an operation of Kind is running (Kind
// kindResume: inside actors.Start).
type killPlan struct {
	Mode  killMode               `json:"mode"`
	Point persistence.FaultPoint `json:"point,omitempty"`
	Kind  opKind                 `json:"kind,omitempty"`
	N     int                    `json:"n,omitempty"`
	Delay time.Duration          `json:"delay,omitempty"`
}

func (p killPlan) String() string {
	if p.Mode == modeTime {
		return fmt.Sprintf("SIGKILL after %v", p.Delay)
	}
	return fmt.Sprintf("flush %d at %s during %s", p.N, p.Point, p.Kind)
}

// childConfig is what the parent hands a child.
type childConfig struct {
	DB     string                   `json:"db"`
	Side   string                   `json:"side"`
	Seed   uint64                   `json:"seed"` // the trial's
	Policy persistence.CommitPolicy `json:"policy"`
	Plan   killPlan                 `json:"plan"`
}

// kernelConfig is the actors config of a trial's kernel, child or parent.
func kernelConfig(db string, policy persistence.CommitPolicy) actors.Config {
	cfg := actors.Config{DBPath: db, Registry: registry(), CommitPolicy: policy}
	if policy == persistence.Group {
		cfg.GroupCranks, cfg.GroupInterval = groupCranks, groupInterval
	}
	return cfg
}

// killer is the child's crash hook (actors.Config.StoreFaults). It knows
// which operation the host is in, counts flushes, and kills the process
// where the plan says.
type killer struct {
	plan killPlan
	side *sideLedger

	mu    sync.Mutex
	kind  opKind // the operation running, "" between operations
	op    int
	flush int  // flushes begun since the operation began
	seen  int  // flushes at plan.Point during plan.Kind
	force bool // kill at the next flush at plan.Point, whatever runs
}

var _ persistence.FaultInjector = (*killer)(nil)

// Fault is called by the store at every commit boundary of every flush.
func (k *killer) Fault(p persistence.FaultPoint) error {
	if k.plan.Mode != modeFlush {
		return nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if p == persistence.FaultBeforeBegin {
		k.flush++
	}
	if p != k.plan.Point || (k.kind != k.plan.Kind && !k.force) {
		return nil
	}
	k.seen++
	if k.seen < k.plan.N && !k.force {
		return nil
	}
	kind := k.kind
	if kind == "" {
		kind = "idle"
	}
	// The line is fsynced before the kill, so the parent knows where it
	// landed. Nothing else runs on this goroutine: the kernel actor waits.
	if err := k.side.write(entry{Ev: evKill, Op: k.op, Kind: kind, Point: p, Flush: k.flush}); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
	}
	syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {} // SIGKILL cannot be caught; this goroutine never goes on
}

// enter and leave bracket an operation, for Fault.
func (k *killer) enter(kind opKind, op int) {
	k.mu.Lock()
	k.kind, k.op, k.flush = kind, op, 0
	k.mu.Unlock()
}

// leave ends an operation. A plan aimed at the resume whose Nth flush
// never came (the file held fewer vats, or none) kills at the next flush
// instead, rather than not at all.
func (k *killer) leave() {
	k.mu.Lock()
	if k.kind == kindResume && k.plan.Kind == kindResume {
		k.force = true
	}
	k.kind = ""
	k.mu.Unlock()
}

func (k *killer) forceNext() {
	k.mu.Lock()
	k.force = true
	k.mu.Unlock()
}

// childMain runs the child and returns its exit code; it returns only on
// failure (success is being killed).
func childMain(raw string) int {
	var cc childConfig
	if err := json.Unmarshal([]byte(raw), &cc); err != nil {
		fmt.Fprintln(os.Stderr, "child: config:", err)
		return exitSetup
	}
	entries, err := readSideLedger(cc.Side)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return exitSetup
	}
	first := digest(entries).nextOp
	side, err := openSideLedger(cc.Side)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return exitSetup
	}
	kill := &killer{plan: cc.Plan, side: side}
	ctx := context.Background()
	cfg := kernelConfig(cc.DB, cc.Policy)
	cfg.StoreFaults = kill
	kill.enter(kindResume, first)
	k, err := actors.Start(ctx, cfg)
	kill.leave()
	if err != nil {
		fmt.Fprintln(os.Stderr, "child: start:", err)
		return exitSetup
	}
	for i := first; ; i++ {
		if cc.Plan.Mode == modeFlush && i-first == maxOpsPerChild {
			kill.forceNext()
		}
		if cc.Plan.Mode == modeFlush && i-first > 2*maxOpsPerChild {
			return exitNoKill
		}
		st, err := k.Status(ctx)
		if err != nil {
			fmt.Fprintln(os.Stderr, "child: status:", err)
			return exitStopped
		}
		o := nextOp(cc.Seed, i, worldOf(st))
		kill.enter(o.Kind, o.Index)
		err = runOp(ctx, k, side, o)
		kill.leave()
		if err != nil {
			fmt.Fprintf(os.Stderr, "child: op %d (%s): %v\n", o.Index, o.Kind, err)
			if errors.Is(err, actors.ErrStopped) {
				return exitStopped
			}
			return exitOp
		}
	}
}

// runOp runs one operation, writing its begin line before and its answer
// after. An error the kernel answers with is a "fail" line, not an error
// of runOp: it returns an error only when the child cannot go on (the
// side ledger failed, the kernel stopped, an operation hung).
func runOp(ctx context.Context, k *actors.Kernel, side *sideLedger, o op) error {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	begin := entry{Ev: evBegin, Op: o.Index, Kind: o.Kind, Vat: o.Vat, Vats: o.Vats, Bundle: o.Bundle,
		Subcluster: o.Subcluster, Launch: o.Launch}
	answer := func(e entry, v string, err error) error {
		if err != nil {
			if errors.Is(err, actors.ErrStopped) || errors.Is(err, context.DeadlineExceeded) {
				return err
			}
			e.Ev, e.Err = evFail, err.Error()
		} else {
			e.Ev, e.Result = evAck, v
		}
		return side.write(e)
	}
	switch o.Kind {
	case opApply, opRelay, opPipeline, opCross, opBurst:
		return runSends(ctx, k, side, o, answer)
	case opLaunch:
		if err := side.write(begin); err != nil {
			return err
		}
		res, err := k.LaunchSubcluster(ctx, o.Cluster)
		e := begin
		e.Subcluster = res.SubclusterID
		return answer(e, fmt.Sprint(res.BootstrapResult), err)
	case opRestart, opUpgrade, opTerminateVat, opTerminateSubcluster:
		if err := side.write(begin); err != nil {
			return err
		}
		var err error
		switch o.Kind {
		case opRestart:
			err = k.RestartVat(ctx, o.Vat)
		case opUpgrade:
			err = k.UpgradeVat(ctx, o.Vat, o.Bundle)
		case opTerminateVat:
			err = k.TerminateVat(ctx, o.Vat, "crash test")
		case opTerminateSubcluster:
			err = k.TerminateSubcluster(ctx, o.Subcluster)
		}
		return answer(begin, "", err)
	}
	return fmt.Errorf("unknown operation kind %q", o.Kind)
}

// runSends sends an operation's effects, all at once: every begin line
// first, then the sends concurrently, each answered as it returns.
func runSends(ctx context.Context, k *actors.Kernel, side *sideLedger, o op, answer func(entry, string, error) error) error {
	lines := make([]entry, len(o.Sends))
	for i, s := range o.Sends {
		lines[i] = entry{Ev: evBegin, Op: o.Index, Kind: s.Kind, Effect: s.Effect, Ledger: s.Ledger}
		if err := side.write(lines[i]); err != nil {
			return err
		}
	}
	errs := make([]error, len(o.Sends))
	var wg sync.WaitGroup
	for i, s := range o.Sends {
		wg.Go(func() {
			v, err := k.QueueMessage(ctx, s.Target, s.Method, s.Args...)
			errs[i] = answer(lines[i], fmt.Sprint(v), err)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
