package kernel

import (
	"context"
	"fmt"
	"time"

	"github.com/ocapgo/kernel-actors/persistence"
)

// The failure policy is the kernel's decision, not the runtime's: when a
// vat under the restart policy fails, the kernel decides, in the same unit
// that records the failure, whether the vat is restarted (after how long)
// or terminated because it failed too often. The runtime only carries the
// decision out: it stops the failed incarnation's actor and calls
// RestartVat when the backoff has passed. Time comes from Config.Now, so
// the decision is a function of the store and its inputs, and survives a
// kernel restart: the restarts within the window are in the vat's row.
//
// The arithmetic is Erlang's restart intensity with a backoff: at most
// MaxRestarts restarts within Within; each waits Backoff, doubled for
// every restart still in the window, up to MaxBackoff.

// restartDecision is what the policy says about one failure.
type restartDecision struct {
	after  time.Duration // wait this long, then restart
	giveUp bool          // terminate instead
	recent []int64       // the restarts in the window, with this one if not giving up
}

// decideRestart applies limits to a failure at now, given the restarts
// recorded so far (Unix nanoseconds, oldest first). It is a pure function
// of its inputs, so the decision is the same whenever it is replayed.
func decideRestart(limits RestartLimits, recorded []int64, now time.Time) restartDecision {
	limits = limits.WithDefaults()
	window := time.Duration(limits.Within)
	// The window slides: restarts older than Within no longer count, and
	// are dropped from what is stored, so the row stays small.
	var recent []int64
	for _, t := range recorded {
		if now.Sub(time.Unix(0, t)) < window {
			recent = append(recent, t)
		}
	}
	// MaxRestarts restarts already in the window: this failure is one too
	// many, and the vat is terminated instead of looping for ever.
	if len(recent) >= limits.MaxRestarts {
		return restartDecision{giveUp: true, recent: recent}
	}
	// The loop stops doubling once MaxBackoff is reached, so the delay
	// cannot overflow however many restarts are recent.
	delay := time.Duration(limits.Backoff)
	for i := 0; i < len(recent) && delay < time.Duration(limits.MaxBackoff); i++ {
		delay *= 2
	}
	delay = min(delay, time.Duration(limits.MaxBackoff))
	return restartDecision{after: delay, recent: append(recent, now.UnixNano())}
}

// applyRestartPolicyLocked decides, inside the open unit, what follows a
// failure of vat (which is under the restart policy): it records the
// failure in the vat log, then either records the restart and returns its
// backoff, or terminates the vat (giveUp).
func (k *Kernel) applyRestartPolicyLocked(vat VatID, why string) (after time.Duration, giveUp bool) {
	row, _ := k.st.Vat(string(vat))
	info, err := k.Vat(vat)
	// policyOf reads PolicyRestart only from a config that parses, so an
	// unreadable one cannot get here.
	if err != nil {
		bugf("vat %s under the restart policy has no readable config: %v", vat, err)
	}
	k.st.AppendVatEvent(persistence.VatEvent{Vat: string(vat), Incarnation: row.Incarnation, Event: "failed",
		Reason: why, AtCrank: CrankCount(k.st)})
	dec := decideRestart(info.Config.Restart, row.Restarts, k.now())
	if dec.giveUp {
		limits := info.Config.Restart.WithDefaults()
		reason := fmt.Sprintf("failed %d times within %v; giving up: %s", limits.MaxRestarts+1, time.Duration(limits.Within), why)
		k.log.Warn().Str("vat", string(vat)).Msg(reason)
		k.terminateVatLocked(vat, reason)
		return 0, true
	}
	// Recorded in the unit that consumes the failing item (or, from
	// VatFailed, records the failure): after a crash either both happened
	// or neither did, so the count cannot be lost behind a consumed item.
	row.Restarts = dec.recent
	k.st.PutVat(string(vat), row)
	return dec.after, false
}

// VatFailed applies vat's failure policy, as a unit of its own, to a
// failure outside any delivery (the supervision backstop: the vat's actor
// crashed on its own). Under the terminate policy the vat is terminated;
// under the restart policy it is restarted after the backoff the kernel
// returns (after > 0), or terminated if it fails too often. Terminated
// vats come back from TakeStopped.
func (k *Kernel) VatFailed(ctx context.Context, vat VatID, why string) (after time.Duration, out []Output, err error) {
	restart := false
	out, err = k.hostUnit(ctx, func() error {
		if err := k.checkActive(vat); err != nil {
			return err
		}
		if k.policyOf(vat) != PolicyRestart {
			k.terminateVatLocked(vat, why)
			return nil
		}
		var giveUp bool
		after, giveUp = k.applyRestartPolicyLocked(vat, why)
		restart = !giveUp
		return nil
	})
	if err != nil || !restart {
		return 0, out, err
	}
	return after, out, nil
}
