package demotest

import (
	"bytes"
	"context"
	"io"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"
)

// Settle lets protoactor's background timers (the dead-letter throttle,
// 1 s) run out. Called in a synctest bubble, it costs nothing: the clock
// is the bubble's.
func Settle() { time.Sleep(time.Minute) }

// Bubble runs f in a synctest bubble, so that the kernel's backoffs and
// timeouts take no real time, and checks at the end, after f's cleanups
// (the kernel's), that no goroutine outlives it.
func Bubble(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	synctest.Test(t, func(t *testing.T) {
		ignore := goleak.IgnoreCurrent()
		t.Cleanup(func() {
			Settle()
			goleak.VerifyNone(t, ignore)
		})
		f(t)
	})
}

// RunCommand runs cmd, a demo's command line (demos.Command), on args in
// a Bubble, and returns its exit code and what it wrote.
func RunCommand(t *testing.T, cmd func(ctx context.Context, args []string, stdout, stderr io.Writer) int, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	Bubble(t, func(t *testing.T) {
		var out, errOut bytes.Buffer
		code = cmd(context.Background(), args, &out, &errOut)
		stdout, stderr = out.String(), errOut.String()
	})
	return code, stdout, stderr
}
