package actors_test

import (
	"context"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/persistence"
)

// With AuditEveryCrank (always on in builds with the invariants tag or
// -race), a crank that leaves the state broken stops the kernel at that
// crank with ErrAudit, naming the problem, and the crank's result is not
// handed out. The break here is made by hand between cranks (a root's
// reference count bumped), as a kernel bug would leave it.
func TestAuditAfterEveryCrankStopsABrokenKernel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		k, err := actors.Start(ctx, actors.Config{Registry: registry(), AuditEveryCrank: true})
		require.NoError(t, err)
		res, err := k.LaunchSubcluster(ctx, twoVats())
		require.NoError(t, err)
		_, err = k.QueueMessage(ctx, res.RootKref, "ask", "host")
		require.NoError(t, err, "a sound kernel passes its audits")

		err = k.ReadStore(ctx, func(st *persistence.Store) error {
			if err := st.Begin(); err != nil {
				return err
			}
			row, _ := st.Object(string(res.RootKref))
			row.Reachable++
			row.Recognizable++
			st.PutObject(string(res.RootKref), row)
			_, err := st.Commit(ctx)
			return err
		})
		require.NoError(t, err)

		_, err = k.QueueMessage(ctx, res.RootKref, "ask", "host")
		require.ErrorIs(t, err, actors.ErrStopped)
		<-k.Done()
		require.ErrorIs(t, k.Err(), actors.ErrAudit)
		require.ErrorContains(t, k.Err(), string(res.RootKref))
		require.NoError(t, k.Stop(ctx))
		settle()
	})
}
