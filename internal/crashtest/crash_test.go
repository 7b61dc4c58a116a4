package crashtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ocapgo/kernel-actors/persistence"
)

var (
	flagSeed  = flag.Uint64("crash.seed", 0, "seed of the schedules and kill points (0: a new one, printed)")
	flagKills = flag.Int("crash.kills", defaultKills, "number of kills (the long form is 1000)")
	flagTrial = flag.Int("crash.trial", -1, "run only this trial of the seed (-1: all)")
	flagDir   = flag.String("crash.dir", "", "keep each trial's database and side ledger under this directory")
)

const (
	// defaultKills is the short form, run by go test ./... in CI.
	defaultKills = 60
	// killsPerTrial is how many kills one file takes before the next trial
	// starts on a fresh one.
	killsPerTrial = 6
	// timeKillEvery: every timeKillEvery-th kill is a time kill; the rest
	// are flush kills.
	timeKillEvery = 4
	// maxTimeKill bounds a time kill's delay, counted from the child's
	// start (so a time kill can land inside the resume too).
	maxTimeKill = 1500 * time.Millisecond
	// childWatchdog kills a child that neither died as planned nor exited.
	childWatchdog = 3 * time.Minute
)

// flushPoints are the commit boundaries a flush kill aims at.
var flushPoints = []persistence.FaultPoint{
	persistence.FaultBeforeBegin, persistence.FaultBeforeCommit, persistence.FaultAfterCommit,
}

// maxN bounds the N of a flush plan of each kind. N counts the flushes of
// every operation of the kind since the child started, so N up to the
// number of flushes one operation makes under the durable policy (a launch
// makes 7: its records, the start of each vat, the bootstrap message, and
// the bootstrap's three cranks) lands the kill at any one of them in the
// child's first operation of the kind.
var maxN = map[opKind]int{
	kindResume: 6, opApply: 2, opRelay: 4, opPipeline: 6, opCross: 4, opBurst: 8,
	opLaunch: 7, opRestart: 2, opUpgrade: 2, opTerminateVat: 2, opTerminateSubcluster: 2,
}

func TestMain(m *testing.M) {
	if raw := os.Getenv(envChild); raw != "" {
		os.Exit(childMain(raw))
	}
	os.Exit(m.Run())
}

// killPlans draws n kill plans from seed: every timeKillEvery-th a time
// kill, the others flush kills that go through every (kind, point) pair
// in a shuffled order before any pair comes again.
func killPlans(seed uint64, n int) []killPlan {
	r := rand.New(rand.NewPCG(seed, 0x6b696c6c))
	var pairs []killPlan
	for _, k := range flushKinds {
		for _, p := range flushPoints {
			pairs = append(pairs, killPlan{Mode: modeFlush, Kind: k, Point: p})
		}
	}
	out := make([]killPlan, n)
	next := len(pairs)
	for j := range out {
		if j%timeKillEvery == timeKillEvery-1 {
			out[j] = killPlan{Mode: modeTime, Delay: time.Duration(r.Int64N(int64(maxTimeKill)))}
			continue
		}
		if next == len(pairs) {
			r.Shuffle(len(pairs), func(a, b int) { pairs[a], pairs[b] = pairs[b], pairs[a] })
			next = 0
		}
		p := pairs[next]
		next++
		p.N = 1 + r.IntN(maxN[p.Kind])
		out[j] = p
	}
	return out
}

// trialSeed is trial i's schedule seed.
func trialSeed(seed uint64, i int) uint64 {
	return rand.New(rand.NewPCG(seed, uint64(i))).Uint64()
}

