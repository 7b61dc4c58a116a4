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
//   - it records both events in the vat log (LogPaging), so an operator
//     can see what the runtime did.

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
	var promises, ephemeral int
	for _, s := range k.st.CListKRefs(string(vat)) {
		kref := KRef(s)
		if kref.IsPromise() {
			// Decided (the heap must settle it), imported (the heap may
			// react to it), or settled with a notify still due (the heap
			// reacts when it comes): the heap is needed in every case.
			promises++
			continue
		}
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

// PagingEvent is one paging event for LogPaging: Event is EventPagedOut or
// EventPagedIn, Reason says why, for the operator.
type PagingEvent struct {
	Vat    VatID
	Event  string
	Reason string
}

// LogPaging appends paging events to the vat log, in one unit of their
// own. The runtime pages between and during cranks and logs afterwards: a
// page-out changes no kernel state, so its record need not be atomic with
// anything, and a crash before the record is harmless (a resumed kernel
// builds every vat afresh). Events of vats that are gone or terminated
// meanwhile (a launch undone, a vat terminated by the crank) are skipped.
func (k *Kernel) LogPaging(ctx context.Context, evs []PagingEvent) ([]Output, error) {
	if len(evs) == 0 {
		return nil, nil
	}
	for _, e := range evs {
		if e.Event != EventPagedOut && e.Event != EventPagedIn {
			return nil, fmt.Errorf("%w: paging event %q: want %q or %q", ErrBadConfig, e.Event, EventPagedOut, EventPagedIn)
		}
	}
	return k.hostUnit(ctx, func() error {
		at := CrankCount(k.st)
		for _, e := range evs {
			row, ok := k.st.Vat(string(e.Vat))
			if !ok || row.State != persistence.VatActive {
				continue
			}
			k.st.AppendVatEvent(persistence.VatEvent{Vat: string(e.Vat), Incarnation: row.Incarnation,
				Event: e.Event, Reason: e.Reason, AtCrank: at})
		}
		return nil
	})
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
