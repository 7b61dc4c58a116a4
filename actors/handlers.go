package actors

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/supervisor"
	"github.com/ocapgo/kernel-actors/telemetry"
	"github.com/ocapgo/kernel-actors/vat"
)

// Host requests, each handled between cranks as units of the kernel state
// machine (invariant 11). A request answers at once when it can
// be answered at once, or registers a waiter on a kernel promise.

// lookupBundle finds vat code: the kernel's own services vat, or the
// registry's (liveslots or raw).
func (ka *kernelActor) lookupBundle(name string) (vat.BuildFunc, func() vat.RawVat, error) {
	if name == servicesBundle {
		return ka.servicesBuild(), nil, nil
	}
	return ka.cfg.Registry.LookupAny(name)
}

// resumeReq begins a new incarnation of every active vat of a reopened
// store (kernel.ResumeWith): the heaps of the process that went away are
// gone, and what only they knew is settled. Under a cap on live vats, a
// pageable vat comes back paged out (paging.go, resumePagedOut).
func (r *resumeReq) handle(ka *kernelActor) {
	opts := kernel.ResumeOptions{}
	if ka.pager.max > 0 {
		opts.Defer = ka.deferStart
	}
	res, out, err := ka.k.ResumeWith(ka.ctx, ka, opts)
	ka.resumePagedOut(res.Deferred)
	ka.release(out)
	if err != nil {
		r.reply(nil, fmt.Errorf("actors: resume: %w", err))
		return
	}
	ka.replyDurable(r.replier, nil, nil)
	ka.kick()
}

func (r *launchReq) handle(ka *kernelActor) {
	cfg := r.cfg
	if err := cfg.Validate(); err != nil {
		r.reply(nil, err)
		return
	}
	for _, name := range slices.Sorted(maps.Keys(cfg.Vats)) {
		if err := ka.checkCode(ka.ctx, cfg.Vats[name], "vats."+name); err != nil {
			r.reply(nil, err)
			return
		}
	}
	// The JavaScript vats' workers boot side by side, not one after
	// another as each startVat comes (jsvats.go).
	defer ka.prewarm(cfg)()
	// The kernel carries the launch: records, every start and the
	// bootstrap message in one unit, and the subcluster's termination if
	// bootstrap rejects. The runtime only waits for the answer.
	res, out, err := ka.k.Launch(ka.ctx, ka, cfg, kernel.LaunchOptions{})
	if err != nil {
		ka.stopStrays()
		r.reply(nil, err)
		return
	}
	ka.wait(res.BootstrapKPID, r.replier, func(o kernel.Output) {
		v, err := outcome(o)
		if err != nil {
			r.reply(nil, fmt.Errorf("actors: launch: bootstrap of vat %q failed, and the subcluster was terminated: %w", cfg.Bootstrap, err))
			return
		}
		res.BootstrapResult = v
		r.reply(res, nil)
	})
	ka.release(out)
	ka.kick()
}

// stopStrays stops the actors spawned for a launch that the kernel undid:
// their vat ids name no vat.
func (ka *kernelActor) stopStrays() {
	for id := range ka.vats {
		if _, err := ka.k.Vat(id); errors.Is(err, kernel.ErrUnknownVat) {
			ka.stopVat(id)
		}
	}
}

func (r *terminateSubclusterReq) handle(ka *kernelActor) {
	stopped, out, err := ka.k.TerminateSubcluster(ka.ctx, r.id, "terminated by the host")
	if err != nil {
		r.reply(nil, err)
		return
	}
	for _, v := range stopped {
		ka.countTermination(v, telemetry.ReasonHost)
		ka.stopVat(v)
	}
	ka.release(out)
	ka.replyDurable(r.replier, nil, nil)
	ka.kick()
}

func (r *queueMessageReq) handle(ka *kernelActor) {
	if ka.tel != nil && ka.tel.tr != nil {
		ka.tel.tr.cause = r.span // the message's item, if queued, carries the host's trace
	}
	data, err := methargs(r.method, r.args)
	if err != nil {
		r.reply(nil, err)
		return
	}
	var kpid kernel.KRef
	var out []kernel.Output
	if r.key == "" {
		kpid, out, err = ka.k.QueueMessage(ka.ctx, r.target, data)
	} else {
		var dup bool
		kpid, dup, out, err = ka.k.QueueMessageOnce(ka.ctx, r.key, r.target, data)
		if err == nil && dup {
			// A retry: the first send's result, now or when it settles.
			if o, settled := ka.k.SettledOutput(kpid); settled {
				ka.release(out)
				r.reply(outcome(o))
				return
			}
		}
	}
	if err != nil {
		r.reply(nil, err)
		return
	}
	ka.wait(kpid, r.replier, func(o kernel.Output) { r.reply(outcome(o)) })
	ka.release(out)
	ka.kick()
}

func (r *terminateVatReq) handle(ka *kernelActor) {
	reason := r.reason
	if reason == "" {
		reason = "terminated by the host"
	}
	out, err := ka.k.TerminateVat(ka.ctx, r.vat, reason)
	if errors.Is(err, kernel.ErrVatNotActive) && ka.interrupted[r.vat] {
		err = nil // the delivery it interrupted terminated it already
	}
	delete(ka.interrupted, r.vat)
	if err != nil {
		r.reply(nil, err)
		return
	}
	ka.countTermination(r.vat, telemetry.ReasonHost)
	ka.stopVat(r.vat)
	ka.release(out)
	ka.deferred = false
	ka.replyDurable(r.replier, nil, nil)
	ka.kick()
}

