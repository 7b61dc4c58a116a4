package actors

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/supervisor"
	"github.com/ocapgo/kernel-actors/vatproto"
)

// Paging (docs/paging.md): Config.MaxLiveVats caps the vat instances (vat
// actors, with their heaps and worker processes) alive at once. When a
// vat is to become live (a start, or a page-in) and the cap is reached,
// the least recently delivered idle vats are paged out: their actor is
// stopped directly, which drops the heap and, for a JavaScript vat, kills
// its worker. A paged-out vat keeps its handle, marked pagedOut; its next
// delivery builds a fresh instance of the same incarnation from the
// vatstore (a startVat inside that delivery's crank) and then delivers.
// The kernel never learns of it: its state, c-lists and queue are the
// same whether a vat is live or paged out, so E-order, pipelining and GC
// are untouched, and a crank that pages in and fails rolls back as any.
//
// Only a vat whose config sets Pageable is ever paged out, and only when
// both the kernel (its c-list: kernel.CheckPageable) and its instance (its
// heap: supervisor.Quiesce) say nothing would be lost. Otherwise it stays
// live, over the cap if need be, and the log says why.
//
// Which vats are live is the runtime's alone and is not persisted. Under a
// cap, a resumed kernel starts only the vats that cannot be paged out; a
// pageable vat comes back paged out, its new incarnation begun by the
// kernel (what its lost heap answered for is settled at once) but its
// startVat deferred to its first delivery, which pages it in
// (resumePagedOut). So a resume of 100,000 pageable vats spawns none.
// Both events go to the vat log: in the unit of the crank or request that
// paged, or, for a page-out between units, in the next one
// (kernel.RecordPaging).

// pager is the kernel actor's paging state: the cap, the pageable vats
// that are live in the order of their last delivery, and the events to
// log. It is touched only on the kernel actor's goroutine.
type pager struct {
	// max is Config.MaxLiveVats: 0 means no cap (nothing is paged out).
	max int
	// lru holds the live vats whose config sets Pageable, most recently
	// delivered at the front; each element's value is a kernel.VatID, and
	// the vat's handle points at its element.
	lru list.List
	// fixed counts the live vats that can never be paged out (their
	// config does not opt in): they count against the cap all the same.
	fixed int
	// pagedOut and pagedIn count this process's page-outs and page-ins.
	pagedOut, pagedIn uint64
}

// live is how many vat instances are alive.
func (p *pager) live() int { return p.lru.Len() + p.fixed }

// becomeLive records that h (vat id) has a live actor now: it counts
// against the cap, and a pageable vat joins the LRU as the most recent.
func (ka *kernelActor) becomeLive(id kernel.VatID, h *vatHandle) {
	h.pagedOut = false
	h.blocked = false
	if h.pageable {
		h.elem = ka.pager.lru.PushFront(id)
	} else {
		ka.pager.fixed++
		h.counted = true
	}
}

// leaveLive records that h's actor is stopped (paged out, terminated,
// restarting, replaced).
func (ka *kernelActor) leaveLive(h *vatHandle) {
	if h.elem != nil {
		ka.pager.lru.Remove(h.elem)
		h.elem = nil
	}
	if h.counted {
		ka.pager.fixed--
		h.counted = false
	}
}

// touch marks a delivery to h: it becomes the most recently used, and a
// vat found not quiescent may be asked again.
func (ka *kernelActor) touch(h *vatHandle) {
	h.blocked = false
	if h.elem != nil {
		ka.pager.lru.MoveToFront(h.elem)
	}
}

// makeRoom pages out idle vats, least recently delivered first, until
// room more instances fit under the cap; keep is never paged out (the vat
// about to be delivered to). A vat that cannot be paged out is skipped,
// so the walk is bounded by the number of live pageable vats; if none can
// go the cap is exceeded, and the log says why for each.
func (ka *kernelActor) makeRoom(keep kernel.VatID, room int) {
	if ka.pager.max <= 0 {
		return
	}
	for e := ka.pager.lru.Back(); e != nil && ka.pager.live()+room > ka.pager.max; {
		prev := e.Prev() // e leaves the list if its vat is paged out
		if id := e.Value.(kernel.VatID); id != keep {
			ka.maybePageOut(id, ka.vats[id])
		}
		e = prev
	}
}

