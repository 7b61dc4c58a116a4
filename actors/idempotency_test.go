package actors_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/persistence/sqlitestore"
)

// A client that lost its reply sends again with the same key: the effect
// applies once and the retry gets the first result, in the same process
// and after the kernel restarted with the message still queued (the key
// committed with it).
func TestQueueMessageOnce(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kernel.db")
	k, err := actors.Start(ctx, actors.Config{DBPath: path, Registry: counterRegistry()})
	require.NoError(t, err)
	res, err := k.LaunchSubcluster(ctx, counterCluster())
	require.NoError(t, err)
	for range 3 {
		v, err := k.QueueMessageOnce(ctx, "deposit-1", res.RootKref, "incr")
		require.NoError(t, err)
		require.Equal(t, int64(1), v, "the first result, every time")
	}
	_, err = k.QueueMessageOnce(ctx, "deposit-1", res.RootKref, "report")
	require.ErrorIs(t, err, kernel.ErrIdempotencyKeyReused)
	require.NoError(t, k.Stop(ctx))

	// Queue a keyed send with the kernel stopped, as a process that died
	// right after committing it, before answering, would leave it.
	st, err := sqlitestore.Open(ctx, path, persistence.Options{})
	require.NoError(t, err)
	sm, err := kernel.New(kernel.Config{Store: st})
	require.NoError(t, err)
	_, _, _, err = sm.QueueMessageOnce(ctx, "deposit-2", res.RootKref, methargsFor(t, "incr"))
	require.NoError(t, err)
	require.NoError(t, st.Close(ctx))

	k, err = actors.Start(ctx, actors.Config{DBPath: path, Registry: counterRegistry()})
	require.NoError(t, err)
	defer k.Stop(ctx)
	v, err := k.QueueMessageOnce(ctx, "deposit-2", res.RootKref, "incr")
	require.NoError(t, err)
	require.Equal(t, int64(2), v, "the retry after the restart waited for the queued send")
	v, err = k.QueueMessage(ctx, res.RootKref, "incr")
	require.NoError(t, err)
	require.Equal(t, int64(3), v, "and it applied once")
}

func methargsFor(t *testing.T, method string, args ...any) marshal.CapData {
	t.Helper()
	if args == nil {
		args = []any{}
	}
	d, err := marshal.Encode([]any{method, args})
	require.NoError(t, err)
	return d
}
