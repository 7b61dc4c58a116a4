//go:build jsvat

package conformance

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The resolve-pipelined family (the reference's liveslots.test.ts,
// resolvePipeline and messageToPromise; vats/resolve-pipelined.js):
// messages sent to the result of a message that is still in flight. The
// kernel keeps such a message on the promise's own queue and, when the
// promise is settled, moves the queue in order to the object it settled
// to, in the same unit (the reference re-queues it in a crank of its own,
// behind whatever the run queue holds; neither test sends two messages on
// one promise, so the logs are the reference's).

// resolvePipelined: p1 = E(bob).first(); E(p1).second(p1). second() runs
// on the object first() returned, with p1 (by then settled to it) as its
// argument.
func TestResolvePipelined(t *testing.T) {
	w := newWorld(t)
	res := w.launch(trio(t, "resolve-pipelined", "resolvePipelined"))
	require.Equal(t, []any{"p1succ", "p2succ"}, res.BootstrapResult)
	require.Equal(t, []string{
		"running test resolvePipelined",
		"first result resolved to [object Alleged: thing]",
		"second result resolved to Bob's second answer",
	}, w.testLog("Alice"))
	require.Equal(t, []string{"first", "thing.second"}, w.testLog("Bob"))
	require.Equal(t, []string{"fulfilled"}, w.promiseStates(), "every other promise was freed")
}

// messageToPromise: alice sends doSomething() to a promise bob settles
// only later (doResolve); the message waits in the kernel, and reaches
// the object once bob settles the promise to it, before the loopback that
// alice sends after doResolve.
func TestMessageToPromise(t *testing.T) {
	w := newWorld(t)
	res := w.launch(trio(t, "resolve-pipelined", "messageToPromise"))
	require.Equal(t, "p2succ", res.BootstrapResult)
	require.Equal(t, []string{
		"running test messageToPromise",
		"invoking loopback",
		"second result resolved to 'deferred something'",
		"loopback done",
	}, w.testLog("Alice"))
	require.Equal(t, []string{"setup", "doResolve", "thing.doSomething", "loopback"}, w.testLog("Bob"))
	require.Equal(t, []string{"fulfilled"}, w.promiseStates(), "every other promise was freed")
}

// E-order after resolution (vats/eorder.js): four messages sent on one
// promise, the last two after the decider was asked to settle it, reach
// the object it settles to in the order they were sent. This differs from
// the reference on purpose: its kernel routes a send to a promise only
// when the send reaches the head of the run queue, and appends the
// promise's queue to the run queue's tail when it settles, so m(3) and
// m(4), queued behind release(), overtake m(1) and m(2) there (the order
// it logs is release, 3, 4, 1, 2). Here a send joins the promise's queue
// when it is made, and the whole queue moves in order when it settles.
func TestEOrderAfterResolution(t *testing.T) {
	w := newWorld(t)
	res := w.launch(trio(t, "eorder", "eorder"))
	require.Equal(t, []any{int64(1), int64(2), int64(3), int64(4)}, res.BootstrapResult)
	require.Equal(t, []string{"release", "thing.m(1)", "thing.m(2)", "thing.m(3)", "thing.m(4)"}, w.testLog("Bob"))
}
