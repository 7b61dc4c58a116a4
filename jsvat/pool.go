package jsvat

import (
	"context"

	"github.com/rs/zerolog"
)

// Warm workers: with Options.Warm > 0 the runtime keeps that many workers
// started (node up, SES locked down, liveslots loaded, waiting for
// initVat), so a launch or restart pays only for loading its bundle;
// with Options.WarmOnUse, that many from the first time a vat takes one. A
// warm worker has no vat yet: the vat's id comes with initVat. The vat that
// takes one starts its replacement in the background once its initVat is
// answered (jsVat.start), not when it takes it: a worker's boot (Node's
// start, SES, liveslots: some 200 ms of CPU) would otherwise compete with
// the initVat of the launch it is meant to speed up, and on a machine of
// two cores that made a launch from a warm worker slower than it needs to
// be.

// take returns a worker for vat: a warm one if there is one, else a new
// one. It starts no replacement: the caller calls fill once the worker's
// initVat is answered.
func (r *Runtime) take(vat string, log zerolog.Logger) (*process, error) {
	// Checked before any process starts, so a missing Node or worker is
	// refused with what to install, not found as a worker's death.
	if err := r.Check(context.Background()); err != nil {
		return nil, err
	}
	r.mu.Lock()
	if r.mu.closed {
		r.mu.Unlock()
		return nil, ErrClosed
	}
	r.mu.used = true
	var p *process
	for len(r.mu.warm) > 0 && p == nil {
		p = r.mu.warm[0]
		r.mu.warm = r.mu.warm[1:]
		select {
		// A warm worker is checked before a vat gets it: one killed or dead while
		// it waited would fail the vat's startVat for no fault of the vat's.
		case <-p.stop:
			p = nil // killed meanwhile
		case <-p.exited:
			// Died while waiting (the log has its stderr): not worth a
			// vat.
			// On its own goroutine: kill takes mu, which is held here, and waits up
			// to KillWait for the reap.
			go p.kill("warm worker died")
			p = nil
		default:
		}
	}
	r.mu.Unlock()
	if p != nil {
		// From here the worker's stderr goes to the vat's log.
		p.assign(log)
		return p, nil
	}
	p, err := r.spawn(vat, log)
	if err != nil {
		return nil, err
	}
	p.assign(log)
	return p, nil
}

// fill starts warm workers in the background until Options.Warm are
// ready or starting. A worker that cannot start (no node) is not retried
// here: the next launch starts its own and reports why.
func (r *Runtime) fill() {
	if r.opts.Warm == 0 && r.opts.WarmOnUse == 0 || r.Check(context.Background()) != nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.mu.closed {
		return
	}
	// Those still starting count, or every take would start one more than
	// needed.
	for len(r.mu.warm)+r.mu.filling < r.warmTarget() {
		r.mu.filling++
		r.fillers.Add(1)
		go r.addWarm()
	}
}

// Prewarm starts n workers at once, in the background, for vats about to
// launch (a subcluster's JavaScript vats): they boot side by side rather
// than one after another as each startVat comes. The next n takes get
// them, booted or still booting (an initVat waits in the pipe meanwhile).
// Trim ends those a launch did not use.
func (r *Runtime) Prewarm(n int) {
	if n <= 0 || r.Check(context.Background()) != nil {
		return // no node: the launch says so
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.mu.closed {
		return
	}
	for range n {
		r.mu.filling++
		r.fillers.Add(1)
		r.prewarming.Add(1)
		go func() {
			defer r.prewarming.Done()
			r.addWarm()
		}()
	}
}

// addWarm starts one worker for the warm list.
func (r *Runtime) addWarm() {
	defer r.fillers.Done()
	// A failed start is dropped: a launch that needs a worker starts its own
	// and reports the error itself.
	p, _ := r.spawn("", r.log)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.mu.filling--
	if p == nil {
		return
	}
	if r.mu.closed {
		// Close may have run while this worker started; no one would take it, so
		// it is killed here (on its own goroutine, as mu is held).
		go p.kill("runtime closed")
		return
	}
	r.mu.warm = append(r.mu.warm, p)
}

// warmTarget is how many warm workers to keep now: Options.Warm, or
// Options.WarmOnUse once a vat has taken a worker, whichever is larger.
// mu must be held.
func (r *Runtime) warmTarget() int {
	if r.mu.used && r.opts.WarmOnUse > r.opts.Warm {
		return r.opts.WarmOnUse
	}
	return r.opts.Warm
}

// Trim kills the warm workers beyond those to keep (warmTarget: those Prewarm started
// that no launch took). It first waits for Prewarm's workers to be
// started (a fork and exec each; by the end of a launch they are).
func (r *Runtime) Trim() {
	// Waited for first: a Prewarm worker still starting is not yet in the
	// warm list, and would be missed and kept.
	r.prewarming.Wait()
	r.mu.Lock()
	var extra []*process
	if over := len(r.mu.warm) - r.warmTarget(); over > 0 {
		extra = append(extra, r.mu.warm[len(r.mu.warm)-over:]...)
		r.mu.warm = r.mu.warm[:len(r.mu.warm)-over]
	}
	r.mu.Unlock()
	for _, p := range extra {
		// Killed outside mu, since kill takes it.
		p.kill("not needed")
	}
}
