package supervisor

import (
	"time"

	"github.com/ocapgo/kernel-actors/kernel"
)

// Restarts keeps a vat's restart history and applies its limits: at most
// MaxRestarts restarts within Within, each after a backoff that doubles
// from Backoff up to MaxBackoff (Erlang's restart intensity, with
// backoff). Time comes from the caller.
type Restarts struct {
	limits kernel.RestartLimits
	recent []time.Time // restarts within the window, oldest first
}

// NewRestarts makes a history with limits (zero fields take defaults).
func NewRestarts(limits kernel.RestartLimits) *Restarts {
	return &Restarts{limits: limits.WithDefaults()}
}

// Next decides what to do about a failure at now: restart after delay, or
// give up (terminate) because the vat failed too often.
func (r *Restarts) Next(now time.Time) (delay time.Duration, giveUp bool) {
	window := time.Duration(r.limits.Within)
	kept := r.recent[:0]
	for _, t := range r.recent {
		if now.Sub(t) < window {
			kept = append(kept, t)
		}
	}
	r.recent = kept
	if len(r.recent) >= r.limits.MaxRestarts {
		return 0, true
	}
	delay = time.Duration(r.limits.Backoff)
	for i := 0; i < len(r.recent) && delay < time.Duration(r.limits.MaxBackoff); i++ {
		delay *= 2
	}
	delay = min(delay, time.Duration(r.limits.MaxBackoff))
	r.recent = append(r.recent, now)
	return delay, false
}
