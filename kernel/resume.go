package kernel

import (
	"context"
	"fmt"

	"github.com/ocapgo/kernel-actors/persistence"
)

// Resume with deferred starts (docs/paging.md, "Resume"). A resumed
// kernel begins a new incarnation of every active vat: the heaps of the
// process that went away are gone. That has two halves:
//
//   - the kernel's: what only the lost heap could answer for is settled
//     (promises it decided are rejected, its non-durable exports
//     abandoned: beginIncarnationLocked). Other vats and the host depend
//     on it, so it is done at resume, for every vat, whatever else waits;
//   - the vat's: a startVat builds the new heap from the vatstore. Nothing
//     outside the vat depends on when that runs: until a delivery reaches
//     it, no one can tell a heap that was built from one that was not.
//
// So a runtime with a cap on live vats may defer the second half of a
// vat that can be paged out: it comes back as if paged out, and the
// startVat of its new incarnation runs inside the crank of its first
// delivery, exactly as a page-in's does (StartDelivery). A resume of
// 100,000 such vats then spawns none, and its units each carry many vats.

// ResumeOptions tune ResumeWith.
type ResumeOptions struct {
	// Defer, if not nil, is asked for each active vat whose config parses,
	// in id order, whether its start may wait for its first delivery. A
	// vat it defers has its new incarnation begun (with everything Resume
	// settles for a lost heap) but is delivered no startVat: the runtime
	// delivers StartDelivery(vat) before the vat's first delivery. An
	// error stops the resume as a failed start does, leaving that vat as
	// it was (the runtime found its code missing, say).
	Defer func(vat VatID, cfg VatConfig) (bool, error)
}

// ResumeResult says what ResumeWith did besides its outputs.
type ResumeResult struct {
	// Deferred lists the vats whose new incarnation has begun, committed,
	// but whose startVat waits for their first delivery, in id order.
	Deferred []VatID
}

// deferredPerUnit bounds the vats whose incarnations begin in one unit.
// One unit a vat would cost a commit each (a sync each on a file under
// commit per crank) for a few rows; one unit for all would hold every
// vat's rows in one overlay. A few hundred keeps both small.
const deferredPerUnit = 256

// deferredReason is the vat log's reason for a deferred vat's new
// incarnation: the "resumed" event, as for any vat, says when its
// incarnation began, and the "paged-in" event of its first delivery says
// when its instance was built.
const deferredReason = "kernel restarted; its start waits for its first delivery"

// ResumeWith is Resume, with the starts of the vats opts.Defer picks
// deferred to their first delivery. Vats started at resume are resumed
// as Resume does, each in a unit of its own; deferred vats share units,
// up to deferredPerUnit, in id order with the others. On an error, the
// vats resumed before the one it names stay resumed (their units are
// committed), and res lists the deferred ones among them.
func (k *Kernel) ResumeWith(ctx context.Context, d Deliverer, opts ResumeOptions) (res ResumeResult, out []Output, err error) {
	out, err = k.hostUnit(ctx, func() error {
		k.dropHostSubscriptionsLocked()
		return nil
	})
	if err != nil {
		return res, nil, err
	}
	var batch []VatID // deferred vats whose unit has not run yet
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		o, err := k.hostUnit(ctx, func() error {
			for _, vat := range batch {
				// INVARIANT 12: the lost heap's promises are settled and
				// its non-durable exports abandoned now, at resume, as for
				// a vat that starts now; only the startVat waits.
				k.beginIncarnationLocked(vat, eventResumed, deferredReason, nil)
			}
			return nil
		})
		out = append(out, o...)
		if err != nil {
			return fmt.Errorf("kernel: resume vats %s to %s: %w", batch[0], batch[len(batch)-1], err)
		}
		res.Deferred = append(res.Deferred, batch...)
		batch = batch[:0]
		return nil
	}
	for _, id := range k.st.VatIDs() {
		row, _ := k.st.Vat(id)
		if row.State != persistence.VatActive {
			continue
		}
		if opts.Defer != nil {
			// A config that does not parse is not deferred: the start
			// below fails on it, naming the vat, as it always has.
			if cfg, cerr := k.configs.vat(id, row); cerr == nil {
				later, derr := opts.Defer(VatID(id), cfg)
				if derr != nil {
					if err := flush(); err != nil {
						return res, out, err
					}
					return res, out, fmt.Errorf("kernel: resume vat %s (%q): %w", id, row.Name, derr)
				}
				if later {
					if batch = append(batch, VatID(id)); len(batch) == deferredPerUnit {
						if err := flush(); err != nil {
							return res, out, err
						}
					}
					continue
				}
			}
		}
		// Id order across both kinds: the deferred vats before this one
		// begin their incarnations first.
		if err := flush(); err != nil {
			return res, out, err
		}
		o, err := k.newIncarnationUnit(ctx, VatID(id), d, eventResumed, "kernel restarted", nil)
		out = append(out, o...)
		if err != nil {
			return res, out, fmt.Errorf("kernel: resume vat %s (%q): %w", id, row.Name, err)
		}
	}
	if err := flush(); err != nil {
		return res, out, err
	}
	return res, out, nil
}