// maybePageOut pages vat id out if it can be, and reports whether it did.
// The kernel judges what it can see (the c-list), the vat's instance what
// only it can (its heap); both must agree. A vat found not quiescent is
// not asked again until its next delivery.
func (ka *kernelActor) maybePageOut(id kernel.VatID, h *vatHandle) bool {
	if h == nil || h.pid == nil || h.restarting || h.pagedOut || !h.pageable || h.blocked {
		return false
	}
	err := ka.k.CheckPageable(id)
	if err == nil {
		err = ka.quiesce(h.pid)
	}
	if err != nil {
		h.blocked = true
		// No kref or vref in the reason: counts only.
		ka.log.Info().Str("vat", string(id)).Err(err).Int("cap", ka.pager.max).Msg("vat kept live over the cap: paging it out would lose state")
		return false
	}
	// INVARIANT 16: a direct stop. The actor's Stopping stops the
	// instance: its parked goroutines exit (there are none: it is
	// quiescent) and a JavaScript vat's worker is killed and reaped.
	ka.actx.Stop(h.pid)
	ka.leaveLive(h)
	h.pid = nil
	h.pagedOut = true
	ka.pager.pagedOut++
	ka.recordPaging(kernel.PagingEvent{Vat: id, Event: kernel.EventPagedOut,
		Reason: fmt.Sprintf("idle; the kernel is at its cap of %d live vats", ka.pager.max)})
	ka.log.Debug().Str("vat", string(id)).Msg("vat paged out")
	return true
}

// quiesce asks the vat actor whether its instance may be paged out
// (supervisor.Quiesce), waiting at most the delivery deadline: the actor
// is idle between cranks, so it answers at once unless it is hung.
func (ka *kernelActor) quiesce(pid *actor.PID) error {
	done := make(chan error, 1)
	ka.actx.Send(pid, &supervisor.Quiesce{Done: done})
	var timeout <-chan time.Time
	if ka.cfg.DeliveryDeadline > 0 {
		timeout = ka.cfg.Clock.After(ka.cfg.DeliveryDeadline)
	}
	select {
	case err := <-done:
		return err
	case <-timeout:
		return fmt.Errorf("the vat did not answer whether it is quiescent within %v", ka.cfg.DeliveryDeadline)
	case <-ka.ctx.Done():
		return ka.ctx.Err()
	}
}

// pageIn builds a fresh instance of vat id's current incarnation from its
// vatstore, inside the crank of the delivery that needs it (sys is that
// delivery's): room is made first, so the cap holds during the crank too.
// For a vat the resume left unstarted, this is its incarnation's start.
// A page-in that fails is the vat's failure of that delivery: the crank
// rolls back and the vat's failure policy applies.
func (ka *kernelActor) pageIn(id kernel.VatID, h *vatHandle, sys kernel.Syscaller) error {
	ka.makeRoom(id, 1)
	d, err := ka.k.StartDelivery(id)
	if err != nil {
		return err
	}
	info, err := ka.k.Vat(id)
	if err != nil {
		return err
	}
	pid, err := ka.spawnVat(id, info.Config, d.Incarnation)
	if err != nil {
		return err
	}
	var startSys kernel.Syscaller = pageInSyscaller{sys}
	var watch *startWatch
	if h.unstarted {
		// The incarnation's own start, which the resume deferred: its
		// build may do what any start's may, and one that makes a
		// syscall other than the vatstore's is kept live from now on,
		// as after a start at resume (pageable).
		watch = &startWatch{sys: sys}
		startSys = watch
	}
	if err := ka.pump(ka.h.cutCtx, pid, id, d, startSys); err != nil {
		ka.actx.Stop(pid) // INVARIANT 16: the half-built instance goes
		return err
	}
	h.pid = pid
	if watch != nil {
		h.unstarted = false
		h.pageable = ka.pageable(id, info.Config, watch)
	}
	ka.becomeLive(id, h)
	ka.pager.pagedIn++
	// In the crank's unit: if the delivery fails, the record goes with
	// the crank, and the log has the vat's failure instead.
	ka.recordPaging(kernel.PagingEvent{Vat: id, Event: kernel.EventPagedIn,
		Reason: "a delivery to the paged-out vat"})
	ka.log.Debug().Str("vat", string(id)).Msg("vat paged in")
	return nil
}

// deferStart is the resume's kernel.ResumeOptions.Defer under a cap: a
// vat whose config sets Pageable comes back paged out, its start
// deferred to its first delivery. Its code is looked up now all the same,
// as a start would: a bundle missing from the registry stops the resume,
// naming the vat, rather than fail the vat at its first delivery (where
// its failure policy could terminate it, and its state with it).
func (ka *kernelActor) deferStart(id kernel.VatID, cfg kernel.VatConfig) (bool, error) {
	if !cfg.Pageable {
		return false, nil
	}
	if err := ka.checkCode(ka.ctx, cfg, "config"); err != nil {
		return false, err
	}
	return true, nil
}

