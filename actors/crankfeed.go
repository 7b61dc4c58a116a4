package actors

import (
	"time"

	"github.com/ocapgo/kernel-actors/kernel"
)

// CrankSummary is what Config.OnCrankDone hears of one crank that ran:
// enough for a live view (the console's per-vat crank counts and last
// failure) and nothing a crank has to build for it. It carries no kref:
// Failure is the kernel's coded error text, which never names a ref.
type CrankSummary struct {
	// Crank is the crank's number, as the vat log and inspect show it.
	Crank uint64
	// Work is the kind of work ("send", "notify", "dropExports", ...).
	Work string
	// Vat is the vat the work concerned, "" when there was none (a send
	// the router splatted).
	Vat kernel.VatID
	// Aborted says the crank rolled back (the vat failed).
	Aborted bool
	// Failure is why, when Aborted: "[KERNEL:VAT_FATAL:...]".
	Failure string
	// Took is the crank's duration, from its start to its outputs
	// released, by Config.Clock.
	Took time.Duration
}

// summarize builds the summary of crank r for Config.OnCrankDone.
func summarize(r kernel.CrankResult, took time.Duration) CrankSummary {
	s := CrankSummary{Crank: r.Crank, Work: r.Work.String(), Vat: r.Vat, Aborted: r.Outcome == kernel.Aborted, Took: took}
	if r.Failure != nil {
		// INVARIANT: the failure's text is the kernel's coded error, which
		// names no ref (the detail went to the log), so a listener may show
		// it to anyone who may see the vat's id.
		s.Failure = r.Failure.Error()
	}
	return s
}
