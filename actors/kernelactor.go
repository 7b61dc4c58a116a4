package actors

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/supervisor"
	"github.com/ocapgo/kernel-actors/telemetry"
)

// kernelActor is the one serializing kernel actor: it owns the kernel
// state machine and the store, runs exactly one crank per runCrank
// message, handles host requests between cranks, and supervises the vat
// actors, its children. Everything here runs on the actor's goroutine.
type kernelActor struct {
	h     *Kernel // the host-facing handle (config, services, interrupts)
	cfg   Config
	log   zerolog.Logger
	st    *persistence.Store
	k     *kernel.Kernel
	ctx   context.Context // the kernel's lifetime; cancelled at Stop
	stop  context.CancelFunc
	actx  actor.Context // the actor context of the message in hand
	vats  map[kernel.VatID]*vatHandle
	spawn int // spawn counter, for unique actor names
	// pumper carries every delivery to its vat actor, reusing its gate,
	// channel and deadline timer; made at the first delivery, with
	// pumpSend, which sends the Deliver message to pumpTo.
	pumper   *supervisor.Pumper
	pumpSend func(msg any)
	pumpTo   *actor.PID

	// waiters are host requests waiting for a promise to settle.
	waiters map[kernel.KRef][]waiter
	// cranking: a runCrank is queued or running. deferred: the last crank
	// met a restarting vat; cranking waits for the restart.
	cranking, deferred bool
	flushArmed         bool
	// interrupted: vats a crank terminated because the host asked to
	// terminate them mid-delivery; their terminate request then succeeds.
	interrupted map[kernel.VatID]bool
	broken      error // a kernel bug or a store failure: refuse all
	stats       struct{ runCrankMessages, cranks uint64 }
	restartSeq  int // numbers scheduled restarts (vatHandle.restartGen)
	// idleWaiters are WaitIdle requests, answered when the kernel has no
	// work, no restart pending and nothing waiting for a flush.
	idleWaiters []replier
	// durable are answers to host requests whose units are committed but,
	// under group commit, not yet in the file: they are sent once the
	// flush that covers them is done (invariant 3), so a crash can never
	// undo what the host was told was done.
	durable []durableReply
	// pager caps the live vat instances (paging.go).
	pager pager
	// storeDone: closeStore has run; closeErr is how it went.
	storeDone bool
	closeErr  error
	// tel is the telemetry (telemetry.go); nil without a MeterProvider,
	// and then the crank path only compares it with nil.
	tel *kernelTelemetry
	// crankLog writes each crank's debug line (the kernel leaves it to
	// us: kernel.Config.QuietCranks), with the crank's duration;
	// debugCranks says whether debug lines are written at all.
	crankLog    zerolog.Logger
	debugCranks bool
	// rem is the kernel's network side (remote.go); nil without
	// Config.Remote, and then the message loop only compares it with nil.
	rem *remoteNode
}

// vatHandle is the running incarnation of a vat.
type vatHandle struct {
	pid        *actor.PID // nil while restarting or paged out
	restarting bool
	restartGen int
	// Paging (paging.go). pageable: the config sets Pageable; pagedOut:
	// the incarnation has no instance now, its next delivery builds one;
	// blocked: found not quiescent since its last delivery; elem: its
	// place in pager.lru while live and pageable; counted: live and
	// counted in pager.fixed; unstarted: paged out since the resume
	// deferred its start, so its first page-in is its incarnation's
	// start (paging.go, resumePagedOut).
	pageable, pagedOut, blocked, counted, unstarted bool
	elem                                            *list.Element
	// js: the vat's code is JavaScript, run by a worker process.
	js bool
}

var _ kernel.Deliverer = (*kernelActor)(nil)
var _ actor.SupervisorStrategy = (*kernelActor)(nil)

