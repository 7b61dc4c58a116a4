//go:build jsvat

package conformance

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The promise-chain family (the reference's liveslots.test.ts,
// promiseChain and promiseIndirect).

// promiseChain (vats/promise-chain.js): bob hands out a promise, and each
// bobGen() settles the open one to [count, next promise]; alice follows the
// chain link by link until the count reaches 3. Each link reaches alice
// settled, with the next one in it still pending.
func TestPromiseChain(t *testing.T) {
	w := newWorld(t)
	res := w.launch(trio(t, "promise-chain", "promiseChain"))
	require.Equal(t, "end of chain", res.BootstrapResult)
	require.Equal(t, []string{
		"running test promiseChain",
		"waitFor start",
		"count 0 < 3, recurring...",
		"waitFor start",
		"count 1 < 3, recurring...",
		"waitFor start",
		"count 2 < 3, recurring...",
		"waitFor start",
		"finishing chain",
	}, w.testLog("Alice"))
	require.Equal(t, []string{
		"bobGen set value to 1",
		"bobGen set value to 2",
		"bobGen set value to 3",
		"bobGen set value to 4",
	}, w.testLog("Bob"))
	// Every link alice walked was retired and freed (the reference keeps
	// them all); left are the bootstrap result and the last link, still
	// open, which bob decides and keeps.
	require.Equal(t, []string{"fulfilled", "unresolved decider=" + string(res.VatIDs["bob"])}, w.promiseStates())
}

// promiseIndirect (vats/promise-indirect.js): bob settles a promise with
// another promise, the result of alice's first message to him, which she
// hands back; alice sees the inner value. Liveslots waits for the inner
// promise and settles the outer one with its value (this kernel refuses a
// syscall that fulfills a promise to a bare promise, where the reference
// would forward through it; liveslots never asks for that, so the logs
// are the reference's).
func TestPromiseIndirect(t *testing.T) {
	w := newWorld(t)
	res := w.launch(trio(t, "promise-indirect", "promiseIndirect"))
	require.Equal(t, "done", res.BootstrapResult)
	require.Equal(t, []string{"running test promiseIndirect", "resolution == hello"}, w.testLog("Alice"))
	require.Equal(t, []string{"genPromise1", "genPromise2", "resolve"}, w.testLog("Bob"))
	require.Equal(t, []string{"fulfilled"}, w.promiseStates(), "every other promise was freed")
}
