package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/demos"
	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/marshal"
)

// Demo is the supervised demo, for this command and `kernel-actors demo
// supervised`. It is not Fresh: on the database of an earlier run
// it resumes the durable counter, which counts on.
func Demo() demos.Demo {
	return demos.Demo{
		Name:     "supervised",
		Summary:  "a vat that panics is rolled back and restarted, one that keeps failing is terminated, a durable counter survives kill -9",
		Register: register,
		Run:      Run,
	}
}

// restartLimits are the workers' restart limits. The backoffs are short so the
// demo runs in a blink; Within is long so that every failure of the demo
// counts against the same window, whatever the machine's speed.
func restartLimits() kernel.RestartLimits {
	return kernel.RestartLimits{
		MaxRestarts: 2,
		Within:      kernel.Duration(time.Minute),
		Backoff:     kernel.Duration(20 * time.Millisecond),
		MaxBackoff:  kernel.Duration(80 * time.Millisecond),
	}
}

// story is one run of the demo: the kernel and where the narrative goes.
type story struct {
	ctx  context.Context
	k    *actors.Kernel
	n    demos.Narrator
	opts demos.Options
}

// Run is Demo's Run.
func Run(ctx context.Context, opts demos.Options) error {
	return demos.WithKernel(ctx, Demo(), opts, func(k *actors.Kernel) error {
		s := &story{ctx: ctx, k: k, n: opts.Narrator(), opts: opts}
		return s.tell()
	})
}

// tell tells the story: the worker, the vat that keeps failing, the
// counter.
func (s *story) tell() error {
	res, err := s.launchWorkers()
	if err != nil {
		return err
	}
	if err := s.restart(res); err != nil {
		return err
	}
	if err := s.intensity(res); err != nil {
		return err
	}
	// The workers are done with; terminating their subcluster keeps a
	// database reused by the next run from resuming them (their log
	// stays).
	if err := s.k.TerminateSubcluster(s.ctx, res.SubclusterID); err != nil {
		return err
	}
	return s.counter()
}

func (s *story) launchWorkers() (kernel.LaunchResult, error) {
	s.n.Section("A supervised worker")
	limits := restartLimits()
	cfg := kernel.VatConfig{Bundle: workerBundle, FailurePolicy: kernel.PolicyRestart, Restart: limits}
	res, err := s.k.LaunchSubcluster(s.ctx, kernel.ClusterConfig{Bootstrap: "worker", Vats: map[string]kernel.VatConfig{
		"worker": cfg, "doomed": cfg,
	}})
	if err != nil {
		return res, err
	}
	s.n.Say("Two vats of bundle %q, %s (worker) and %s (doomed), under the restart policy:",
		workerBundle, res.VatIDs["worker"], res.VatIDs["doomed"])
	s.n.Say("after a failure, a restart after %v, doubling up to %v; more than %d restarts within %v, and the vat is terminated.",
		time.Duration(limits.Backoff), time.Duration(limits.MaxBackoff), limits.MaxRestarts, time.Duration(limits.Within))
	return res, nil
}

// restart: the worker panics, the caller hears, the crank is rolled back,
// the vat comes back after the backoff and goes on serving.
func (s *story) restart(res kernel.LaunchResult) error {
	worker, id := res.Roots["worker"], res.VatIDs["worker"]
	for _, in := range []int64{3, 4} {
		v, err := s.k.QueueMessage(s.ctx, worker, "work", in)
		if err != nil {
			return fmt.Errorf("supervised: work(%d): %w", in, err)
		}
		s.n.Say("work(%d) = %v", in, v)
	}
	before, err := s.tally(worker)
	if err != nil {
		return err
	}
	s.n.Say("The worker's durable tally (in its baggage): %d jobs.", before)

	s.n.Say("work(-1): the worker counts the job in its baggage, then panics.")
	_, err = s.k.QueueMessage(s.ctx, worker, "work", -1)
	if !errors.Is(err, kernel.ErrInternalError) {
		return fmt.Errorf("supervised: work(-1) should have failed the vat, got %v", err)
	}
	s.n.Say("  The caller gets an error at once: %v", err)

	// The next message waits in the run queue while the vat is down:
	// the kernel defers cranks for a restarting vat until its restart.
	v, err := s.k.QueueMessage(s.ctx, worker, "work", 5)
	if err != nil {
		return fmt.Errorf("supervised: work(5) after the restart: %w", err)
	}
	s.n.Say("work(5) = %v: the restarted worker serves it (a message sent during the backoff waits for the restart).", v)
	after, err := s.tally(worker)
	if err != nil {
		return err
	}
	if after != before+1 {
		return fmt.Errorf("supervised: tally %d after one more good job, want %d: the failed crank was not rolled back", after, before+1)
	}
	s.n.Say("The tally is %d, not %d: the failed crank was rolled back, and the count it wrote with it.", after, after+1)

	inc, err := s.k.PingVat(s.ctx, id)
	if err != nil {
		return err
	}
	s.n.Say("PingVat(%s): incarnation %d (the vat started as incarnation 0).", id, inc)
	return s.log(id)
}

