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
//
// Only on a terminal, because "\r" rewrites make sense there alone: in
// a log file they would leave hundreds of partial lines.
type progress struct {
	w    io.Writer
	stop chan struct{}
	done sync.WaitGroup
}

// startProgress polls count (cranks so far) until stopped. Nothing is
// started unless on is set.
func startProgress(ctx context.Context, w io.Writer, on bool, count func(context.Context) (uint64, error)) *progress {
	// A progress that was never started still works with Stop, so callers
	// need not check on before stopping it.
	p := &progress{w: w, stop: make(chan struct{})}
	if !on {
		return p
	}
	p.done.Add(1)
	go func() {
		defer p.done.Done()
		start := time.Now()
		// Cranks are counted from the first poll, so a resumed file's earlier
		// cranks do not inflate the rate.
		first, err := count(ctx)
		if err != nil {
			// No count, no display: a progress line is never worth an error.
			return
		}
		// Twice a second: often enough to look alive, rare enough that reading
		// the count never competes with the kernel's own work.
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
			// On cancel the line is left as is: the process is ending, and a
			// message about why follows on its own line.
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			n, err := count(ctx)
			// A failed poll skips a frame rather than stop the display: the next
			// one may well succeed.
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
	// Stop waits for the goroutine, so the line is cleared before the
	// caller prints what follows, never after.
	close(p.stop)
	p.done.Wait()
}
