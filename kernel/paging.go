package kernel

import (
	"context"
	"errors"
	"fmt"

	"github.com/ocapgo/kernel-actors/persistence"
)

// Paging (docs/paging.md). A vat whose config sets Pageable promises that
// everything it needs between deliveries is in its vatstore. The runtime
// may then drop the vat's instance (its actor, its heap, its worker
// process) while it is idle, and build a fresh one from the vatstore at
// its next delivery. The fresh instance is the same incarnation: paging is
// not a restart, so nothing is rejected or abandoned, and the kernel's
// state does not change at all. The kernel's part is twofold:
//
//   - it says whether a vat may be paged out (CheckPageable), judging only
//     what it can see, the vat's c-list: a promise in it is one the vat's
//     heap must settle or react to, and an ephemeral export is an object
//     that lives only in the heap. Either would be lost, to the harm of
//     other vats (a promise no one settles, a send that reaches a heap
//     that forgot its target), so such a vat is kept live whatever its
//     config says. What the vat's heap holds besides (tasks parked in
//     Await) only the vat's runtime can tell; the runtime asks it too;
//   - it records both events in the vat log (RecordPaging), so an
//     operator can see what the runtime did.

// Vat log events of paging. They record what the runtime did with a vat's
// instance; the kernel state is the same either way.
const (
	// EventPagedOut: the vat's instance was dropped while it was idle.
	EventPagedOut = "paged-out"
	// EventPagedIn: a fresh instance of the same incarnation was built
	// from the vatstore, for the delivery that needed it.
	EventPagedIn = "paged-in"
)

// ErrNotPageable is wrapped by CheckPageable's answer for a vat that must
// stay live; the text says why, with counts but no kref or vref.
var ErrNotPageable = errors.New("kernel: vat cannot be paged out")

// CheckPageable reports whether vat may be paged out now, as far as the
// kernel can see: it is active, its config opts in (VatConfig.Pageable),
// and its c-list holds no promise and no export that lives only in its
// heap. It reads only: it may be called inside or outside a unit.
func (k *Kernel) CheckPageable(vat VatID) error {
	row, ok := k.st.Vat(string(vat))
	switch {
	case !ok:
		return ErrUnknownVat
	case row.State != persistence.VatActive:
		return ErrVatNotActive
	}
	cfg, err := vatConfigOf(row)
	if err != nil {
		return fmt.Errorf("%w: its config does not parse: %w", ErrNotPageable, err)
	}
	if !cfg.Pageable {
		return fmt.Errorf("%w: its config does not set pageable", ErrNotPageable)
	}
	// Decided (the heap must settle it), imported (the heap may react to
	// it), or settled with a notify still due (the heap reacts when it
	// comes): a promise in the c-list needs the heap in every case. The
	// store lists them on its index: a vat with a million durable exports
	// is checked without reading them.
	promises := len(k.clistPromises(vat))
	ephemeral := 0
	for _, s := range k.clistEphemeralCandidates(vat) {
		if e, ok := k.st.CList(string(vat), s); ok && ephemeralExport(VRef(e.VRef)) {
			// INVARIANT 15 by other means: a fresh heap of the same
			// incarnation would not know this object, and a send to it
			// would fault the vat; so the vat stays live while it exports
			// one (dropped or not: until retired, the kernel may still
			// tell it about the vref).
			ephemeral++
		}
	}
	switch {
	case promises > 0 && ephemeral > 0:
		return fmt.Errorf("%w: its c-list holds %d promises and %d exports that live only in its heap", ErrNotPageable, promises, ephemeral)
	case promises > 0:
		return fmt.Errorf("%w: its c-list holds %d promises its heap must settle or hear about", ErrNotPageable, promises)
	case ephemeral > 0:
		return fmt.Errorf("%w: it exports %d objects that live only in its heap", ErrNotPageable, ephemeral)
	}
	return nil
}

