//go:build jsvat

package conformance

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The promise-arg family (the reference's liveslots.test.ts, promiseArg1
// to promiseArg3; vats/promise-arg.js): a promise travels as an argument
// and is settled before the send, after it, or after the receiver has
// answered. In each case the receiver hears the value exactly once, and
// the bootstrap result is the receiver's verdict.
func TestPromiseArg(t *testing.T) {
	for _, tt := range []struct {
		test      string
		wantAlice []string
		wantBob   []string
	}{
		{
			test: "promiseArg1",
			wantAlice: []string{
				"running test promiseArg1",
				"sending the promise to Bob",
				"resolving the promise that was sent to Bob",
				"awaiting Bob's response",
				"Bob's response to hereIsAPromise: 'Bob.hereIsAPromise done'",
			},
			wantBob: []string{"the promise parameter resolved to 'Alice said hi after send'"},
		},
		{
			test: "promiseArg2",
			wantAlice: []string{
				"running test promiseArg2",
				"resolving the promise that will be sent to Bob",
				"sending the promise to Bob",
				"awaiting Bob's response",
				"Bob's response to hereIsAPromise: 'Bob.hereIsAPromise done'",
			},
			wantBob: []string{"the promise parameter resolved to 'Alice said hi before send'"},
		},
		{
			test: "promiseArg3",
			wantAlice: []string{
				"running test promiseArg3",
				"sending the promise to Bob",
				"awaiting Bob's response",
				"Bob's response to hereIsAPromise: 'Bob.hereIsAPromise done'",
				"resolving the promise that was sent to Bob",
			},
			wantBob: []string{"the promise parameter resolved to 'Alice said hi after Bob's reply'"},
		},
	} {
		t.Run(tt.test, func(t *testing.T) {
			w := newWorld(t)
			res := w.launch(trio(t, "promise-arg", tt.test))
			require.Equal(t, "bobPSucc", res.BootstrapResult)
			require.Equal(t, tt.wantAlice, w.testLog("Alice"))
			require.Equal(t, tt.wantBob, w.testLog("Bob"))
			require.Empty(t, w.testLog("Carol"), "carol takes no part")
			// Beyond the reference, which keeps every resolved promise in
			// every c-list forever: all the scenario's promises were
			// retired and freed; only the bootstrap result, which the
			// subcluster keeps, is left.
			require.Equal(t, []string{"fulfilled"}, w.promiseStates())
		})
	}
}

// passResult and passResultPromise (vats/pass-result.js): the result of
// a message, still pending, is the argument of the next message to the
// same vat. In passResultPromise bob answers the first message with a
// promise that he settles only when the second arrives, so the first
// result is settled by bob's second delivery.
func TestPassResult(t *testing.T) {
	for _, tt := range []struct {
		test, firstAnswer string
	}{
		{"passResult", "Bob's first answer"},
		{"passResultPromise", "Bob answers first in second"},
	} {
		t.Run(tt.test, func(t *testing.T) {
			w := newWorld(t)
			res := w.launch(trio(t, "pass-result", tt.test))
			require.Equal(t, []any{"p1succ", "p2succ"}, res.BootstrapResult)
			require.Equal(t, []string{
				"running test " + tt.test,
				"first result resolved to " + tt.firstAnswer,
				"second result resolved to Bob's second answer",
			}, w.testLog("Alice"))
			require.Equal(t, []string{"first", "second", "parameter to second resolved to " + tt.firstAnswer}, w.testLog("Bob"))
			// Beyond the reference, which keeps every resolved promise in
			// every c-list forever: all the scenario's promises were
			// retired and freed; only the bootstrap result, which the
			// subcluster keeps, is left.
			require.Equal(t, []string{"fulfilled"}, w.promiseStates())
		})
	}
}
