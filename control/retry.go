package control

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// A send whose answer is lost is sent again, with the same idempotency
// key, a bounded number of times with a growing wait in between: a
// connection reset or an EOF says nothing about whether the kernel applied
// the send, and the key makes the retry safe either way. Only sends are
// retried (every Client.Send has a key); the other calls change state in
// ways a key does not cover, and are left to the caller.

// ErrNoAnswer is wrapped by a Client's error when a request got no
// answer: the connection could not be made, broke, or was closed before
// the whole answer arrived. The request may or may not have taken effect.
var ErrNoAnswer = errors.New("no answer")

// Retry defaults.
const (
	DefaultAttempts   = 5
	DefaultBackoff    = 100 * time.Millisecond
	DefaultMaxBackoff = 2 * time.Second
)

// Retry bounds how a Client sends a send again whose answer was lost.
type Retry struct {
	// Attempts is the most times one send is sent, the first included;
	// 0 means DefaultAttempts, 1 sends once.
	Attempts int
	// Backoff is the wait before the second attempt, doubled before each
	// next one up to MaxBackoff; each wait is drawn between half of it and
	// all of it, so clients cut off together do not come back together.
	// 0 means DefaultBackoff (and DefaultMaxBackoff).
	Backoff, MaxBackoff time.Duration
	// Wait waits d or until ctx ends, returning ctx's error then; nil
	// means a timer. Tests pass one that records d and returns at once.
	Wait func(ctx context.Context, d time.Duration) error
}

// withDefaults fills in the zero fields.
func (p Retry) withDefaults() Retry {
	if p.Attempts <= 0 {
		p.Attempts = DefaultAttempts
	}
	if p.Backoff <= 0 {
		p.Backoff = DefaultBackoff
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = DefaultMaxBackoff
	}
	if p.MaxBackoff < p.Backoff {
		p.MaxBackoff = p.Backoff
	}
	if p.Wait == nil {
		p.Wait = waitTimer
	}
	return p
}

// waitTimer waits d, or until ctx ends.
func waitTimer(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// jitter draws a wait in [d/2, d].
func jitter(d time.Duration) time.Duration {
	half := d / 2
	return half + rand.N(d-half+1)
}

// retry calls call until it gets an answer (any answer: an error status
// is the server's word, not a lost reply), the attempts run out, or ctx
// ends. key names the send in the error, so that a caller can send it
// again later, safely.
func (p Retry) retry(ctx context.Context, key string, call func() error) error {
	p = p.withDefaults()
	delay := p.Backoff
	for attempt := 1; ; attempt++ {
		err := call()
		if err == nil || !errors.Is(err, ErrNoAnswer) {
			return err
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%w (attempt %d, idempotency key %s)", err, attempt, key)
		}
		if attempt >= p.Attempts {
			return fmt.Errorf("%w; gave up after %d attempts (idempotency key %s: sending again with it applies the send at most once)", err, attempt, key)
		}
		if werr := p.Wait(ctx, jitter(delay)); werr != nil {
			return fmt.Errorf("%w; stopped retrying after %d attempts: %w (idempotency key %s)", err, attempt, werr, key)
		}
		delay = min(2*delay, p.MaxBackoff)
	}
}