// Receive is the kernel actor's loop: a type switch that calls the kernel
// and does I/O. A panic (a kernel bug) is caught here: the
// kernel stops taking work rather than letting protoactor restart it,
// which would stop every vat.
func (ka *kernelActor) Receive(ctx actor.Context) {
	ka.actx = ctx
	defer ka.guard()
	ka.maybeCut()
	if ka.tel != nil && ka.tel.tr != nil {
		ka.tel.tr.before(ka.st.QueueLen)
		// What the message queued: the length once it is handled (a
		// closure, so that it is read then, not now).
		defer func() { ka.tel.tr.after(ka.st.QueueLen()) }()
	}
	switch m := ctx.Message().(type) {
	case *actor.Started:
		if ka.rem != nil {
			ka.remoteStarted()
		}
	case *runCrank:
		ka.crank()
	case *flushTick:
		ka.flushTick()
	case *restartDue:
		ka.restartDue(m)
	case *vatCrashed:
		ka.vatCrashed(m)
	case *wrapperspb.BytesValue:
		// A peer kernel's frame (remote.go); only a kernel with a remote
		// is reachable by its peers.
		if ka.rem != nil {
			ka.remoteFrame(m)
		}
	case *remoteTick:
		ka.remoteTick()
	case *ackTick:
		ka.ackTick()
	case request:
		if ka.broken != nil || ka.stopping() {
			if _, isStop := m.(*stopReq); !isStop {
				m.answer() <- result{err: ka.stoppedErr()}
				return
			}
		}
		m.handle(ka)
	case *actor.Stopping:
		ka.remoteStopped()
		ka.shutdown()
	}
	ka.maybeStoreFailed()
	if ka.rem != nil {
		// Whatever the message committed or flushed may go on the wire
		// now, and only that (output validity: RemoteSendable).
		ka.remoteSend()
	}
}

// maybeStoreFailed stops the kernel if a flush failed while handling the
// message (a host request's own unit, not only a crank's): the store
// then refuses all work, so the kernel must stop too, and say so (Done),
// rather than answer each request with the store's error.
func (ka *kernelActor) maybeStoreFailed() {
	if err := ka.st.Err(); err != nil && ka.broken == nil {
		ka.log.Error().Err(err).Msg("the store failed; the kernel stops")
		ka.fail(err)
	}
}

func (ka *kernelActor) guard() {
	r := recover()
	if r == nil {
		return
	}
	err := fmt.Errorf("kernel failure: %v", r)
	ka.log.Error().Str("panic", fmt.Sprint(r)).Bytes("stack", debug.Stack()).Msg("kernel actor panicked; the kernel stops taking work")
	ka.fail(err)
}

// fail stops the kernel taking work: after a store failure or a kernel
// bug, memory may be ahead of the file; reopening resumes from the file.
func (ka *kernelActor) fail(err error) {
	if ka.broken == nil {
		ka.broken = err
	}
	ka.h.end(ka.stoppedErr()) // the host learns it (Kernel.Done) without asking
	if ka.st.InUnit() {
		ka.st.Abort()
	}
	// Requests still waiting are answered ErrStopped, and their
	// continuations do not run: nothing more happens to the state.
	for _, ws := range ka.waiters {
		for _, w := range ws {
			w.reply(nil, ka.stoppedErr())
		}
	}
	clear(ka.waiters)
	for _, w := range ka.idleWaiters {
		w.reply(nil, ka.stoppedErr())
	}
	ka.idleWaiters = nil
	for _, d := range ka.durable {
		d.r.reply(nil, ka.stoppedErr())
	}
	ka.durable = nil
}

// kick makes sure a runCrank is on its way if there is work.
func (ka *kernelActor) kick() {
	// Between units: a vat over the cap that has become quiescent goes
	// now; once out of work, the page-outs made between units are logged
	// (paging.go).
	if ka.pager.max > 0 && ka.pager.live() > ka.pager.max && ka.broken == nil && !ka.stopping() && !ka.st.InUnit() {
		ka.makeRoom("", 0)
	}
	if !ka.k.HasWork() && !ka.stopping() {
		ka.flushPaging()
	}
	if ka.cranking || ka.deferred || ka.broken != nil || !ka.k.HasWork() {
		if ka.tel != nil && !ka.cranking {
			// Out of work (or unable to go on): the gauges show where it
			// stopped, not where it was publishEvery cranks ago.
			ka.tel.probe.Settle()
			ka.publishGauges()
		}
		ka.armFlush()
		ka.maybeIdle()
		return
	}
	ka.cranking = true
	ka.actx.Send(ka.actx.Self(), &runCrank{})
}

