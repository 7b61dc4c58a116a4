// Package clean is never built: it is the kernel lint's clean input
// (kernel/lint_test.go, TestLintFindsEveryBannedConstruct). It comes close
// to every rule without breaking one, and the lint must report nothing.
package clean

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ocapgo/kernel-actors/persistence"
)

// Config takes the clock from outside, as kernel code must.
type Config struct {
	Now     func() time.Time // injected: calling it is not reading the clock
	Backoff time.Duration    // durations are data
	Store   *persistence.Store
}

// InvariantError is what bugf panics with.
type InvariantError struct{ Msg string }

func (e *InvariantError) Error() string { return e.Msg }

// bugf is the one function that may panic, closure and all.
func bugf(format string, args ...any) {
	msg := func() string { return fmt.Sprintf(format, args...) }
	panic(&InvariantError{Msg: msg()})
}

func uses(ctx context.Context, c Config) error {
	at := c.Now()                      // the injected clock
	_ = at.Add(c.Backoff).Sub(at)      // arithmetic on times given
	_ = time.Duration(3) * time.Second // constants
	_ = time.Unix(0, 0).Format(time.RFC3339)
	deadline, ok := ctx.Deadline() // a context's deadline is an input
	_, _ = deadline, ok
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("stopped: %w", err)
	}
	{
		// A local named time shadows the package: its Now is not the clock.
		time := struct{ Now func() int }{Now: func() int { return 1 }}
		_ = time.Now()
	}
	var channel, sync, rand string // words, not constructs
	_ = strings.Join([]string{channel, sync, rand, "go", "select", "chan"}, " ")
	if c.Store == nil {
		bugf("no store in %+v", c)
	}
	return errors.New("done")
}
