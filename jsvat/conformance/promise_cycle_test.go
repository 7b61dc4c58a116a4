//go:build jsvat

package conformance

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The promise-cycle family (the reference's liveslots.test.ts,
// promiseCycle, promiseCycleMultiCrank and promiseCrosswise): X is
// settled to [Y] and Y to [X], and alice reads each element as a promise.
// The kernel must deliver such a pair without looping, whether both are
// settled in one syscall, in two cranks of one decider, or by two
// deciders; and (this kernel, not the reference) retire each from every
// c-list it passed through, which the auditor checks after every crank.
func TestPromiseCycle(t *testing.T) {
	for _, tt := range []struct {
		file, test string
		wantBob    []string
		wantCarol  []string
	}{
		{"promise-cycle", "promiseCycle", []string{"genPromise1", "genPromise2", "resolveBoth"}, []string{}},
		{"promise-cycle", "promiseCycleMultiCrank", []string{"genPromise1", "genPromise2", "resolve1", "resolve2"}, []string{}},
		{"promise-crosswise", "promiseCrosswise", []string{"genPromise", "resolve"}, []string{"genPromise", "resolve"}},
	} {
		t.Run(tt.test, func(t *testing.T) {
			w := newWorld(t)
			res := w.launch(trio(t, tt.file, tt.test))
			require.Equal(t, "done", res.BootstrapResult)
			require.Equal(t, []string{
				"running test " + tt.test,
				"isPromise(resolutionX[0]): true",
				"isPromise(resolutionY[0]): true",
			}, w.testLog("Alice"))
			require.Equal(t, tt.wantBob, w.testLog("Bob"))
			require.Equal(t, tt.wantCarol, w.testLog("Carol"))
			// Beyond the reference, which keeps every promise of the cycle
			// in every c-list forever: the two promises name only each
			// other once settled and retired, and the kernel frees such a
			// cycle; only the bootstrap result is left.
			require.Equal(t, []string{"fulfilled"}, w.promiseStates())
		})
	}
}