// crank runs exactly one crank and asks for the next while work remains.
func (ka *kernelActor) crank() {
	ka.stats.runCrankMessages++
	ka.cranking = false
	if ka.broken != nil || ka.deferred || ka.stopping() {
		return
	}
	var began time.Time
	timed := ka.cfg.OnCrank != nil || ka.cfg.OnCrankDone != nil || ka.tel != nil || ka.debugCranks
	if timed {
		began = ka.cfg.Clock.Now()
		if ka.tel != nil {
			ka.beginCrankTelemetry()
		}
	}
	r, err := ka.k.Crank(ka.ctx, ka)
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			ka.log.Error().Err(err).Msg("crank failed; the kernel stops")
			ka.fail(err)
		}
		return
	}
	switch r.Outcome {
	case kernel.Idle:
		ka.armFlush()
		ka.maybeIdle()
		return
	case kernel.Deferred:
		ka.deferred = true
		return
	}
	ka.stats.cranks++
	if ka.auditing() && !ka.auditCrank() {
		return
	}
	ka.release(r.Released)
	for _, v := range r.Terminated {
		ka.stopVat(v)
	}
	if r.Restart != "" {
		ka.scheduleRestart(r.Restart, r.RestartAfter, r.Failure)
	}
	if timed {
		// Before kick, so that the figure is this crank's alone.
		took := since(ka.cfg.Clock, began)
		if ka.debugCranks {
			// Stringer, not Dur: "1.2ms", where Dur logs a bare number
			// whose unit the reader must guess.
			r.LogFields(ka.crankLog.Debug()).Stringer("took", took).Msg("crank")
		}
		if ka.cfg.OnCrank != nil {
			ka.cfg.OnCrank(took)
		}
		if ka.cfg.OnCrankDone != nil {
			ka.cfg.OnCrankDone(summarize(r, took))
		}
		if ka.tel != nil {
			ka.observeCrank(r, crankTiming{began: began, total: took})
		}
	}
	ka.kick()
}

// stoppedErr is the answer to requests once the kernel has stopped or
// broken: ErrStopped, with the reason unless that is ErrStopped itself.
// Both are wrapped, so a host can tell a store failure
// (errors.Is(err, persistence.ErrFailed)) from a kernel bug.
func (ka *kernelActor) stoppedErr() error {
	if ka.broken == nil || errors.Is(ka.broken, ErrStopped) {
		return ErrStopped
	}
	return fmt.Errorf("%w: %w", ErrStopped, ka.broken)
}

// waiter is a host request waiting for a promise to settle: settled runs
// when it does; if the kernel stops first, the request is answered
// ErrStopped instead.
type waiter struct {
	replier
	settled func(kernel.Output)
}

// release hands settled promises to the host requests waiting for them,
// and stops the actors of the vats the kernel terminated meanwhile (a
// crank, a host request, or the cascade of a failed launch). Once
// everything committed is in the file, it also sends the answers that
// waited for that.
func (ka *kernelActor) release(out []kernel.Output) {
	for _, v := range ka.k.TakeStopped() {
		if _, ok := ka.vats[v]; ok && ka.tel != nil {
			ka.tel.m.Termination(ka.tel.releaseReason())
		}
		ka.stopVat(v)
	}
	for _, o := range out {
		ws := ka.waiters[o.KPID]
		delete(ka.waiters, o.KPID)
		for _, w := range ws {
			w.settled(o)
		}
	}
	if len(ka.durable) > 0 && ka.st.Unflushed() == 0 {
		ready := ka.durable
		ka.durable = nil
		for _, d := range ready {
			d.r.reply(d.v, d.err)
		}
	}
}

// durableReply is an answer waiting for the flush of what it reports.
type durableReply struct {
	r   replier
	v   any
	err error
}

// replyDurable answers a host request that changed the kernel's state
// once that change is in the file: at once with commit per crank, after
// the group's flush with group commit (invariant 3: an answer is an
// output; before this, a kill between a group's commit and its flush undid
// a TerminateVat or UpgradeVat the host had been told was done). The
// flush is armed by the kick that ends every handler.
func (ka *kernelActor) replyDurable(r replier, v any, err error) {
	if ka.st.Unflushed() == 0 {
		r.reply(v, err)
		return
	}
	ka.durable = append(ka.durable, durableReply{r, v, err})
}

