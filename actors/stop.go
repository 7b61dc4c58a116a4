package actors

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ocapgo/kernel-actors/kernel"
)

// How a kernel stops. Three things must happen, in order: the kernel
// actor flushes what is committed and closes the store (on its own
// goroutine, the only one that may touch the store), the actors stop, and
// the actor system Start made shuts down. They happen once, in a goroutine
// of their own that the first Stop starts, whatever becomes of the
// caller's context; every Stop waits for that one stop and returns its
// outcome, so a second Stop cannot answer nil for a stop that failed, or
// that has not finished.
//
// A caller's context bounds its wait, not the stop. When it ends, Stop
// cuts short the crank delivery in hand (a delivery can last a delivery
// deadline, or for ever with none), which rolls back as at a crash:
// nothing is lost, and the message runs when the store is reopened. Then
// it waits Config.StopTimeout more, so that the host's deferred
// k.Stop(ctx), called with a context a signal has ended, still closes the
// file and lets go of its lock before the process exits or opens it
// again.

// ErrStopTimeout is wrapped by Stop's error when the stop did not finish
// in time: Config.StopTimeout after Stop's context ended (the error says
// whether the store was closed by then), or because the kernel's actors
// did not stop within 10 s of the store's closing (a Go vat that spins or
// blocks in a delivery cannot be stopped: its goroutine lives on).
var ErrStopTimeout = errors.New("actors: the stop did not finish in time")

// DefaultStopTimeout is Config.StopTimeout when none is set.
const DefaultStopTimeout = 10 * time.Second

// actorStopWait is how long the stop waits for the kernel actor and its
// vat actors to stop, once the store is closed: protoactor's StopFuture
// gives up after this long.
const actorStopWait = 10 * time.Second

// Stop stops the kernel after the current crank: it commits what is
// committed, closes the store, stops the vats' actors and, if Start made
// the actor system, shuts it down. Later requests fail with ErrStopped.
//
// It returns nil once all that is done, or the error of a step that
// failed (the store's flush or close). If ctx ends first, Stop still
// closes the store: it cuts short the delivery in hand (its crank rolls
// back, and the message runs again when the store is reopened), and waits
// up to Config.StopTimeout more; past that it returns an error wrapping
// ErrStopTimeout and ctx.Err(), saying whether the store is closed yet.
// The stop happens once: a later Stop returns its outcome, waiting for it
// if it has not finished (bounded the same way by its own ctx).
func (k *Kernel) Stop(ctx context.Context) error {
	k.stopOnce.Do(func() { go k.stopKernel() })
	select {
	case <-k.stopped:
		return k.stopErr
	case <-ctx.Done():
	}
	k.cut()
	select {
	case <-k.stopped:
		return k.stopErr
	case <-k.cfg.Clock.After(k.cfg.StopTimeout):
	}
	select {
	case <-k.closed:
		return fmt.Errorf("%w: the store is closed, but the kernel's actors had not stopped %v after the context ended (%w)",
			ErrStopTimeout, k.cfg.StopTimeout, ctx.Err())
	default:
		return fmt.Errorf("%w: the store is not closed yet %v after the context ended: the kernel actor is still busy with the message in hand, and closes the store after it (%w)",
			ErrStopTimeout, k.cfg.StopTimeout, ctx.Err())
	}
}

// stopKernel is the stop itself, run once, on a goroutine of its own.
func (k *Kernel) stopKernel() {
	// Behind the messages already in the mailbox: the requests before it
	// are served, and the crank in hand ends (or is cut short) first.
	k.sys.Root.Send(k.pid, &stopReq{replier: newReplier()})
	// The kernel actor closes the store at the request, or, if something
	// else stopped it first, when it stopped (shutdown).
	<-k.closed
	close(k.done)
	k.end(ErrStopped)
	err := k.closeErr
	// The vat actors are the kernel actor's children: stopping it stops
	// them, and the future answers once all have stopped.
	if werr := k.sys.Root.StopFuture(k.pid).Wait(); werr != nil {
		err = errors.Join(err, fmt.Errorf("%w: the store is closed, but the kernel's actors did not stop within %v: a Go vat that spins or blocks in a delivery cannot be stopped, and its goroutine lives on (%v)",
			ErrStopTimeout, actorStopWait, werr))
	}
	k.rem.stopDispatcher() // the kernel actor's goroutine, once it has stopped
	// The remote (its listener, its streams) goes whatever happened
	// above, within the stop's budget.
	if k.rem != nil {
		rctx, cancel := context.WithTimeout(context.Background(), k.cfg.StopTimeout)
		if rerr := k.rem.release(rctx); rerr != nil {
			err = errors.Join(err, rerr)
		}
		cancel()
		remoteClaimed.Store(false) // another kernel of this process may have one now
	}
	if k.ownSystem {
		k.sys.Shutdown()
	}
	k.tel.close() // a MeterProvider that outlives the kernel stops reading it
	k.stopErr = err
	close(k.stopped)
}

// storeClosed records, once, that the kernel actor has closed the store
// and how that went.
func (k *Kernel) storeClosed(err error) {
	k.closeOnce.Do(func() {
		k.closeErr = err
		close(k.closed)
	})
}

// closeStore flushes what is committed, closes the store and stops the
// kernel taking work, once: at the stop request, or when the kernel actor
// stops for another reason (its parent stopped it), so that whatever ends
// the kernel actor, the store is closed, and closed by the goroutine that
// owns it. The flush and the close do not heed the kernel's context,
// which a stop may have cancelled: a flush cut short would fail the store
// and lose committed cranks that were never released (invariant 3 keeps
// that consistent, but nothing is gained by it).
func (ka *kernelActor) closeStore() error {
	if ka.storeDone {
		return ka.closeErr
	}
	ka.storeDone = true
	ctx := context.WithoutCancel(ka.ctx)
	var err error
	if ka.broken == nil {
		var out []kernel.Output
		out, err = ka.k.Flush(ctx)
		ka.release(out)
		if err == nil && ka.rem != nil {
			// The acks held for a message to ride on go now, covering
			// what the flush made durable: no message follows, and the
			// peer would otherwise keep its outbox until the next start.
			ka.rem.pump.SendAcks(ka.sendFrame)
		}
	}
	// The vat actors are the kernel actor's children: protoactor stops
	// them when the kernel actor stops. Stopping them here too would
	// reach some dead, as dead letters.
	clear(ka.vats)
	if cerr := ka.st.Close(ctx); err == nil {
		err = cerr
	}
	if ka.tel != nil {
		// The counts summed since the last publication reach the SDK
		// before the host shuts its MeterProvider down (after Stop).
		ka.tel.probe.Settle()
		ka.tel.m.Flush()
	}
	ka.fail(ErrStopped)
	ka.stop()
	ka.closeErr = err
	ka.h.storeClosed(err)
	return err
}

// stopping reports that the kernel is stopping: the stop request is on
// its way, or a Stop cut the kernel short. Nothing that writes to the
// store may start then but the stop itself: a unit committed under a
// cancelled context would fail its flush, and the store with it.
func (ka *kernelActor) stopping() bool { return ka.ctx.Err() != nil }

// maybeCut turns a Stop's cut into the kernel's own stopping, on the
// kernel actor's goroutine and between units, where no flush can be in
// progress: called before each message and when a crank delivery returns.
func (ka *kernelActor) maybeCut() {
	if ka.h.cutCtx.Err() != nil && ka.ctx.Err() == nil {
		ka.log.Info().Msg("the stop's context ended: the kernel stops without waiting for the delivery in hand")
		ka.stop()
	}
}
