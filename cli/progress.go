package cli

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"
)

// progress shows a long run's progress on a terminal: one line, rewritten
// in place twice a second, with cranks done and the rate. When stderr is
// not a terminal (piped, in CI) it shows nothing.
type progress struct {
	w    io.Writer
	stop chan struct{}
	done sync.WaitGroup
}

// startProgress polls count (cranks so far) until stopped. Nothing is
// started unless on is set.
func startProgress(ctx context.Context, w io.Writer, on bool, count func(context.Context) (uint64, error)) *progress {
	p := &progress{w: w, stop: make(chan struct{})}
	if !on {
		return p
	}
	p.done.Add(1)
	go func() {
		defer p.done.Done()
		start := time.Now()
		first, err := count(ctx)
		if err != nil {
			return
		}
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		shown := false
		for {
			select {
			case <-p.stop:
				if shown {
					fmt.Fprint(p.w, "\r\033[K") // clear the line for what follows
				}
				return
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			n, err := count(ctx)
			if err != nil {
				continue
			}
			secs := time.Since(start).Seconds()
			fmt.Fprintf(p.w, "\r\033[K%d cranks, %.0f cranks/s", n-first, float64(n-first)/secs)
			shown = true
		}
	}()
	return p
}

// Stop stops the display and waits for it.
func (p *progress) Stop() {
	close(p.stop)
	p.done.Wait()
}