// wait runs settled when kpid settles (or fails early, Output.Aborted);
// r answers the request if the kernel stops first.
func (ka *kernelActor) wait(kpid kernel.KRef, r replier, settled func(kernel.Output)) {
	ka.waiters[kpid] = append(ka.waiters[kpid], waiter{r, settled})
}

// armFlush makes sure committed cranks held by group commit reach the
// file as soon as the kernel has nothing to do. The flush is a message to
// self, so host requests already in the mailbox come first and their
// cranks join the group; while the kernel stays busy, the store's own
// limits (GroupCranks, GroupInterval) end each group. Waiting out the
// interval when idle would only add latency: nothing else could join.
func (ka *kernelActor) armFlush() {
	if ka.flushArmed || ka.cranking || ka.st.Unflushed() == 0 || ka.broken != nil {
		return
	}
	ka.flushArmed = true
	ka.actx.Send(ka.actx.Self(), &flushTick{})
}

func (ka *kernelActor) flushTick() {
	ka.flushArmed = false
	if ka.broken != nil || ka.stopping() || ka.st.Unflushed() == 0 || ka.cranking {
		return // a crank under way arms it again when the work runs out
	}
	out, err := ka.k.Flush(ka.ctx)
	if err != nil {
		ka.fail(err)
		return
	}
	ka.release(out)
	ka.maybeIdle()
}

// maybeIdle answers the WaitIdle requests if the kernel is idle: no work,
// no crank under way, no vat restart pending, everything in the file.
func (ka *kernelActor) maybeIdle() {
	if len(ka.idleWaiters) == 0 || ka.cranking || ka.deferred || ka.broken != nil ||
		ka.k.HasWork() || ka.st.Unflushed() > 0 {
		return
	}
	for _, w := range ka.idleWaiters {
		w.reply(nil, nil)
	}
	ka.idleWaiters = nil
}

// ---- vats: spawning, stopping, delivering ----

// Deliver implements kernel.Deliverer: a startVat spawns the actor of a
// new incarnation; every delivery is pumped to the vat actor
// (supervisor.Pump), so the vat never waits on the kernel's mailbox.
func (ka *kernelActor) Deliver(ctx context.Context, id kernel.VatID, d kernel.Delivery, sys kernel.Syscaller) error {
	if d.Kind == kernel.DeliverStartVat {
		return ka.deliverStart(ctx, id, d, sys)
	}
	h := ka.vats[id]
	switch {
	case h == nil:
		return fmt.Errorf("actors: vat %s has no actor: %w", id, kernel.ErrNoEndpoint)
	case h.restarting:
		return kernel.ErrVatUnavailable
	}
	var err error
	if h.pagedOut {
		err = ka.pageIn(id, h, sys)
	}
	ka.touch(h)
	// A crank's delivery may be cut short by a Stop whose context has
	// ended (stop.go). The kernel is always called with ka.ctx, and
	// cutCtx is its child. A startVat is not cut: it belongs to a host
	// request (launch, restart, upgrade, resume) whose unit would read a
	// start cut short as a vat that cannot start, and its delivery
	// deadline bounds it.
	if err == nil {
		err = ka.pumpObserved(ka.h.cutCtx, h.pid, id, d, sys, h.js)
	}
	if errors.Is(err, context.Canceled) && ka.h.cutCtx.Err() != nil {
		// Cut short (the pump returns the context's error, and only
		// then): cancel the kernel's context before the kernel sees the
		// error, so that it takes the crank for one the kernel's stop
		// interrupted and rolls it back, rather than blame the vat. A vat
		// that failed as the cut came keeps its fault, handled under a
		// live context (its unit must commit); the cut takes effect at
		// the next message.
		ka.maybeCut()
	}
	return err
}

// pumpObserved is pump, timed and with its syscalls counted when there
// is telemetry.
// js says the vat runs in a JavaScript worker process: a traced delivery
// to it is a child span of its crank's (tracing.go).
func (ka *kernelActor) pumpObserved(ctx context.Context, pid *actor.PID, id kernel.VatID, d kernel.Delivery, sys kernel.Syscaller, js bool) error {
	if ka.tel == nil {
		return ka.pump(ctx, pid, id, d, sys)
	}
	ka.tel.sys.Reset(sys)
	began := ka.cfg.Clock.Now()
	err := ka.pump(ctx, pid, id, d, &ka.tel.sys)
	took := since(ka.cfg.Clock, began)
	end := began.Add(took)
	ka.observeDelivery(id, d.Kind, took)
	if js && ka.tel.tr != nil {
		ka.tel.tr.deliveries = append(ka.tel.tr.deliveries, workerDelivery{kind: d.Kind, began: began, end: end, failed: err != nil})
	}
	ka.tel.sys.Reset(nil)
	return err
}

