//go:build jsvat && (invariants || race)

package conformance

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The harness's own check: with invariants on, the auditor runs once per
// unit the kernel commits, so once after every crank. promiseChain's
// launch is one unit (records, every vat's startVat, the bootstrap
// message), and each of its cranks is one more.
func TestAuditorRunsAfterEveryCrank(t *testing.T) {
	w := newWorld(t)
	w.launch(trio(t, "promise-chain", "promiseChain"))
	ctx, cancel := w.ctx()
	defer cancel()
	st, err := w.k.Status(ctx)
	require.NoError(t, err)
	require.Greater(t, st.Cranks, uint64(10), "the scenario takes a dozen cranks or more")
	require.Equal(t, int(st.Cranks)+1, w.audit.count(), "one audit per crank, and one for the launch")
}
