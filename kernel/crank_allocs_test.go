package kernel_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/kernel"
	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/persistence"
)

// maxAllocsPerCrank bounds the heap allocations of one ping-pong crank
// (kerneltest.PingPong: a ping with a send, a subscribe and a resolve, or
// the notify that answers it) on the in-memory store with no flush due.
// The kernel's own share is the delivery handle it gives the vat, the
// notify's resolution list, and the refs and rows a crank creates; the
// lists it only walks (promisesToRetire, syscallResolve's) live on the
// stack, and a vat awaiting one promise after another shares one
// subscriber list. This test measured 11.0 before those changes and 9.5
// after, so a regression shows here as a count, not as a time.
const maxAllocsPerCrank = 10

func TestCrankAllocations(t *testing.T) {
	ctx := context.Background()
	// No flush inside the measured cranks: the flush's allocations are the
	// store's, and come once per group, not per crank.
	opts := persistence.Options{Policy: persistence.Group, GroupCranks: 1 << 30, GroupInterval: time.Hour}
	st, k, pp, err := kt.OpenPingPong(ctx, "", opts)
	require.NoError(t, err)
	defer st.Close(ctx)
	crank := func() {
		r, err := k.Crank(ctx, pp)
		if err != nil || r.Outcome != kernel.Committed {
			t.Fatalf("crank: %v %v", r.Outcome, err)
		}
	}
	for i := 0; i < 200; i++ { // the maps reach their working size
		crank()
	}
	// Two cranks a run: a ping and its notify, so both kinds are counted.
	perPair := testing.AllocsPerRun(200, func() { crank(); crank() })
	t.Logf("%.1f allocations per crank", perPair/2)
	require.LessOrEqual(t, perPair/2, float64(maxAllocsPerCrank))
	_, err = k.Flush(ctx)
	require.NoError(t, err)
	problems, err := kernel.Audit(ctx, st)
	require.NoError(t, err)
	require.Empty(t, problems)
}