// TestCrash kills a kernel process with SIGKILL at commit boundaries and
// at random times, and checks after every kill that nothing acknowledged
// was lost or doubled, that nothing was released before its commit, and
// that the file resumes to a sound state (see the package doc).
func TestCrash(t *testing.T) {
	seed := *flagSeed
	if seed == 0 {
		seed = rand.Uint64()
	}
	kills := *flagKills
	t.Logf("crash test: seed %d, %d kills; replay with -crash.seed %d -crash.kills %d", seed, kills, seed, kills)
	plans := killPlans(seed, kills)
	st := newStats()
	for i := 0; i*killsPerTrial < kills; i++ {
		if *flagTrial >= 0 && i != *flagTrial {
			continue
		}
		policy := persistence.Durable
		if i%2 == 1 {
			policy = persistence.Group
		}
		tr := trial{index: i, seed: trialSeed(seed, i), policy: policy,
			plans: plans[i*killsPerTrial : min(kills, (i+1)*killsPerTrial)], stats: st}
		t.Run(fmt.Sprintf("trial %d %s", i, policy), func(t *testing.T) {
			// Every kernel the checks start is stopped, and every child
			// reaped: nothing outlives the trial.
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			tr.run(t, seed)
			if t.Failed() {
				t.Logf("replay: go test ./internal/crashtest -run TestCrash -v -crash.seed %d -crash.kills %d -crash.trial %d",
					seed, kills, i)
			}
		})
	}
	for _, line := range st.summary() {
		t.Log(line)
	}
	if st.total() > 0 {
		t.Errorf("crash test: %d problems (seed %d): %s", st.total(), seed, st.byCategory())
	}
}

// trial is a run of kills on one file.
type trial struct {
	index  int
	seed   uint64
	policy persistence.CommitPolicy
	plans  []killPlan
	stats  *stats
}

func (tr *trial) run(t *testing.T, seed uint64) {
	dir := t.TempDir()
	if *flagDir != "" {
		dir = filepath.Join(*flagDir, fmt.Sprintf("trial-%d", tr.index))
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	db, side := filepath.Join(dir, "kernel.db"), filepath.Join(dir, "side.jsonl")
	reported := map[string]bool{}
	var entries []entry
	for j, plan := range tr.plans {
		where := fmt.Sprintf("seed %d trial %d kill %d (%s)", seed, tr.index, j, plan)
		before := len(entries)
		cc := childConfig{DB: db, Side: side, Seed: tr.seed, Policy: tr.policy, Plan: plan}
		childErr := runChild(context.Background(), cc)
		var err error
		if entries, err = readSideLedger(side); err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		tr.stats.kill(plan, entries[before:])
		if childErr != nil {
			tr.stats.problem(catChild, tr.policy)
			t.Errorf("%s: %v", where, childErr)
			return
		}
		c := &check{db: db, policy: tr.policy, h: digest(entries), latest: entries[before:], stats: tr.stats}
		tr.stats.ackedByTrial[tr.index] = len(c.h.acked)
		ok := c.run(context.Background())
		for _, p := range c.problems {
			if reported[p.cat+"/"+p.key] {
				continue // the file still has it; it was reported at the kill that made it
			}
			reported[p.cat+"/"+p.key] = true
			tr.stats.problem(p.cat, tr.policy)
			t.Errorf("%s: %s: %s", where, p.cat, p.msg)
		}
		if !ok {
			t.Errorf("%s: the file cannot be checked further; the trial ends here", where)
			return
		}
	}
}

// runChild runs one child to its death and returns nil if it died by
// SIGKILL as planned, or an error saying what it did instead, with the
// end of its output.
func runChild(ctx context.Context, cc childConfig) error {
	raw, err := json.Marshal(cc)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envChild+"="+string(raw))
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("child: %w", err)
	}
	var late atomic.Bool
	watchdog := time.AfterFunc(childWatchdog, func() {
		late.Store(true)
		cmd.Process.Kill()
	})
	defer watchdog.Stop()
	if cc.Plan.Mode == modeTime {
		// The kill's time is the random variable here, not a wait.
		kill := time.AfterFunc(cc.Plan.Delay, func() { cmd.Process.Signal(syscall.SIGKILL) })
		defer kill.Stop()
	}
	werr := cmd.Wait()
	watchdog.Stop()
	tail := out.tail(2000)
	if late.Load() {
		return fmt.Errorf("child neither died nor exited within %v: %s", childWatchdog, tail)
	}
	var ee *exec.ExitError
	if !errors.As(werr, &ee) {
		return fmt.Errorf("child exited cleanly, which it never should: %v %s", werr, tail)
	}
	ws, _ := ee.Sys().(syscall.WaitStatus)
	if !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		return fmt.Errorf("child did not die by SIGKILL (%v): %s", werr, tail)
	}
	return nil
}

// lockedBuffer collects a child's output.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 1<<20 {
		return len(p), nil
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.b.String()
	if len(s) > n {
		s = "..." + s[len(s)-n:]
	}
	if s == "" {
		return "(no output)"
	}
	return "\n" + s
}