// resumePagedOut gives each vat whose start the resume deferred a handle
// with no instance: paged out, and unstarted, so its first delivery
// builds its instance with its incarnation's startVat (pageIn). A vat
// with an instance already (a second resume) has it stopped: the new
// incarnation replaces it.
func (ka *kernelActor) resumePagedOut(ids []kernel.VatID) {
	for _, id := range ids {
		if old := ka.vats[id]; old != nil {
			if old.pid != nil {
				ka.actx.Stop(old.pid) // INVARIANT 16: a direct stop
			}
			ka.leaveLive(old)
		}
		// INVARIANT: no actor, no heap, no worker process until its first
		// delivery; it counts nothing against the cap meanwhile.
		ka.vats[id] = &vatHandle{pageable: true, pagedOut: true, unstarted: true}
	}
}

// errPageInSyscall is the refusal of a syscall other than the vatstore's
// during a page-in's startVat.
var errPageInSyscall = errors.New("a pageable vat's build may only use its vatstore: it runs again at every page-in")

// pageInSyscaller is the syscaller of a page-in's startVat: only the
// vatstore. The build function runs again at every page-in, so a send,
// subscribe, resolve or exit there would happen again at each one,
// visibly to other vats; refused, it fails the delivery as the vat's
// fault instead (docs/paging.md).
type pageInSyscaller struct{ sys kernel.Syscaller }

func (p pageInSyscaller) Syscall(s vatproto.Syscall) vatproto.SyscallResult {
	// INVARIANT: a page-in is invisible to other vats: its build reaches
	// nothing but its own vatstore.
	if vatstoreSyscall(s.Kind) {
		return p.sys.Syscall(s)
	}
	return vatproto.SyscallResult{Err: fmt.Errorf("%w: %s", errPageInSyscall, s.Kind)}
}

// vatstoreSyscall reports whether k is one of the vatstore's syscalls.
func vatstoreSyscall(k vatproto.SyscallKind) bool {
	switch k {
	case vatproto.SyscallVatstoreGet, vatproto.SyscallVatstoreSet,
		vatproto.SyscallVatstoreGetNextKey, vatproto.SyscallVatstoreDelete:
		return true
	}
	return false
}

// startWatch is the syscaller of a start (launch, restart, upgrade,
// resume): it passes every syscall on, and notes the first that a
// page-in's build would be refused (pageInSyscaller).
type startWatch struct {
	sys   kernel.Syscaller
	other vatproto.SyscallKind // 0: none
}

func (w *startWatch) Syscall(s vatproto.Syscall) vatproto.SyscallResult {
	if w.other == 0 && !vatstoreSyscall(s.Kind) {
		w.other = s.Kind
	}
	return w.sys.Syscall(s)
}

// pageable says whether the incarnation just started may be paged out:
// its config opts in, and its build used only its vatstore. A build that
// sent (say, to a presence from its baggage, after a restart) would send
// again at every page-in, which the page-in refuses as the vat's fault; so
// such a vat is kept live instead, and the log says why.
func (ka *kernelActor) pageable(id kernel.VatID, cfg kernel.VatConfig, w *startWatch) bool {
	if !cfg.Pageable {
		return false
	}
	if w.other != 0 {
		ka.log.Info().Str("vat", string(id)).Stringer("syscall", w.other).
			Msg("pageable vat kept live: its build makes syscalls other than the vatstore's, which a page-in would repeat")
		return false
	}
	return true
}

// recordPaging hands a paging event to the kernel for the vat log
// (kernel.RecordPaging: in the open unit, or the next).
func (ka *kernelActor) recordPaging(e kernel.PagingEvent) {
	if err := ka.k.RecordPaging(e); err != nil {
		ka.log.Error().Err(err).Msg("recording a paging event failed")
	}
}

// flushPaging writes the paging events that wait for a unit, when the
// kernel has run out of work (or is stopping): one unit for all of them.
func (ka *kernelActor) flushPaging() {
	if !ka.k.PagingPending() || ka.broken != nil || ka.st.InUnit() {
		return
	}
	out, err := ka.k.FlushPaging(context.WithoutCancel(ka.ctx))
	if err != nil {
		ka.log.Error().Err(err).Msg("logging paging events failed")
		return // a store failure stops the kernel (maybeStoreFailed)
	}
	ka.release(out)
}

// pagedOutVats lists the vats whose instance is paged out, in the order
// of vats (the kernel's listing, in id order), rather than sorting the
// handles again.
func (ka *kernelActor) pagedOutVats(vats []kernel.VatInfo) []kernel.VatID {
	var out []kernel.VatID
	for _, v := range vats {
		if h := ka.vats[v.ID]; h != nil && h.pagedOut {
			out = append(out, v.ID)
		}
	}
	return out
}
