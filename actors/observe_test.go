package actors_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/persistence"
)

// Config.OnCrank is called once for every crank the kernel runs, and
// Config.StoreTrace sees the statements of the flushes on a file: the
// two observer hooks package bench measures a crank with.
func TestObserverHooks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ignore := goleak.IgnoreCurrent()
		ctx := context.Background()
		var mu sync.Mutex
		var durations []time.Duration
		tables := map[string]int{}
		k, err := actors.Start(ctx, actors.Config{
			Registry: registry(),
			DBPath:   filepath.Join(t.TempDir(), "k.db"),
			OnCrank: func(d time.Duration) {
				mu.Lock()
				durations = append(durations, d)
				mu.Unlock()
			},
			StoreTrace: func(s persistence.Statement) {
				mu.Lock()
				tables[s.Table] += s.Rows
				mu.Unlock()
			},
		})
		require.NoError(t, err)
		res, err := k.LaunchSubcluster(ctx, twoVats())
		require.NoError(t, err)
		_, err = k.QueueMessage(ctx, res.RootKref, "ask", "host")
		require.NoError(t, err)
		require.NoError(t, k.WaitIdle(ctx))
		st, err := k.Status(ctx)
		require.NoError(t, err)

		require.NoError(t, k.Stop(ctx))
		settle()
		goleak.VerifyNone(t, ignore)

		mu.Lock()
		defer mu.Unlock()
		require.NotZero(t, st.CranksRun)
		require.Len(t, durations, int(st.CranksRun), "one call per crank run")
		for _, d := range durations {
			require.GreaterOrEqual(t, d, time.Duration(0))
		}
		require.NotZero(t, tables["queue"]+tables["kernel_promises"]+tables["promises"], "the flushes' statements were traced: %v", tables)
	})
}