// PagingEvent is one paging event for RecordPaging: Event is
// EventPagedOut or EventPagedIn, Reason says why, for the operator.
type PagingEvent struct {
	Vat    VatID
	Event  string
	Reason string
}

// pagingLog carries paging events to the vat log without a unit of their
// own (which, under commit per crank on a file, would be a sync each):
// an event recorded while a unit is open goes into it (inUnit, until it
// commits or aborts); one recorded between units waits (pending) and goes
// into the next unit the kernel opens, first, so the log keeps the order
// in which things happened.
type pagingLog struct {
	pending, inUnit []persistence.VatEvent
}

// RecordPaging records a paging event of vat in the vat log, with the
// vat's incarnation now: in the open unit if there is one (a page-in
// inside the crank of the delivery that needed it), else in the next unit
// to open (FlushPaging opens one). A vat that is gone or terminated is
// ignored, and an unknown event refused.
//
// If the unit that carries an event aborts, a page-out is carried by the
// next unit instead (it happened all the same: the instance is gone), and
// a page-in goes with the unit (its delivery failed, and the vat's failure
// is what the log records).
func (k *Kernel) RecordPaging(e PagingEvent) error {
	if e.Event != EventPagedOut && e.Event != EventPagedIn {
		return fmt.Errorf("%w: paging event %q: want %q or %q", ErrBadConfig, e.Event, EventPagedOut, EventPagedIn)
	}
	row, ok := k.st.Vat(string(e.Vat))
	if !ok || row.State != persistence.VatActive {
		return nil
	}
	ev := persistence.VatEvent{Vat: string(e.Vat), Incarnation: row.Incarnation, Event: e.Event,
		Reason: e.Reason, AtCrank: CrankCount(k.st)}
	if k.st.InUnit() {
		k.st.AppendVatEvent(ev)
		k.paging.inUnit = append(k.paging.inUnit, ev)
		return nil
	}
	k.paging.pending = append(k.paging.pending, ev)
	return nil
}

// PagingPending reports whether paging events wait for a unit.
func (k *Kernel) PagingPending() bool { return len(k.paging.pending) > 0 }

// FlushPaging writes the paging events that wait, in a unit of their
// own; with none waiting it does nothing. The runtime calls it when it
// runs out of work, and before it stops.
func (k *Kernel) FlushPaging(ctx context.Context) ([]Output, error) {
	if !k.PagingPending() {
		return nil, nil
	}
	return k.hostUnit(ctx, func() error { return nil })
}

// pagingBegin writes the waiting events into the unit just opened,
// skipping vats that are gone (a page-out recorded inside a launch that
// was then undone).
func (k *Kernel) pagingBegin() {
	for _, ev := range k.paging.pending {
		if _, ok := k.st.Vat(ev.Vat); !ok {
			continue
		}
		k.st.AppendVatEvent(ev)
		k.paging.inUnit = append(k.paging.inUnit, ev)
	}
	k.paging.pending = k.paging.pending[:0]
}

// pagingAbort takes back the events of the unit that aborted: the
// page-outs wait for the next unit, the page-ins go.
func (k *Kernel) pagingAbort() {
	for _, ev := range k.paging.inUnit {
		if ev.Event == EventPagedOut {
			k.paging.pending = append(k.paging.pending, ev)
		}
	}
	k.paging.inUnit = k.paging.inUnit[:0]
}

// StartDelivery is the startVat delivery of vat's current incarnation, as
// deliverStart makes it: what a runtime delivers to a fresh instance it
// builds to page the vat in. Its syscalls belong to the delivery that
// pages the vat in.
func (k *Kernel) StartDelivery(vat VatID) (Delivery, error) {
	row, ok := k.st.Vat(string(vat))
	if !ok {
		return Delivery{}, ErrUnknownVat
	}
	return Delivery{Kind: DeliverStartVat, Incarnation: row.Incarnation, Limits: k.vatLimits()}, nil
}