func (r *restartVatReq) handle(ka *kernelActor) {
	out, err := ka.k.RestartVat(ka.ctx, r.vat, ka, "restarted by the host")
	if info, verr := ka.k.Vat(r.vat); verr == nil && !info.Active {
		ka.countTermination(r.vat, telemetry.ReasonFailure) // its new incarnation failed to start
		ka.stopVat(r.vat)
	} else if err == nil {
		ka.countRestart(telemetry.ReasonHost)
	} // else deliverStart gave it a fresh handle (or the old one stays)
	ka.release(out)
	ka.deferred = false
	ka.replyDurable(r.replier, nil, err)
	ka.kick()
}

func (r *upgradeVatReq) handle(ka *kernelActor) {
	info, err := ka.k.Vat(r.vat)
	if err != nil {
		r.reply(nil, err)
		return
	}
	cfg, err := r.upgradeCode(info.Config)
	if err == nil {
		err = ka.checkCode(ka.ctx, cfg, "upgrade")
	}
	if err != nil {
		r.reply(nil, err)
		return
	}
	out, err := ka.k.UpgradeVat(ka.ctx, r.vat, ka, cfg)
	ka.release(out)
	if err != nil {
		err = fmt.Errorf("actors: upgrade of vat %s to %q failed; it keeps its old code: %w", r.vat, cfg.Code(), err)
	}
	ka.replyDurable(r.replier, nil, err)
	ka.kick()
}

func (r *pingVatReq) handle(ka *kernelActor) {
	h := ka.vats[r.vat]
	if h != nil && h.pagedOut {
		// Nothing to ask: its state is in the store, and its next
		// delivery builds its instance (paging.go).
		info, err := ka.k.Vat(r.vat)
		r.reply(info.Incarnation, err)
		return
	}
	if h == nil || h.pid == nil {
		if _, err := ka.k.Vat(r.vat); err != nil {
			r.reply(nil, err)
			return
		}
		r.reply(nil, fmt.Errorf("%w: vat %s (terminated, or waiting out a restart backoff)", ErrVatNotRunning, r.vat))
		return
	}
	pid, sys := h.pid, ka.actx.ActorSystem()
	go func() { // the answer comes from the vat's actor, not the kernel's
		v, err := sys.Root.RequestFuture(pid, &supervisor.Ping{}, 5*time.Second).Result()
		if err != nil {
			r.reply(nil, fmt.Errorf("actors: vat %s does not answer: %w", r.vat, err))
			return
		}
		pong := v.(*supervisor.Pong)
		if pong.Err != nil {
			r.reply(nil, fmt.Errorf("actors: vat %s does not answer: %w", r.vat, pong.Err))
			return
		}
		r.reply(pong.Incarnation, nil)
	}()
}

func (r *revokeReq) handle(ka *kernelActor) {
	out, err := ka.k.Revoke(ka.ctx, r.kref)
	ka.release(out)
	ka.replyDurable(r.replier, nil, err)
	ka.kick() // arms the flush for the committed unit
}

func (r *isRevokedReq) handle(ka *kernelActor) { r.reply(ka.k.IsRevoked(r.kref)) }

func (r *releaseReq) handle(ka *kernelActor) {
	out, err := ka.k.Unpin(ka.ctx, r.kref)
	ka.release(out)
	ka.replyDurable(r.replier, nil, err)
	ka.kick() // the drop the release may allow runs in a crank
}

func (r *reapReq) handle(ka *kernelActor) {
	out, err := ka.k.ScheduleReap(ka.ctx, r.vat)
	ka.release(out)
	ka.replyDurable(r.replier, nil, err)
	ka.kick()
}

func (r *waitIdleReq) handle(ka *kernelActor) {
	ka.idleWaiters = append(ka.idleWaiters, r.replier)
	ka.kick() // answers at once if already idle
}

func (r *readStoreReq) handle(ka *kernelActor) { r.reply(nil, r.fn(ka.st)) }

func (r *statusReq) handle(ka *kernelActor) {
	// One pass over the vats for both lists (kernel.Listing), and the
	// paged-out ones picked from it in its order.
	vats, subclusters := ka.k.Listing()
	var peer *Peer
	if ka.rem != nil {
		peer = &Peer{ID: string(ka.rem.id.ID()), Address: ka.rem.addr}
	}
	r.reply(Status{
		Peer:          peer,
		Vats:          vats,
		Subclusters:   subclusters,
		QueueLength:   ka.st.QueueLen(),
		Cranks:        ka.k.CrankCount(),
		CrankMessages: ka.stats.runCrankMessages,
		CranksRun:     ka.stats.cranks,
		CommitPolicy:  ka.st.Policy(),
		DBPath:        ka.st.Path(),
		LiveVats:      ka.pager.live(),
		PagedOut:      ka.pagedOutVats(vats),
		PagedOutCount: ka.pager.pagedOut,
		PagedInCount:  ka.pager.pagedIn,
	}, nil)
}

func (r *stopReq) handle(ka *kernelActor) {
	ka.flushPaging() // the page-outs waiting for a unit go in before the final flush
	r.reply(nil, ka.closeStore())
}

func (r *vatLogReq) handle(ka *kernelActor) { r.reply(ka.st.VatEvents(ka.ctx, string(r.vat))) }
