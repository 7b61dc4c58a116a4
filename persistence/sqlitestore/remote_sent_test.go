package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/persistence"
)

// The sent-export table commits, aborts and reopens like every table,
// lists a remote's refs by seq, and refuses a tampered row at open.
func TestSentRefs(t *testing.T) {
	ctx := context.Background()
	storeKinds(t, func(t *testing.T, open func(persistence.Options) *persistence.Store) {
		s := open(persistence.Options{})
		require.False(t, s.HasSentRefs())
		require.NoError(t, s.Begin())
		s.PutSentRef("r1", "ro-9", 7)
		s.PutSentRef("r1", "ro-2", 5)
		s.PutSentRef("r2", "ro-1", 1)
		_, err := s.Commit(ctx)
		require.NoError(t, err)
		mustVerify(t, s)
		require.Equal(t, []string{"ro-2", "ro-9"}, s.SentRefs("r1"), "by seq")
		require.Equal(t, []string{"r1", "r2"}, s.SentRemotes())
		require.True(t, s.HasSentRefs())
		require.NoError(t, s.Begin())
		s.DeleteSentRef("r1", "ro-2")
		s.PutSentRef("r1", "ro-9", 8)
		s.Abort()
		seq, ok := s.SentRef("r1", "ro-2")
		require.True(t, ok)
		require.Equal(t, uint64(5), seq)
		seq, _ = s.SentRef("r1", "ro-9")
		require.Equal(t, uint64(7), seq, "the abort dropped the new seq")
	})
	requireTamperRefused(t, "remote_sent", func(s *persistence.Store) { s.PutSentRef("r1", "ro-1", 1) },
		`UPDATE remote_sent SET ref = 'ro+1'`, `UPDATE remote_sent SET ref = 'rp-1'`, `UPDATE remote_sent SET seq = 0`)
}

// A store of schema version 5 (before the sent-export table) opens,
// keeps its rows, and is migrated: the new table is there, empty, and
// takes rows.
func TestOpenMigratesVersion5(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "k.db")
	db, err := sql.Open("sqlite3", path)
	require.NoError(t, err)
	_, err = db.Exec(strings.Join(migrations[:5], "\n"))
	require.NoError(t, err)
	_, err = db.Exec(fmt.Sprintf("PRAGMA user_version = 5; PRAGMA application_id = %d;", ApplicationID))
	require.NoError(t, err)
	_, err = db.Exec(`INSERT INTO remotes VALUES ('r1', ?, '127.0.0.1:4001', 'active', 3, 2, 4, 1, 7)`, peerA)
	require.NoError(t, err)
	_, err = db.Exec(`INSERT INTO remote_retired VALUES ('r1', 'rp+1', 'kp1', 2)`)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	s, err := Open(ctx, path, persistence.Options{})
	require.NoError(t, err)
	defer s.Close(ctx)
	r, ok := s.Remote("r1")
	require.True(t, ok)
	require.Equal(t, remoteRow(4, 1, 7), r)
	require.Equal(t, []string{"rp+1"}, s.RetiredRefs("r1"))
	require.False(t, s.HasSentRefs())
	require.NoError(t, s.Begin())
	s.PutSentRef("r1", "ro-1", 3)
	_, err = s.Commit(ctx)
	require.NoError(t, err)
	mustVerify(t, s)
	var version int
	require.NoError(t, sqlConn(t, s).QueryRowContext(ctx, "PRAGMA user_version").Scan(&version))
	require.Equal(t, SchemaVersion, version)
}