func (ka *kernelActor) pump(ctx context.Context, pid *actor.PID, id kernel.VatID, d kernel.Delivery, sys kernel.Syscaller) error {
	if ka.pumper == nil {
		ka.pumper = supervisor.NewPumper()
		ka.pumpSend = func(m any) { ka.actx.Send(ka.pumpTo, m) }
	}
	ka.pumpTo = pid
	err := ka.pumper.Pump(ctx, ka.pumpSend, d, sys, supervisor.PumpOptions{
		Deadline: ka.cfg.DeliveryDeadline, After: ka.cfg.Clock.After, Now: ka.cfg.Clock.Now,
		Interrupts: ka.h.interrupts, Vat: id,
	})
	ka.pumpTo = nil
	if errors.Is(err, supervisor.ErrInterrupted) {
		// Known here, where the error is still the pump's: the kernel
		// turns a failure into scrubbed text a vat could imitate.
		ka.interrupted[id] = true
	}
	return err
}

// deliverStart spawns the actor of incarnation d.Incarnation and starts
// it. On success it replaces the running incarnation (whose actor is
// stopped); on failure the new actor is stopped and the old one stays.
func (ka *kernelActor) deliverStart(ctx context.Context, id kernel.VatID, d kernel.Delivery, sys kernel.Syscaller) error {
	info, err := ka.k.Vat(id)
	if err != nil {
		return err
	}
	// Room for the new instance under the cap (paging.go), unless it
	// replaces a live one.
	old := ka.vats[id]
	if old == nil || old.pid == nil {
		ka.makeRoom(id, 1)
	}
	pid, err := ka.spawnVat(id, info.Config, d.Incarnation)
	if err != nil {
		return err
	}
	watch := &startWatch{sys: sys}
	js := info.Config.BundleSpec != ""
	if err := ka.pumpObserved(ctx, pid, id, d, watch, js); err != nil {
		ka.actx.Stop(pid)
		return err
	}
	if old != nil {
		if old.pid != nil {
			ka.actx.Stop(old.pid) // INVARIANT: a direct stop, never a wait
		}
		ka.leaveLive(old)
	}
	h := &vatHandle{pid: pid, pageable: ka.pageable(id, info.Config, watch), js: js}
	ka.vats[id] = h
	ka.becomeLive(id, h)
	return nil
}

// spawnVat spawns the actor of one instance of vat id's incarnation, on
// the code its config names; it is started by a startVat delivery (a
// start, or a page-in).
func (ka *kernelActor) spawnVat(id kernel.VatID, cfg kernel.VatConfig, incarnation int64) (*actor.PID, error) {
	log := ka.log.With().Str("vat", string(id)).Int64("incarnation", incarnation).Logger()
	build, raw, err := ka.vatCode(cfg, id, log)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", kernel.ErrVatFault, err)
	}
	ka.spawn++
	props := supervisor.Props(supervisor.VatSpec{
		Build: build, Raw: raw, Parameters: cfg.Parameters, Incarnation: incarnation,
		Logger: log, Vat: string(id),
	})
	pid, err := ka.actx.SpawnNamed(props, fmt.Sprintf("%s.%d.%d", id, incarnation, ka.spawn))
	if err != nil {
		return nil, fmt.Errorf("actors: spawn vat %s: %w", id, err)
	}
	return pid, nil
}

// stopVat stops a terminated vat's actor.
func (ka *kernelActor) stopVat(id kernel.VatID) {
	if h := ka.vats[id]; h != nil {
		if h.pid != nil {
			// Terminating a vat is a direct supervisor stop (invariant 16); it
			// takes effect when the actor's current message returns.
			ka.actx.Stop(h.pid)
		}
		ka.leaveLive(h)
		delete(ka.vats, id)
	}
}