// intensity: a vat that fails on every message is restarted twice, then
// terminated; the other vat is untouched.
func (s *story) intensity(res kernel.LaunchResult) error {
	s.n.Section("A vat that keeps failing")
	doomed, id, limits := res.Roots["doomed"], res.VatIDs["doomed"], restartLimits()
	s.n.Say("%s gets poison, again and again:", id)
	gone := false
	for i := 1; i <= limits.MaxRestarts+2 && !gone; i++ {
		_, err := s.k.QueueMessage(s.ctx, doomed, "work", "poison")
		switch {
		case errors.Is(err, kernel.ErrInternalError):
			s.n.Say("  poison #%d: the vat failed: %v", i, err)
		case errors.Is(err, kernel.ErrObjectDeleted):
			s.n.Say("  poison #%d is refused, the vat being gone with its objects: %v", i, err)
			gone = true
		default:
			return fmt.Errorf("supervised: poison #%d: want a vat failure or OBJECT_DELETED, got %v", i, err)
		}
	}
	if !gone {
		return fmt.Errorf("supervised: %s was still restarted after %d failures", id, limits.MaxRestarts+2)
	}
	if err := s.log(id); err != nil {
		return err
	}
	v, err := s.k.QueueMessage(s.ctx, res.Roots["worker"], "work", 6)
	if err != nil {
		return fmt.Errorf("supervised: the worker after its neighbour's end: %w", err)
	}
	s.n.Say("Meanwhile the worker %s serves on: work(6) = %v.", res.VatIDs["worker"], v)
	return nil
}

// log narrates a vat's lifecycle log: the supervisor's decisions.
func (s *story) log(id kernel.VatID) error {
	events, err := s.k.VatLog(s.ctx, id)
	if err != nil {
		return err
	}
	s.n.Say("VatLog(%s), the supervisor's decisions as the store recorded them:", id)
	for _, e := range events {
		s.n.Say("  incarnation %d, crank %d: %s: %s", e.Incarnation, e.AtCrank, e.Event, e.Reason)
	}
	return nil
}

func (s *story) tally(worker kernel.KRef) (int64, error) {
	v, err := s.k.QueueMessage(s.ctx, worker, "tally")
	if err != nil {
		return 0, err
	}
	return marshal.Int(v)
}

// counter: the durable counter, found in the database or launched.
func (s *story) counter() error {
	s.n.Section("A durable counter")
	root, found, err := findOrLaunchCounter(s.ctx, s.k)
	if err != nil {
		return err
	}
	switch {
	case found:
		v, err := s.k.QueueMessage(s.ctx, root, "get")
		if err != nil {
			return err
		}
		s.n.Say("Found the counter of an earlier run in %s: its count is %v.", s.opts.DBPath, v)
	case s.opts.DBPath == "":
		s.n.Say("Launched a counter, in memory: with a database file its count outlives the process.")
	default:
		s.n.Say("Launched a new counter in %s.", s.opts.DBPath)
	}
	var last any
	for range 3 {
		v, err := s.k.QueueMessage(s.ctx, root, "incr")
		if err != nil {
			return err
		}
		s.n.Say("incr -> %v", v)
		last = v
	}
	if s.opts.DBPath != "" {
		s.n.Say("Each increment is acknowledged only once its crank is in the file: run again on %s", s.opts.DBPath)
		s.n.Say("(even after kill -9) and the count goes on from %v.", last)
	}
	return nil
}

// findOrLaunchCounter finds the active counter vat of an earlier run in
// the kernel's database (Start resumed it), or launches one.
func findOrLaunchCounter(ctx context.Context, k *actors.Kernel) (root kernel.KRef, found bool, err error) {
	st, err := k.Status(ctx)
	if err != nil {
		return "", false, err
	}
	for _, v := range st.Vats {
		if v.Active && v.Config.Bundle == counterBundle {
			return v.Root, true, nil
		}
	}
	res, err := k.LaunchSubcluster(ctx, kernel.ClusterConfig{Bootstrap: "counter", Vats: map[string]kernel.VatConfig{
		"counter": {Bundle: counterBundle},
	}})
	if err != nil {
		return "", false, err
	}
	return res.RootKref, false, nil
}

// Count increments the durable counter in opts.DBPath (launching it if the
// database holds none) n times, or, with n <= 0, until ctx ends, and
// narrates "count N" for every increment once the kernel has acknowledged
// it, that is, once it is in the file. It is what the command's
// --count-forever runs, and what its test kills with SIGKILL: every value
// printed must be found again by the next run.
func Count(ctx context.Context, opts demos.Options, n int) error {
	return demos.WithKernel(ctx, Demo(), opts, func(k *actors.Kernel) error {
		return count(ctx, k, opts.Narrator(), n)
	})
}

// count is Count on a started kernel k, narrating to out.
func count(ctx context.Context, k *actors.Kernel, out demos.Narrator, n int) error {
	root, _, err := findOrLaunchCounter(ctx, k)
	if err != nil {
		return err
	}
	v, err := k.QueueMessage(ctx, root, "get")
	if err != nil {
		return err
	}
	out.Say("counter at %v", v)
	for i := 0; n <= 0 || i < n; i++ {
		v, err := k.QueueMessage(ctx, root, "incr")
		if err != nil {
			if ctx.Err() != nil {
				return nil // asked to stop: the counter is where the last ack says
			}
			return err
		}
		out.Say("count %v", v)
	}
	return nil
}
