package sqlitestore_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/kernel"
	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/persistence/sqlitestore"
)

// The WAL is checkpointed only when it holds thousands of pages, not at
// SQLite's default of 1000: commits that write well over 1000 pages leave
// a WAL file longer than 1000 pages (a checkpoint at 1000 would have
// started it again from the top, and it would stay at about 1000), and
// the store still reads back what they wrote.
func TestWALIsCheckpointedLate(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "k.db")
	st, k, pp, err := kt.OpenPingPong(ctx, path, persistence.Options{Synchronous: persistence.SyncNormal})
	require.NoError(t, err)
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	require.NoError(t, err)
	var pageSize int64
	require.NoError(t, db.QueryRowContext(ctx, "PRAGMA page_size").Scan(&pageSize))
	require.NoError(t, db.Close())
	const frame = 24 // a WAL frame's header, before its page
	limit := 1000 * (pageSize + frame)
	cranks := 0
	for {
		r, err := k.Crank(ctx, pp)
		require.NoError(t, err)
		require.Equal(t, kernel.Committed, r.Outcome)
		cranks++
		fi, err := os.Stat(path + "-wal")
		require.NoError(t, err)
		if fi.Size() > 2*limit {
			break
		}
		// About nine pages a crank: 1000 cranks are 9000 pages, past the
		// checkpoint of 8192, so a WAL that never grows past 2000 pages by
		// then is checkpointed early.
		require.Less(t, cranks, 1000, "the WAL stays under 2000 pages: it is checkpointed at 1000")
	}
	require.NoError(t, st.Close(ctx))
	st2, err := sqlitestore.Open(ctx, path, persistence.Options{})
	require.NoError(t, err)
	defer st2.Close(ctx)
	problems, err := kernel.Audit(ctx, st2)
	require.NoError(t, err)
	require.Empty(t, problems)
}