// scheduleRestart carries out the kernel's decision to restart a vat that
// failed: the failed incarnation's actor stops now, and RestartVat runs
// once the backoff has passed (deliveries to the vat meanwhile are
// deferred). The decision itself, restart or give up, is the kernel's.
func (ka *kernelActor) scheduleRestart(id kernel.VatID, delay time.Duration, why error) {
	h := ka.vats[id]
	if h == nil {
		return
	}
	if h.pid != nil {
		ka.actx.Stop(h.pid) // the failed incarnation is done for
		h.pid = nil
	}
	ka.leaveLive(h)
	h.pagedOut = false
	// Stringer, not Dur: "100ms", where Dur logs a bare 100 whose unit the
	// reader must guess.
	ka.log.Info().Str("vat", string(id)).Stringer("backoff", delay).AnErr("failure", why).Msg("vat failed; restarting it after a backoff")
	h.restarting = true
	// Numbered across all vats and incarnations: a tick for a handle a
	// host restart replaced can never match the new handle's number.
	ka.restartSeq++
	h.restartGen = ka.restartSeq
	gen := h.restartGen
	self, sys := ka.actx.Self(), ka.actx.ActorSystem()
	ka.cfg.Clock.AfterFunc(delay, func() { sys.Root.Send(self, &restartDue{vat: id, gen: gen}) })
}

func (ka *kernelActor) restartDue(m *restartDue) {
	h := ka.vats[m.vat]
	if h == nil || !h.restarting || h.restartGen != m.gen || ka.broken != nil || ka.stopping() {
		return
	}
	h.restarting = false
	out, err := ka.k.RestartVat(ka.ctx, m.vat, ka, "restart policy")
	if err != nil {
		ka.log.Warn().Str("vat", string(m.vat)).Err(err).Msg("restart failed; vat terminated")
		if info, verr := ka.k.Vat(m.vat); verr == nil && !info.Active {
			ka.countTermination(m.vat, telemetry.ReasonFailure)
			ka.stopVat(m.vat)
		}
	}
	ka.release(out)
	ka.deferred = false
	ka.kick()
}

// HandleFailure is supervision's backstop: a vat actor failed outside its
// own recovery. The actor is stopped, never restarted by protoactor (its
// state may be corrupt); the kernel decides, between cranks, what follows.
func (ka *kernelActor) HandleFailure(sys *actor.ActorSystem, sup actor.Supervisor, child *actor.PID, rs *actor.RestartStatistics, reason, message any) {
	sup.StopChildren(child)
	if ka.actx != nil {
		sys.Root.Send(ka.actx.Self(), &vatCrashed{pid: child, reason: reason})
	}
}

func (ka *kernelActor) vatCrashed(m *vatCrashed) {
	if ka.stopping() {
		return // the next incarnation, at the reopen, is a fresh heap anyway
	}
	for id, h := range ka.vats {
		if h.pid == nil || !h.pid.Equal(m.pid) {
			continue
		}
		why := fmt.Errorf("vat actor crashed: %v", m.reason)
		ka.log.Error().Str("vat", string(id)).Err(why).Msg("vat actor crashed outside a delivery")
		after, out, err := ka.k.VatFailed(ka.ctx, id, why.Error())
		if err != nil && !errors.Is(err, kernel.ErrVatNotActive) {
			ka.fail(err)
			return
		}
		if ka.tel != nil {
			ka.tel.stopReason = telemetry.ReasonCrash
		}
		ka.release(out)
		if ka.tel != nil {
			ka.tel.stopReason = ""
		}
		if info, verr := ka.k.Vat(id); verr == nil && info.Active {
			ka.countRestart(telemetry.ReasonCrash)
			ka.scheduleRestart(id, after, why)
		}
		ka.kick()
		return
	}
}

// shutdown closes the store, if the stop request has not (something else
// stopped the kernel actor: its parent, a host that stopped its PID),
// and lets go of the vats (the kernel actor is stopping).
func (ka *kernelActor) shutdown() {
	defer func() { _ = recover() }()
	ka.closeStore()
	ka.stop()
	// protoactor stops a stopping actor's children itself; a Stop of ours
	// as well would reach some of them dead, as a dead letter.
	clear(ka.vats)
	ka.pager.lru.Init()
	ka.pager.fixed = 0
}
