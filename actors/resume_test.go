package actors_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/kernel"
)

// A vat whose config row does not parse makes Start fail, naming the vat,
// instead of resuming without it; mended, the store resumes with the vat
// and its state.
func TestResumeRefusesABadVatRow(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kernel.db")
	k, err := actors.Start(ctx, actors.Config{DBPath: path, Registry: counterRegistry()})
	require.NoError(t, err)
	res, err := k.LaunchSubcluster(ctx, counterCluster())
	require.NoError(t, err)
	_, err = k.QueueMessage(ctx, res.RootKref, "incr")
	require.NoError(t, err)
	require.NoError(t, k.Stop(ctx))
	id := res.VatIDs["counter"]

	setConfig := func(config string) {
		t.Helper()
		db, err := sql.Open("sqlite3", path)
		require.NoError(t, err)
		defer db.Close()
		r, err := db.Exec(`UPDATE vats SET config = ? WHERE vat_id = ?`, config, string(id))
		require.NoError(t, err)
		n, err := r.RowsAffected()
		require.NoError(t, err)
		require.Equal(t, int64(1), n)
	}
	setConfig(`{"bundle":`)
	_, err = actors.Start(ctx, actors.Config{DBPath: path, Registry: counterRegistry()})
	require.ErrorIs(t, err, kernel.ErrBadConfig)
	require.ErrorContains(t, err, "vat "+string(id))

	setConfig(`{"bundle":"counter"}`)
	k, err = actors.Start(ctx, actors.Config{DBPath: path, Registry: counterRegistry()})
	require.NoError(t, err)
	defer k.Stop(ctx)
	v, err := k.QueueMessage(ctx, res.RootKref, "incr")
	require.NoError(t, err)
	require.Equal(t, int64(2), v, "the vat resumed with its state")
}
